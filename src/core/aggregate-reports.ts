// DMARC aggregate reports (RFC 7489 §7.2, RFC 9990) and SMTP TLS reports (RFC 8460) among the mails sent to the
// bounce domain: recognised by their attachment (media type, else file name), unpacked with bounded output
// (unpack.ts) and parsed (dmarc.ts, tlsrpt.ts). A mail whose attachment turns out to be something else is left to
// the other steps of classify(); one that is a report by its own signs (the RFC's file name, subject or headers)
// but cannot be read (a zip bomb, XML too large or too deep, broken archive) is still that kind, refused with the
// reason in `error`: its raw mail is kept like any other, so nothing is lost.
import { decodeCharset } from "./charset.js";
import { DmarcError, looksLikeDmarcXml, parseDmarcAggregate, type DmarcAggregate } from "./dmarc.js";
import type { MailPart, ParsedMail } from "./mail.js";
import { parseTlsReport, TlsReportError, type TlsReport } from "./tlsrpt.js";
import { unpack, UnpackError } from "./unpack.js";

export type AggregateKind = "dmarc_report" | "tls_report";

export interface AttachmentRule {
  id: string;
  kind: AggregateKind;
  /** The example the rule is written for (a media type, or a file name). */
  example: string;
  test: (contentType: string, filename: string) => boolean;
}

const GZIP_TYPES = new Set(["application/gzip", "application/x-gzip", "application/gzip-compressed"]);
const ZIP_TYPES = new Set(["application/zip", "application/x-zip-compressed", "application/x-zip"]);
const XML_TYPES = new Set(["text/xml", "application/xml"]);
const GENERIC_TYPES = new Set(["application/octet-stream", "application/x-gzip-compressed"]);

/** The media types of the leaves worth a closer look (every rule's types). */
const CANDIDATE_TYPES = new Set([
  ...GZIP_TYPES,
  ...ZIP_TYPES,
  ...XML_TYPES,
  ...GENERIC_TYPES,
  "application/tlsrpt+gzip",
  "application/tlsrpt+json",
]);

/** How a report attachment is recognised, first match wins; the rule's id becomes the report's `source`. */
export const ATTACHMENT_RULES: readonly AttachmentRule[] = [
  {
    id: "tlsrpt.media-type",
    kind: "tls_report",
    example: "application/tlsrpt+gzip",
    test: (t) => t === "application/tlsrpt+gzip" || t === "application/tlsrpt+json",
  },
  {
    id: "tlsrpt.filename",
    kind: "tls_report",
    example: "mail.example!example.com!1700000000!1700086399!1.json.gz",
    test: (t, f) => (GENERIC_TYPES.has(t) || GZIP_TYPES.has(t)) && /\.json(?:\.gz)?$/.test(f),
  },
  { id: "dmarc.gzip", kind: "dmarc_report", example: "application/gzip", test: (t) => GZIP_TYPES.has(t) },
  { id: "dmarc.zip", kind: "dmarc_report", example: "application/zip", test: (t) => ZIP_TYPES.has(t) },
  { id: "dmarc.xml", kind: "dmarc_report", example: "text/xml", test: (t) => XML_TYPES.has(t) },
  {
    id: "dmarc.filename",
    kind: "dmarc_report",
    example: "google.com!example.com!1700000000!1700086399.zip",
    test: (t, f) => GENERIC_TYPES.has(t) && /\.(?:xml|xml\.gz|gz|zip)$/.test(f),
  },
];

export type AggregateResult =
  | { kind: "dmarc_report"; rule: string; dmarc: DmarcAggregate }
  | { kind: "tls_report"; rule: string; tlsReport: TlsReport }
  | { kind: AggregateKind; rule: string; error: string };

/** Leaves looked at: the mail itself, or the parts of its multiparts (not inside enclosed messages). */
const MAX_LEAVES = 32;

/** The RFC 7489 §7.2.1.1 file name: receiver!policy-domain!begin!end[!unique-id].ext (RFC 8460 §5.1 likewise). */
const REPORT_FILENAME = /^[^!\s]{1,253}![^!\s]{1,253}!\d{1,12}!\d{1,12}(?:![^!\s]{1,100})?\.[a-z.]{2,10}$/i;

/** The aggregate report a mail carries, if it is one; undefined for any other mail. */
export function readAggregateReport(mail: ParsedMail): AggregateResult | undefined {
  const leaves: MailPart[] = [];
  collectLeaves(mail.root, leaves, 0);
  const isTlsMail = mail.reportType === "tlsrpt" || !!mail.headers.get("tls-report-domain");
  for (const part of leaves) {
    if (!CANDIDATE_TYPES.has(part.contentType)) continue;
    const name = filenameOf(part);
    const rule = ATTACHMENT_RULES.find((r) => r.test(part.contentType, name));
    if (!rule) continue;
    const kind: AggregateKind = isTlsMail ? "tls_report" : rule.kind;
    const hinted = isTlsMail || REPORT_FILENAME.test(name) || hasReportSubject(mail);
    const found = readPart(part, kind, rule.id, hinted);
    if (found) return found;
  }
  return undefined;
}

function collectLeaves(part: MailPart, out: MailPart[], depth: number): void {
  if (out.length >= MAX_LEAVES || depth > 3) return;
  if (part.contentType.startsWith("multipart/")) {
    for (const p of part.parts) collectLeaves(p, out, depth + 1);
    return;
  }
  if (part.contentType.startsWith("message/")) return;
  out.push(part);
}

function filenameOf(part: MailPart): string {
  const disposition = part.headers.get("content-disposition") ?? "";
  const m = /filename\*?="?([^";]{1,300})/i.exec(disposition) ?? /name="?([^";]{1,300})/i.exec(disposition);
  return (m?.[1] ?? part.params["name"] ?? "").trim().toLowerCase();
}

/** RFC 7489 §7.2.1.1's subject: `Report Domain: example.com Submitter: ... Report-ID: ...`. */
function hasReportSubject(mail: ParsedMail): boolean {
  const s = mail.headers.get("subject") ?? "";
  return /report[\s-]?domain:/i.test(s) || /report-id:/i.test(s);
}

/** One attachment read as `kind`: the report, a refusal (when the mail says it is a report), or undefined. */
function readPart(
  part: MailPart,
  kind: AggregateKind,
  rule: string,
  hinted: boolean,
): AggregateResult | undefined {
  const binary = part.content() || part.body;
  if (!binary) return undefined;
  let text: string;
  try {
    const bytes = unpack(Buffer.from(binary, "latin1"), kind === "tls_report" ? [".json"] : [".xml"]);
    const latin1 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
    text = decodeCharset(latin1, kind === "dmarc_report" ? xmlEncoding(latin1) : "utf-8");
  } catch (err) {
    if (err instanceof UnpackError && hinted) return { kind, rule, error: err.message };
    if (err instanceof UnpackError && err.code === "too_large") return { kind, rule, error: err.message };
    return undefined;
  }
  if (kind === "tls_report") {
    try {
      return { kind, rule, tlsReport: parseTlsReport(text) };
    } catch (err) {
      if (err instanceof TlsReportError && (hinted || err.code === "too_large"))
        return { kind, rule, error: err.message };
      return undefined;
    }
  }
  if (!looksLikeDmarcXml(text)) {
    return hinted ? { kind, rule, error: "the attachment is not a DMARC aggregate report" } : undefined;
  }
  try {
    return { kind, rule, dmarc: parseDmarcAggregate(text) };
  } catch (err) {
    if (err instanceof DmarcError) return { kind, rule, error: err.message };
    throw err;
  }
}

/** The encoding an XML declaration names (`windows-1252`, ...), default UTF-8. */
function xmlEncoding(head: string): string {
  return (
    /^\s{0,10}<\?xml[^>]{0,200}encoding=["']([\w.:-]{1,40})["']/.exec(head.slice(0, 300))?.[1] ?? "utf-8"
  );
}
