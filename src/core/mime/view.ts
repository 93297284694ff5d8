// The parsed view of a mail's tree: its human text, its report part and its returned original.
import type { Headers, MailPart, ParsedMail } from "../mail.js";
import { ENCLOSURE, HEADERS_ONLY, REPORT_PARTS } from "./content-type.js";
import { htmlToText } from "./html.js";
import { findInlineOriginal } from "./inline-original.js";

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
