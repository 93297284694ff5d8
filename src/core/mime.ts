// A light, bounded MIME scanner: raw bytes -> the parts the report parsers need (ParsedMail).
// Works on a "binary string" (one char per byte) with line endings normalised to LF; decodes only text leaves
// and enclosed messages, lazily decodes header values, and stops at fixed limits (depth, parts, header lines,
// decoded bytes) so that any input is parsed in bounded time and memory.
import { isAscii } from "node:buffer";
import { decodeCharset, decodeEncodedWords, hasHighBytes } from "./charset.js";
import type { Headers, MailPart, ParsedMail } from "./mail.js";

export interface MimeLimits {
  /** Deepest nesting of multiparts and enclosed messages that is parsed. */
  maxDepth: number;
  /** Most parts parsed in one mail (all levels). */
  maxParts: number;
  /** Most header lines read per header block. */
  maxHeaderLines: number;
  /** Most bytes of one text leaf that are decoded. */
  maxBodyBytes: number;
  /** Most bytes of the whole mail that are looked at. */
  maxMailBytes: number;
}

export const DEFAULT_LIMITS: MimeLimits = {
  maxDepth: 20,
  maxParts: 400,
  maxHeaderLines: 2000,
  maxBodyBytes: 512 * 1024,
  maxMailBytes: 32 * 1024 * 1024,
};

/**
 * The fields of one header block, kept as positions in the source until read: most fields of a mail (Received,
 * DKIM-Signature, ...) are never looked at, so their names and values are not cut out, unfolded or decoded.
 */
class HeaderList implements Headers {
  /** Lower-cased names, made on first need. */
  private names: string[] | undefined;
  /** Raw values (unfolded, trimmed, undecoded), made on first read of each. */
  private raws: (string | undefined)[] | undefined;
  /** Decoded values, made on first read of each. */
  private decoded: (string | undefined)[] | undefined;
  constructor(
    private readonly src: string,
    /** Four numbers per field: name start and end, value start and end (the value still folded). */
    private readonly spans: readonly number[],
    private readonly binary = true,
  ) {
    this.size = spans.length >> 2;
  }
  /** The number of fields. */
  readonly size: number;
  private name(i: number): string {
    const names = (this.names ??= new Array<string>(this.size));
    return (names[i] ??= this.src.slice(this.spans[4 * i]!, this.spans[4 * i + 1]!).toLowerCase());
  }
  /** Whether field `i` is named `lower` (lower-case), compared in place. */
  private named(i: number, lower: string): boolean {
    const start = this.spans[4 * i]!;
    if (this.spans[4 * i + 1]! - start !== lower.length) return false;
    for (let k = 0; k < lower.length; k++) {
      let c = this.src.charCodeAt(start + k);
      if (c >= 65 && c <= 90) c += 32;
      if (c !== lower.charCodeAt(k)) return false;
    }
    return true;
  }
  private rawValue(i: number): string {
    const raws = (this.raws ??= new Array<string | undefined>(this.size));
    let v = raws[i];
    if (v === undefined) {
      const start = this.spans[4 * i + 2]!;
      v = this.src.slice(start, Math.min(this.spans[4 * i + 3]!, start + MAX_HEADER_VALUE));
      if (v.includes("\n")) v = v.replace(/\n[ \t]*/g, " ");
      v = v.trim();
      raws[i] = v;
    }
    return v;
  }
  private value(i: number): string {
    const decoded = (this.decoded ??= new Array<string | undefined>(this.size));
    return (decoded[i] ??= decodeHeaderValue(this.rawValue(i), this.binary));
  }
  private indexOf(name: string): number {
    const lower = name.toLowerCase();
    for (let i = 0; i < this.size; i++) if (this.named(i, lower)) return i;
    return -1;
  }
  get(name: string): string | undefined {
    const i = this.indexOf(name);
    return i < 0 ? undefined : this.value(i);
  }
  getAll(name: string): string[] {
    const lower = name.toLowerCase();
    const out: string[] = [];
    for (let i = 0; i < this.size; i++) if (this.named(i, lower)) out.push(this.value(i));
    return out;
  }
  entries(): [string, string][] {
    const out: [string, string][] = [];
    for (let i = 0; i < this.size; i++) out.push([this.name(i), this.value(i)]);
    return out;
  }
  /**
   * The entries whose (lower-cased) name passes `keep`, decoding only those values. `prefixes` (lower-case), when
   * given, are what every name `keep` passes starts with: the other fields are passed over in place, without
   * their lower-cased names being made.
   */
  entriesWhere(keep: (name: string) => boolean, prefixes?: readonly string[]): [string, string][] {
    const out: [string, string][] = [];
    for (let i = 0; i < this.size; i++) {
      if (prefixes && !this.startsWithAny(i, prefixes)) continue;
      if (keep(this.name(i))) out.push([this.name(i), this.value(i)]);
    }
    return out;
  }
  /** Whether field `i`'s name starts with one of `prefixes` (lower-case), compared in place. */
  private startsWithAny(i: number, prefixes: readonly string[]): boolean {
    const start = this.spans[4 * i]!;
    const length = this.spans[4 * i + 1]! - start;
    for (const p of prefixes) {
      if (p.length > length) continue;
      let k = 0;
      for (; k < p.length; k++) {
        let c = this.src.charCodeAt(start + k);
        if (c >= 65 && c <= 90) c += 32;
        if (c !== p.charCodeAt(k)) break;
      }
      if (k === p.length) return true;
    }
    return false;
  }
  /**
   * Whether the text of some field named `name` (folded, undecoded) contains one of `words`: a cheap look for a
   * caller that would otherwise decode every such field to test it for words that decoding cannot make.
   */
  someRawIncludes(name: string, words: readonly string[]): boolean {
    const lower = name.toLowerCase();
    for (let i = 0; i < this.size; i++) {
      if (!this.named(i, lower)) continue;
      const text = this.src.slice(this.spans[4 * i + 2]!, this.spans[4 * i + 3]!);
      for (const w of words) if (text.includes(w)) return true;
    }
    return false;
  }
  /** The raw (undecoded, unfolded) value: for parameters such as boundaries. */
  raw(name: string): string | undefined {
    const i = this.indexOf(name);
    return i < 0 ? undefined : this.rawValue(i);
  }
}

const NO_SPANS: readonly number[] = [];

export const emptyHeaders = (): Headers => new HeaderList("", NO_SPANS);

function decodeHeaderValue(raw: string, binary: boolean): string {
  let v = raw;
  if (binary && hasHighBytes(v)) v = decodeCharset(v, "utf-8");
  if (v.includes("=?")) v = decodeEncodedWords(v);
  return v;
}

/**
 * Parse a header block (binary string, LF line endings) into a header list. Folded lines are unfolded; lines that
 * are not headers (junk) are skipped. Reads at most `maxLines` lines.
 */
export function parseHeaderBlock(
  block: string,
  maxLines = DEFAULT_LIMITS.maxHeaderLines,
  binary = true,
): HeaderList {
  return scanHeaders(block, 0, block.length, maxLines, binary);
}

/**
 * The spans of the header block being scanned (scanning is synchronous), copied out at its end at their exact
 * size: a list grown field by field was some 7% of the bytes classify() allocated. A plain array of small integers
 * rather than an Int32Array: a typed array's copy of a hundred numbers has its own off-heap store (an allocation
 * outside the heap, freed by the collector), and slicing it cost four times as much.
 */
const scratch: number[] = [];

/**
 * Where the last scan `toBlank` found the empty line that ends the header block (the position of the `\n\n`):
 * -1 when there is none before the end, NOT_LOOKED when the scan stopped before it (too many fields).
 */
let blankFound = -1;
const NOT_LOOKED = -2;

/**
 * The header fields of `src` between `start` and `end`, line by line (a hand-written scanner: this runs for every
 * header block of every mail). A field is `name: value` with a name of printable ASCII but `:`; it continues on
 * the following lines that are indented, or that are not empty and do not start a field themselves (some MTAs
 * fold without indenting: `boundary=...` on its own line). An empty line ends a field; lines outside a field are
 * junk and skipped. Stops after `maxLines` fields. `toBlank`: `end` is the entity's, and the block ends at the first
 * empty line (its `\n\n` is left in blankFound): one walk over the lines rather than a search for the empty line
 * and then a walk up to it.
 */
function scanHeaders(
  src: string,
  start: number,
  end: number,
  maxLines: number,
  binary: boolean,
  toBlank = false,
): HeaderList {
  let n = 0;
  // Whether a field is open (its value may continue on the next line).
  let open = false;
  let pos = start;
  blankFound = -1;
  while (pos <= end) {
    let eol = src.indexOf("\n", pos);
    if (toBlank && eol === pos && pos > start) {
      blankFound = pos - 1;
      break;
    }
    if (eol < 0 || eol > end) eol = end;
    const colon = fieldColon(src, pos, eol);
    if (colon >= 0) {
      if (n >= 4 * maxLines) {
        if (toBlank) blankFound = NOT_LOOKED;
        break;
      }
      let nameEnd = colon;
      while (nameEnd > pos && isBlank(src.charCodeAt(nameEnd - 1))) nameEnd--;
      let valueStart = colon + 1;
      while (valueStart < eol && isBlank(src.charCodeAt(valueStart))) valueStart++;
      scratch[n++] = pos;
      scratch[n++] = nameEnd;
      scratch[n++] = valueStart;
      scratch[n++] = eol;
      open = true;
    } else if (open) {
      if (eol > pos) scratch[n - 1] = eol;
      else open = false;
    }
    if (eol >= end) break;
    pos = eol + 1;
  }
  return new HeaderList(src, n === 0 ? NO_SPANS : scratch.slice(0, n), binary);
}

const isBlank = (c: number): boolean => c === 32 || c === 9;

/** The colon of a field line `name[ \t]*:` starting at `pos`, else -1. */
function fieldColon(src: string, pos: number, eol: number): number {
  let i = pos;
  while (i < eol) {
    const c = src.charCodeAt(i);
    if (c < 0x21 || c > 0x7e || c === 0x3a) break;
    i++;
  }
  if (i === pos) return -1;
  while (i < eol && isBlank(src.charCodeAt(i))) i++;
  return i < eol && src.charCodeAt(i) === 0x3a ? i : -1;
}

const MAX_HEADER_VALUE = 65536;

/** Split `type/subtype; a=b; c="d"` into a lower-cased type and lower-cased parameter names. */
export function parseContentType(value: string | undefined): {
  type: string;
  params: Record<string, string>;
} {
  const params: Record<string, string> = {};
  if (!value) return { type: "text/plain", params };
  const semi = value.indexOf(";");
  let type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  let rest = semi >= 0 ? value.slice(semi + 1) : undefined;
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type)) {
    // Folded without `;` (`text/plain charset=...`): the type is the first word, the rest its parameters.
    const folded = /^\s*([a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+)\s+([^\s=]+\s*=[^]*)$/i.exec(
      semi < 0 ? value : value.slice(0, semi),
    );
    if (folded) {
      type = folded[1]!.toLowerCase();
      rest = folded[2]! + (semi >= 0 ? ";" + value.slice(semi + 1) : "");
    } else type = type.includes("/") ? type.replace(/\s+/g, "") : "text/plain";
  }
  if (rest !== undefined) parseParams(rest, params);
  return { type, params };
}

const PARAM = /\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"?|[^;]*)\s*;?/y;

function parseParams(s: string, out: Record<string, string>): void {
  PARAM.lastIndex = 0;
  let continued: Record<string, string[]> | undefined;
  let guard = 0;
  while (PARAM.lastIndex < s.length && guard++ < 64) {
    const start = PARAM.lastIndex;
    const m = PARAM.exec(s);
    if (!m) {
      const next = s.indexOf(";", start);
      if (next < 0) break;
      PARAM.lastIndex = next + 1;
      continue;
    }
    const name = m[1]!.toLowerCase();
    let v = m[2]!.trim();
    if (v.startsWith('"')) {
      v = v.slice(1, v.endsWith('"') && v.length > 1 ? -1 : undefined);
      if (v.includes("\\")) v = v.replace(/\\(.)/g, "$1");
    }
    const cont = name.includes("*") ? /^(.+?)\*(\d+)?\*?$/.exec(name) : null;
    if (cont) {
      const base = cont[1]!;
      ((continued ??= {})[base] ??= []).push(v);
    } else if (out[name] === undefined) out[name] = v;
  }
  if (continued) joinContinuations(continued, out);
}

/** RFC 2231 parameter continuations (`name*0=`, `name*1*=`) and their charset'lang'%xx encoding. */
function joinContinuations(continued: Record<string, string[]>, out: Record<string, string>): void {
  for (const [name, pieces] of Object.entries(continued)) {
    let v = pieces.join("");
    const ext = /^([^']*)'[^']*'(.*)$/.exec(v);
    if (ext) {
      try {
        v = decodeCharset(
          Buffer.from(decodeURIComponent(ext[2]!.replace(/%(?![0-9a-fA-F]{2})/g, "%25")), "utf8").toString(
            "latin1",
          ),
          ext[1] || "utf-8",
        );
      } catch {
        v = ext[2]!;
      }
    }
    if (!(name in out)) out[name] = v;
  }
}

/** Quoted-printable (binary string in, binary string out): `=XX` escapes and `=` soft line breaks. */
export function decodeQuotedPrintable(s: string): string {
  let at = s.indexOf("=");
  if (at < 0) return s;
  // A scan from one `=` to the next: the text between them is copied as it is.
  let out = "";
  let from = 0;
  while (at >= 0) {
    let k = at + 1;
    while (isBlank(s.charCodeAt(k))) k++;
    if (s.charCodeAt(k) === 10) {
      out += s.slice(from, at);
      from = k + 1;
    } else {
      const hi = hexValue(s.charCodeAt(at + 1));
      const lo = hi < 0 ? -1 : hexValue(s.charCodeAt(at + 2));
      if (lo < 0) {
        at = s.indexOf("=", at + 1);
        continue;
      }
      out += s.slice(from, at) + String.fromCharCode(hi * 16 + lo);
      from = at + 3;
    }
    at = s.indexOf("=", from);
  }
  return out + s.slice(from);
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Base64 (binary string in, binary string out); tolerant of junk and missing padding. */
export function decodeBase64(s: string): string {
  return Buffer.from(s.replace(/[^A-Za-z0-9+/]/g, ""), "base64").toString("latin1");
}

function decodeTransfer(body: string, cte: string | undefined): string {
  const enc = (cte ?? "").trim().toLowerCase();
  if (enc === "base64") return decodeBase64(body);
  if (enc === "quoted-printable") return decodeQuotedPrintable(body);
  return body;
}

/** Enclosed messages: parsed as one sub-part. */
const ENCLOSURE = new Set(["message/rfc822", "message/global", "message/rfc2822", "message/partial"]);
const HEADERS_ONLY = new Set(["text/rfc822-headers", "message/global-headers", "text/rfc822-header"]);
const REPORT_PARTS = new Set([
  "message/delivery-status",
  "message/global-delivery-status",
  "message/feedback-report",
  "message/disposition-notification",
  "message/global-disposition-notification",
]);

interface Budget {
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

function isTransferEncoded(cte: string): boolean {
  const enc = cte.trim().toLowerCase();
  return enc === "base64" || enc === "quoted-printable";
}

function isTextual(type: string): boolean {
  return type.startsWith("text/") || REPORT_PARTS.has(type) || type === "message/external-body";
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
function parseEntity(
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
    headers = scanHeaders(src, start, end, budget.limits.maxHeaderLines, binary, true);
    const blank = blankFound === NOT_LOOKED ? src.indexOf("\n\n", start) : blankFound;
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

/** CRLF and CR-only line endings to LF. */
export function normaliseNewlines(s: string): string {
  if (!s.includes("\r")) return s;
  // split/join rather than replaceAll (as fast, and far faster than a regex): replaceAll builds its result as a
  // chain of concatenations that is flattened on first read and stays a cons string, so that every later read of
  // a character of the mail went through it; join makes one flat string.
  const lf = s.split("\r\n").join("\n");
  return lf.includes("\r") ? lf.split("\r").join("\n") : lf;
}

/** Raw input -> binary string with LF line endings, capped in size. */
export function toBinaryString(raw: Buffer | string, maxBytes = DEFAULT_LIMITS.maxMailBytes): string {
  let s: string;
  if (typeof raw === "string") {
    // Strings from callers are text: re-encode non-ASCII as UTF-8 bytes so that charset decoding sees bytes.
    s = hasHighBytes(raw) ? Buffer.from(raw, "utf8").toString("latin1") : raw;
  } else s = (raw.length > maxBytes ? raw.subarray(0, maxBytes) : raw).toString("latin1");
  if (s.length > maxBytes) s = s.slice(0, maxBytes);
  s = normaliseNewlines(s);
  // A leading mbox "From " line is not a header.
  if (s.startsWith("From ")) {
    const nl = s.indexOf("\n");
    s = nl < 0 ? "" : s.slice(nl + 1);
  }
  return s;
}

/**
 * Strip HTML to text (good enough to read a bounce's words). Linear in the HTML's length: the blocks and tags are
 * cut by scans that never look at a character twice (patterns that did, `<[^>]*>` from every `<` of a run with no
 * `>`, `[ \t]+\n` from every space of a long run, took seconds on 60 KB).
 */
export function htmlToText(html: string): string {
  return stripTags(dropBlocks(html))
    .replace(/&nbsp;/gi, " ")
    .replace(/&lt;/gi, "<")
    .replace(/&gt;/gi, ">")
    .replace(/&quot;/gi, '"')
    .replace(/&#(\d+);/g, (_m, d: string) => String.fromCodePoint(Math.min(Number(d), 0x10ffff)))
    .replace(/&amp;/gi, "&")
    .replace(/(?<![\t ])[\t ]+\n/g, "\n")
    .replace(/\n{3,}/g, "\n\n");
}

const BLOCK_OPEN = /<(script|style|head)/gi;
const BLOCK_CLOSE: Record<string, RegExp> = {
  script: /<\/script\s*>/gi,
  style: /<\/style\s*>/gi,
  head: /<\/head\s*>/gi,
};

/**
 * `<script>`, `<style>` and `<head>` blocks, each to its closing tag, to one space. Where a block has no closing
 * tag it is left, as is every later opening of the same name (none of them has one either): each close is
 * searched for once per position it is found at, not once per opening.
 */
function dropBlocks(html: string): string {
  if (!html.includes("<")) return html;
  const closeAt: Record<string, { from: number; at: number; end: number }> = {};
  let out = "";
  let pos = 0;
  BLOCK_OPEN.lastIndex = 0;
  for (let m = BLOCK_OPEN.exec(html); m; m = BLOCK_OPEN.exec(html)) {
    const name = m[1]!.toLowerCase();
    let c = closeAt[name];
    if (!c || (c.at >= 0 && c.at < m.index + m[0].length)) {
      const re = BLOCK_CLOSE[name]!;
      re.lastIndex = m.index + m[0].length;
      const close = re.exec(html);
      c = {
        from: re.lastIndex,
        at: close ? close.index : -1,
        end: close ? close.index + close[0].length : -1,
      };
      closeAt[name] = c;
    }
    if (c.at < 0) continue;
    out += html.slice(pos, m.index) + " ";
    pos = c.end;
    BLOCK_OPEN.lastIndex = pos;
  }
  return pos === 0 ? html : out + html.slice(pos);
}

const LINE_TAGS = /^(?:br\s*\/?|\/(?:p|div|tr|li|h\d|table))>/i;
const CELL_END = /^\/t[dh]\s*>/i;

/** Tags dropped (a `<` to the next `>`), and the line-breaking ones (`<br>`, `</p>`, ...) made newlines. */
function stripTags(html: string): string {
  let out = "";
  let pos = 0;
  for (let lt = html.indexOf("<"); lt >= 0; lt = html.indexOf("<", pos)) {
    const gt = html.indexOf(">", lt);
    if (gt < 0) break;
    out += html.slice(pos, lt);
    const tag = html.slice(lt + 1, gt + 1);
    if (LINE_TAGS.test(tag)) out += "\n";
    // a table cell ends with a tab, so a row of an NDR's table reads `addr<TAB>reason`
    else if (CELL_END.test(tag)) out += "\t";
    pos = gt + 1;
  }
  return pos === 0 ? html : out + html.slice(pos);
}

/** Parse a raw mail. Pure and bounded; throws only on internal errors (classify() catches them). */
export function parseMail(raw: Buffer | string, limits: MimeLimits = DEFAULT_LIMITS): ParsedMail {
  const src = toBinaryString(raw, limits.maxMailBytes);
  const ascii =
    typeof raw === "string"
      ? !hasHighBytes(src)
      : isAscii(raw.length > limits.maxMailBytes ? raw.subarray(0, limits.maxMailBytes) : raw);
  const budget: Budget = { parts: 0, limits, ascii: ascii ? [src] : [] };
  return mailOf(parseEntity(src, 0, src.length, 0, budget));
}

/** The parsed view of an entity: of the whole mail, or of a message enclosed in it (a forwarded bounce). */
export function mailOf(root: MailPart): ParsedMail {
  const found = survey(root);
  const mail = new MailView(root.headers, root, found.text);
  if (found.reportType) mail.reportType = found.reportType;
  if (found.statusText !== undefined) mail.statusText = found.statusText;
  if (found.original) {
    mail.originalHeaders = found.original.headers;
    mail.originalFrom(found.original);
  } else {
    const inline = findInlineOriginal(found.text);
    if (inline) {
      mail.originalHeaders = inline.headers;
      if (inline.body) mail.originalBody = inline.body;
    }
  }
  return mail;
}

/** A ParsedMail whose returned original's body is read on demand: decoding the original's text is rarely needed. */
class MailView implements ParsedMail {
  declare reportType?: string;
  declare statusText?: string;
  declare originalHeaders?: Headers;
  private original: MailPart | undefined;
  private originalText: string | undefined;
  constructor(
    public headers: Headers,
    public root: MailPart,
    public text: string,
  ) {}
  /** The body comes from this enclosed part, when first read. */
  originalFrom(part: MailPart): void {
    this.original = part;
  }
  get originalBody(): string | undefined {
    if (this.original) {
      this.originalText = originalBodyOf(this.original);
      this.original = undefined;
    }
    return this.originalText;
  }
  set originalBody(v: string | undefined) {
    this.original = undefined;
    this.originalText = v;
  }
}

/** The first message enclosed in the mail (message/rfc822 or message/global), outside any report part. */
export function enclosedMessage(mail: ParsedMail): MailPart | undefined {
  const walk = (p: MailPart, depth: number): MailPart | undefined => {
    if (depth > 8) return undefined;
    if (ENCLOSURE.has(p.contentType)) return p.parts[0];
    for (const c of p.parts) {
      const hit = walk(c, depth + 1);
      if (hit) return hit;
    }
    return undefined;
  };
  return walk(mail.root, 0);
}

interface Survey {
  text: string;
  reportType?: string;
  statusText?: string;
  original?: MailPart;
}

/** Walk the tree (not into enclosed messages) to find the human text, the report part and the returned original. */
function survey(root: MailPart): Survey {
  const out: Survey = { text: "" };
  let html: string | undefined;
  const texts: string[] = [];
  const walk = (p: MailPart, depth: number): void => {
    if (depth > 64) return;
    const t = p.contentType;
    if (t === "multipart/report" && !out.reportType)
      out.reportType = (p.params["report-type"] ?? "").toLowerCase() || undefined;
    if (t.startsWith("multipart/")) {
      for (const c of p.parts) walk(c, depth + 1);
      return;
    }
    if (REPORT_PARTS.has(t) || t === "text/delivery-status") {
      if (out.statusText === undefined) {
        out.statusText = p.body;
        if (!out.reportType)
          out.reportType = t.includes("feedback")
            ? "feedback-report"
            : t.includes("disposition")
              ? "disposition-notification"
              : "delivery-status";
      }
      return;
    }
    if (ENCLOSURE.has(t) || HEADERS_ONLY.has(t)) {
      if (!out.original && p.parts[0]) out.original = p.parts[0];
      return;
    }
    if (t === "text/plain" || t === "text/enriched") {
      if (p.headers.get("content-disposition")?.toLowerCase().startsWith("attachment") && texts.length > 0)
        return;
      if (texts.length < 4) texts.push(p.body);
      return;
    }
    if (t === "text/html" && html === undefined) html = p.body;
  };
  walk(root, 0);
  if (!root.contentType.startsWith("multipart/") && !ENCLOSURE.has(root.contentType)) {
    out.text = root.contentType === "text/html" ? htmlToText(root.body) : root.body;
  } else {
    out.text = texts.length > 0 ? texts.join("\n") : html !== undefined ? htmlToText(html) : "";
  }
  // A report part sent as text/plain (second part of a multipart/report) still holds the fields.
  if (out.statusText === undefined && root.contentType === "multipart/report") {
    const second = root.parts[1];
    if (
      second &&
      second.contentType.startsWith("text/") &&
      /^(final-recipient|original-recipient|feedback-type|reporting-mta)\s*:/im.test(second.body)
    )
      out.statusText = second.body;
  }
  return out;
}

function originalBodyOf(p: MailPart): string | undefined {
  if (p.body) return p.body;
  const leaf = (q: MailPart, d: number): string | undefined => {
    if (d > 8) return undefined;
    if (!q.contentType.startsWith("multipart/")) return q.body || undefined;
    for (const c of q.parts) {
      const b = leaf(c, d + 1);
      if (b) return b;
    }
    return undefined;
  };
  return leaf(p, 0);
}

const INLINE_NAMES = String.raw`return-path|received|from|to|subject|date|message-id|x-[\w-]+|dkim-signature|mime-version|content-type|reply-to|cc|list-[\w-]+|feedback-id|delivered-to|authentication-results|errors-to|sender`;
const INLINE_HEADER = new RegExp(`^(${INLINE_NAMES})[ \\t]*:`, "i");

/**
 * An original message quoted in the text of a plain bounce: the first run of at least two header lines (one of them
 * From, To, Subject, Message-ID or Return-Path), possibly indented.
 */
const INLINE_HINT = /^[ \t>]*(?:from|to|subject|message-id|return-path)[ \t]*:/im;
/**
 * INLINE_HINT without its `^`, tried at one line start; and the same for a line that may start a quoted header
 * block (a known name after quote marks or indentation).
 */
const INLINE_HINT_AT = /[ \t>]*(?:from|to|subject|message-id|return-path)[ \t]*:/iy;
const INLINE_START_AT = new RegExp(`[ \\t>]*(?:${INLINE_NAMES})[ \\t]*:`, "iy");

/**
 * `INLINE_HINT.test(text)`, line by line: a multi-line regex looks at every character of the text for a line
 * start, a walk from one LF to the next looks at line starts only. Texts with other line breaks (rare: mime.ts
 * normalises CR) are left to the regex.
 */
function hasInlineHint(text: string): boolean {
  if (text.includes("\r") || text.includes("\u2028") || text.includes("\u2029"))
    return INLINE_HINT.test(text);
  for (let p = 0; p < text.length;) {
    INLINE_HINT_AT.lastIndex = p;
    if (INLINE_HINT_AT.test(text)) return true;
    const eol = text.indexOf("\n", p);
    if (eol < 0) break;
    p = eol + 1;
  }
  // `^` matches at the very end too (after a final LF), where nothing follows to match.
  return false;
}

const MAX_INLINE_CHARS = 65536;
const MAX_INLINE_LINES = 5000;

/**
 * Looks at the first 5,000 lines of the first 64 KiB of the text. Walks line positions instead of splitting the
 * text into lines: only the lines from a candidate start on are looked at one by one.
 */
export function findInlineOriginal(text: string): { headers: Headers; body?: string } | undefined {
  if (!text || !hasInlineHint(text)) return undefined;
  const src = text.length > MAX_INLINE_CHARS ? text.slice(0, MAX_INLINE_CHARS) : text;
  const limit = endOfLines(src, MAX_INLINE_LINES);
  let from = 0;
  for (;;) {
    const first = nextInlineStart(src, from, limit);
    if (first < 0) return undefined;
    let count = 0;
    let key = false;
    const block: string[] = [];
    // The line that ends the run (start and end), or -1 when the run reaches the last line.
    let stop = -1;
    let stopEnd = -1;
    for (let pos = first; ;) {
      const eol = lineEnd(src, pos, limit);
      const raw = src.slice(pos, eol);
      const l = raw.replace(/^(> ?|\s{1,8})(?=[!-9;-~]+:)/, "");
      if (INLINE_HEADER.test(l) || /^[!-9;-~]+:\s/.test(l)) {
        block.push(l);
        count++;
        if (/^(from|to|subject|message-id|return-path)\s*:/i.test(l)) key = true;
      } else if (/^[ \t]+\S/.test(raw) && block.length > 0) block.push(" " + raw.trim());
      else {
        stop = pos;
        stopEnd = eol;
        break;
      }
      if (eol >= limit) break;
      pos = eol + 1;
    }
    if (count >= 2 && key) {
      const headers = parseHeaderBlock(block.join("\n"), DEFAULT_LIMITS.maxHeaderLines, false);
      // The body: up to 199 lines after the line that ended the headers (usually the empty line).
      let rest = "";
      if (stop >= 0) {
        let restEnd = stopEnd;
        let n = 0;
        while (n < 199 && restEnd < limit) {
          restEnd = lineEnd(src, restEnd + 1, limit);
          n++;
        }
        if (n > 0) rest = src.slice(stopEnd + 1, restEnd);
      }
      return { headers, ...(rest.trim() ? { body: rest } : {}) };
    }
    // The line that ended the run is not looked at again as a start.
    if (stop < 0 || stopEnd >= limit) return undefined;
    from = stopEnd + 1;
  }
}

/** Where the first `n` lines of `s` end (the position of the n-th line feed), or the end of `s`. */
function endOfLines(s: string, n: number): number {
  if (s.length < n) return s.length;
  let pos = -1;
  for (let k = 0; k < n; k++) {
    pos = s.indexOf("\n", pos + 1);
    if (pos < 0) return s.length;
  }
  return pos;
}

function lineEnd(s: string, pos: number, limit: number): number {
  const e = s.indexOf("\n", pos);
  return e < 0 || e > limit ? limit : e;
}

/** The start of the next line at or after `from` (and before `limit`) that may start a quoted header block. */
function nextInlineStart(s: string, from: number, limit: number): number {
  // Only real line starts (after a line feed) count: a walk over them, each tried with the sticky pattern.
  let p = from;
  if (p > 0 && s.charCodeAt(p - 1) !== 10) {
    const nl = s.indexOf("\n", p);
    if (nl < 0) return -1;
    p = nl + 1;
  }
  for (;;) {
    if (p > limit) return -1;
    INLINE_START_AT.lastIndex = p;
    if (INLINE_START_AT.test(s)) return p;
    const eol = s.indexOf("\n", p);
    if (eol < 0) return -1;
    p = eol + 1;
  }
}
