// Entities and multiparts: the tree of parts of a mail, decoded lazily and within the limits.
import { decodeCharset } from "../charset.js";
import type { Headers, MailPart } from "../mail.js";
import { ENCLOSURE, HEADERS_ONLY, isTextual, parseContentType } from "./content-type.js";
import { HeaderList, NO_SPANS, scanHeaderBlock, scanHeaders } from "./headers.js";
import type { MimeLimits } from "./limits.js";
import { decodeTransfer, isTransferEncoded, normaliseNewlines } from "./transfer.js";

export interface Budget {
  parts: number;
  readonly limits: MimeLimits;
  /**
   * The source strings known to hold no byte above 0x7f: the mail's own when it has none (one look at the raw
   * bytes), and enclosures cut from such a source. Their header values and undecoded bodies need no search for
   * high bytes before charset decoding.
   */
  readonly ascii: string[];
}

/** Whether the text of `src` from `start` on, not transfer-decoded (`cte`), is known to be ASCII. */
function asciiIn(budget: Budget, src: string, cte?: string): boolean {
  if (cte !== undefined && isTransferEncoded(cte)) return false;
  return budget.ascii.includes(src);
}

/**
 * One entity of the tree. Its body and sub-parts may be filled on first read: a text leaf is decoded only when its
 * body is read, and an enclosed message's structure is parsed only when its parts or body are read (its headers
 * are what is read most of the time). Getters on a class rather than per-object property definitions: one shape
 * for every part, and no closures but the one doing the deferred work.
 */
class Part implements MailPart {
  private text = "";
  private children: MailPart[] = [];
  /** Decodes the body on first read. */
  private decode: (() => string) | undefined;
  /** Parses the structure (parts, body) on first read. */
  private expand: (() => void) | undefined;
  /** A binary leaf's content, transfer-decoded when asked for. */
  private binaryContent: (() => string) | undefined;
  constructor(
    public headers: Headers,
    public contentType: string,
    public params: Record<string, string>,
  ) {}
  get body(): string {
    this.load();
    return this.text;
  }
  set body(v: string) {
    this.load();
    this.text = v;
  }
  get parts(): MailPart[] {
    this.load();
    return this.children;
  }
  set parts(v: MailPart[]) {
    this.load();
    this.children = v;
  }
  deferBody(decode: () => string): void {
    this.decode = decode;
  }
  deferStructure(expand: () => void): void {
    this.expand = expand;
  }
  deferContent(decode: () => string): void {
    this.binaryContent = decode;
  }
  content(): string {
    return this.binaryContent?.() ?? "";
  }
  private load(): void {
    if (this.expand) {
      const expand = this.expand;
      this.expand = undefined;
      expand();
    }
    if (this.decode) {
      const decode = this.decode;
      this.decode = undefined;
      this.text = decode();
    }
  }
}

/** Parse one entity (headers + body) of `src` between `start` and `end`. */
export function parseEntity(
  src: string,
  start: number,
  end: number,
  depth: number,
  budget: Budget,
  fallbackType = "text/plain",
  lazy = false,
): MailPart {
  budget.parts++;
  // Header/body split: the first empty line. An entity that starts with an empty line has no headers.
  let headerEnd: number;
  let bodyStart: number;
  let headers: HeaderList;
  const binary = !asciiIn(budget, src);
  if (src.charCodeAt(start) === 10) {
    headerEnd = start;
    bodyStart = start + 1;
    headers = scanHeaders(src, start, headerEnd, budget.limits.maxHeaderLines, binary);
  } else {
    // The fields up to the first empty line, which the same walk finds.
    const block = scanHeaderBlock(src, start, end, budget.limits.maxHeaderLines, binary);
    headers = block.headers;
    const blank = block.blank;
    if (blank < 0 || blank >= end) {
      headerEnd = end;
      bodyStart = end;
    } else {
      headerEnd = blank;
      bodyStart = blank + 2;
    }
  }
  // Not a header block at all (an inline message that starts with text): treat everything as body.
  if (headers.size === 0 && headerEnd > start) {
    headers = new HeaderList(src, NO_SPANS);
    bodyStart = start;
  }
  const ctRaw = headers.raw("content-type");
  const { type: parsedType, params } = parseContentType(ctRaw);
  const type = ctRaw ? parsedType : fallbackType;
  const part = new Part(headers, type, params);
  if (
    lazy &&
    depth < budget.limits.maxDepth &&
    budget.parts < budget.limits.maxParts &&
    (type.startsWith("multipart/") || ENCLOSURE.has(type))
  )
    part.deferStructure(() => fillEntity(part, headers, src, bodyStart, end, depth, budget));
  else fillEntity(part, headers, src, bodyStart, end, depth, budget);
  return part;
}

/** The body and sub-parts of an entity whose headers are read, by its content type. */
function fillEntity(
  part: Part,
  headers: HeaderList,
  src: string,
  bodyStart: number,
  end: number,
  depth: number,
  budget: Budget,
): void {
  const { contentType: type, params } = part;
  const canNest = depth < budget.limits.maxDepth && budget.parts < budget.limits.maxParts;
  if (type.startsWith("multipart/")) {
    const boundary = params["boundary"];
    if (boundary && canNest) {
      const childType = type === "multipart/digest" ? "message/rfc822" : "text/plain";
      part.parts = splitMultipart(src, bodyStart, end, boundary, depth, budget, childType);
      if (part.parts.length > 0) return;
      // The declared boundary matches nothing: use the one on the first `--xyz` line of the body.
      const found = /^--([!-~](?:[ -~]{0,68}[!-~])?)[ \t]*$/m.exec(
        src.slice(bodyStart, Math.min(end, bodyStart + 65536)),
      )?.[1];
      if (found && found !== boundary) {
        part.parts = splitMultipart(src, bodyStart, end, found, depth, budget, childType);
        if (part.parts.length > 0) return;
      }
    }
    // A multipart without a usable boundary: keep its text so that nothing is lost.
    part.body = src.slice(bodyStart, Math.min(end, bodyStart + budget.limits.maxBodyBytes));
    return;
  }
  const cte = headers.raw("content-transfer-encoding");
  if (ENCLOSURE.has(type) || HEADERS_ONLY.has(type)) {
    const headersOnly = HEADERS_ONLY.has(type);
    const limit = Math.min(
      end,
      bodyStart + (headersOnly ? budget.limits.maxBodyBytes : budget.limits.maxMailBytes),
    );
    let inner = src.slice(bodyStart, limit);
    const ascii = asciiIn(budget, src, cte ?? "");
    if (isTransferEncoded(cte ?? "")) inner = normaliseNewlines(decodeTransfer(inner, cte));
    // Some MTAs indent or prefix an empty line before the enclosed headers.
    const lead = /^[ \t]*\n/.exec(inner);
    if (lead && /^[ \t]*\n[!-9;-~]+:/.test(inner)) inner = inner.slice(lead[0].length);
    if (ascii) budget.ascii.push(inner);
    // The enclosed message's text lives in its own parts; only a headers-only enclosure keeps its text here.
    if (headersOnly) part.body = textOf(inner, params["charset"] ?? "utf-8", ascii);
    if (canNest) {
      const sub = headersOnly
        ? headersOnlyPart(inner, budget, ascii)
        : parseEntity(inner, 0, inner.length, depth + 1, budget, "text/plain", true);
      part.parts = [sub];
    }
    return;
  }
  if (isTextual(type)) {
    const raw = src.slice(bodyStart, Math.min(end, bodyStart + budget.limits.maxBodyBytes));
    let charset = params["charset"];
    if (type === "message/global-delivery-status") charset ??= "utf-8";
    const ascii = asciiIn(budget, src, cte ?? "");
    // Decoded on first read: most leaves of a returned original are never looked at.
    part.deferBody(() => textOf(decodeTransfer(raw, cte), charset, ascii));
    // An XML attachment (a DMARC report) may be longer than a text leaf's cap: its whole content on request.
    if (type === "text/xml") binaryLeaf(part, src, bodyStart, end, cte, budget);
    return;
  }
  binaryLeaf(part, src, bodyStart, end, cte, budget);
}

/** A binary leaf: its bytes only when asked for (aggregate-reports.ts reads report attachments). */
function binaryLeaf(
  part: Part,
  src: string,
  bodyStart: number,
  end: number,
  cte: string | undefined,
  budget: Budget,
): void {
  const raw = src.slice(bodyStart, Math.min(end, bodyStart + budget.limits.maxMailBytes));
  part.deferContent(() => decodeTransfer(raw, cte));
}

function headersOnlyPart(inner: string, budget: Budget, ascii: boolean): MailPart {
  budget.parts++;
  const blank = inner.indexOf("\n\n");
  const end = blank < 0 ? inner.length : blank;
  const headers = scanHeaders(inner, 0, end, budget.limits.maxHeaderLines, !ascii);
  const { type, params } = parseContentType(headers.raw("content-type"));
  return new Part(headers, type, params);
}

function textOf(binary: string, charset: string | undefined, ascii = false): string {
  const text = decodeCharset(binary, charset, ascii);
  return text.includes("\r") ? normaliseNewlines(text) : text;
}

function splitMultipart(
  src: string,
  start: number,
  end: number,
  boundary: string,
  depth: number,
  budget: Budget,
  childType: string,
): MailPart[] {
  const delim = "--" + boundary;
  const parts: MailPart[] = [];
  // Find the first delimiter line.
  let pos = findDelimiter(src, start, end, delim);
  if (pos < 0) return parts;
  let guard = 0;
  while (pos >= 0 && pos < end && guard++ < budget.limits.maxParts) {
    const afterDelim = pos + delim.length;
    if (src.startsWith("--", afterDelim)) break; // closing delimiter
    let lineEnd = src.indexOf("\n", afterDelim);
    if (lineEnd < 0 || lineEnd >= end) break;
    const partStart = lineEnd + 1;
    const next = findDelimiter(src, partStart, end, delim);
    // The CRLF/LF before the next delimiter belongs to the delimiter.
    let partEnd = next < 0 ? end : next;
    if (next >= 0 && partEnd > partStart && src.charCodeAt(partEnd - 1) === 10) partEnd--;
    if (budget.parts >= budget.limits.maxParts) break;
    parts.push(parseEntity(src, partStart, partEnd, depth + 1, budget, childType));
    if (next < 0) break;
    pos = next;
    lineEnd = 0;
  }
  return parts;
}

/** Position of the next delimiter line `--boundary` (at a line start) in [from, end), or -1. */
function findDelimiter(src: string, from: number, end: number, delim: string): number {
  let i = from;
  while (i < end) {
    const at = src.indexOf(delim, i);
    if (at < 0 || at >= end) return -1;
    if (at === 0 || src.charCodeAt(at - 1) === 10) return at;
    i = at + delim.length;
  }
  return -1;
}
