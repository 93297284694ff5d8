// What one classifier thread of `rebound classify` does with its share of the files (classify-thread.ts): read
// them, split mbox files into their mails, classify them and write each result in the chosen format.
import { closeSync, openSync, readSync } from "node:fs";
import { classify } from "../core/classify.js";
import type { Report } from "../core/report.js";
import { reasonOf, type Format, type Output } from "./classify-files.js";

/** One mail to classify: where it came from and its bytes. */
export interface MailSource {
  file: string;
  /** 1-based position in an mbox file holding several mails. */
  message?: number;
  raw: Buffer;
}

/** The outputs of the mails in `files`, in order (a file that cannot be read is one `err`). */
export function classifyFiles(files: readonly string[], format: Format): Output[] {
  const outputs: Output[] = [];
  const out = new OutBytes();
  for (const file of files) {
    let raw: Buffer;
    try {
      raw = readWhole(file);
    } catch (err) {
      if (out.length) outputs.push({ out: out.take() });
      outputs.push({ err: `rebound classify: cannot read ${file}: ${reasonOf(err)}\n` });
      continue;
    }
    classifyRaw(file, raw, format, out);
  }
  if (out.length) outputs.push({ out: out.take() });
  return outputs;
}

/** The buffer every file a thread reads is read into (grown when a file does not fit). */
let readBuffer = Buffer.allocUnsafeSlow(256 * 1024);

/**
 * A file's bytes, in the thread's read buffer: valid until the next file is read (classify() keeps no part of
 * its input). Open, read until end of file, close: readFileSync also asks the file's size (fstat) and allocates a
 * buffer for each file, some 2.5 µs of the 7 µs it takes a file (docs/performance.md, session 11). Reading until
 * a read returns nothing also reads what is not a regular file (a named pipe on the command line).
 */
export function readWhole(file: string): Buffer {
  const fd = openSync(file, "r");
  try {
    let n = 0;
    for (;;) {
      if (n === readBuffer.length) {
        const next = Buffer.allocUnsafeSlow(2 * readBuffer.length);
        readBuffer.copy(next, 0, 0, n);
        readBuffer = next;
      }
      const got = readSync(fd, readBuffer, n, readBuffer.length - n, null);
      if (got === 0) return readBuffer.subarray(0, n);
      n += got;
    }
  } finally {
    closeSync(fd);
  }
}

/** The output of the mails of stdin (under the name `-`), as one buffer. */
export function classifyStdin(raw: Buffer, format: Format): Output[] {
  const out = new OutBytes();
  classifyRaw("-", raw, format, out);
  return [{ out: out.take() }];
}

/** Bytes a task starts with: its 64 files' results are 70-80 KB of NDJSON, less in the pretty format. */
const FIRST_SIZE = 128 * 1024;

/**
 * A task's results as UTF-8 bytes, each mail's text encoded as it is made into one buffer of the task's own,
 * transferred to the command's thread (never a slice of Buffer's shared pool). Encoding the texts one by one
 * costs a third of encoding their concatenation, which V8 must first flatten (docs/performance.md).
 */
export class OutBytes {
  private buf = Buffer.allocUnsafeSlow(FIRST_SIZE);
  length = 0;

  /** Appends `text` as UTF-8 (a lone surrogate as U+FFFD, as TextEncoder does). */
  write(text: string): void {
    // At most 3 bytes a UTF-16 unit.
    const need = this.length + 3 * text.length;
    if (need > this.buf.length) {
      const next = Buffer.allocUnsafeSlow(Math.max(need, 2 * this.buf.length));
      this.buf.copy(next, 0, 0, this.length);
      this.buf = next;
    }
    this.length += this.buf.write(text, this.length, "utf8");
  }

  /** The bytes written, in a buffer of their own (to transfer); this starts again empty. */
  take(): Uint8Array {
    const bytes = new Uint8Array(this.buf.buffer, 0, this.length);
    this.buf = Buffer.allocUnsafeSlow(FIRST_SIZE);
    this.length = 0;
    return bytes;
  }
}

/** The results of the mails in one file's bytes (several for an mbox file), in `format`, written to `out`. */
export function classifyRaw(file: string, raw: Buffer, format: Format, out: OutBytes): void {
  for (const src of splitMbox(file, raw)) {
    const report = classify(src.raw);
    out.write(format === "ndjson" ? ndjsonLine(src, report) : prettyText(src, report));
  }
}

/** A line break: CRLF, LF or a lone CR (a CR before an LF is never a break of its own). */
const BREAK = String.raw`(?:\r\n|\n|\r(?!\n))`;
/** The postmark line of an mbox separator: `From sender Thu Jul  2 12:05:05 2020`. */
const POSTMARK = String.raw`From \S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} \d{1,2}:\d{2}[^\r\n]*`;
/** A separator: any `From ` line after an empty line (mboxo, mboxrd), or a postmark line after any line (some
 * writers leave no empty line before it). */
const SEPARATOR = `${BREAK}(?:${BREAK}(From [^\\r\\n]*)|(${POSTMARK}))`;

/**
 * An mbox file (it starts with a `From ` line) split into its mails: a new mail starts at the start of the file
 * and at each separator line (SEPARATOR), whatever the file's line endings. `>From ` quoting is undone. Other
 * files are one mail.
 */
export function splitMbox(file: string, raw: Buffer): MailSource[] {
  if (raw.length < 5 || raw.toString("latin1", 0, 5) !== "From ") return [{ file, raw }];
  const text = raw.toString("latin1");
  const starts: number[] = [0];
  const re = new RegExp(SEPARATOR, "g");
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) starts.push(m.index + m[0].length - (m[1] ?? m[2])!.length);
  const mails: MailSource[] = [];
  for (let i = 0; i < starts.length; i++) {
    const chunk = text.slice(starts[i], starts[i + 1] ?? text.length);
    const body = chunk.replace(/^From [^\r\n]*(?:\r?\n|\r)/, "").replace(/^>(>*From )/gm, "$1");
    const mail: MailSource = { file, raw: Buffer.from(body, "latin1") };
    if (starts.length > 1) mail.message = i + 1;
    mails.push(mail);
  }
  return mails;
}

/** `,"name":` per field name of a report (a dozen names): made once, not stringified for every mail. */
const KEY_TEXT = new Map<string, string>();

/**
 * The report as one JSON line: `file` (and `message`) first, then kind, recipients and original, then the
 * report's other fields in their order. Written piece by piece: building a reordered copy of each report to
 * stringify it whole cost about a twentieth of a classifier thread's time. Same text as
 * `JSON.stringify({ file, message, kind, recipients, original, ...rest })`: a report is plain data, and a field
 * whose value is undefined is left out.
 */
function ndjsonLine(src: MailSource, report: Report): string {
  let line = `{"file":${JSON.stringify(src.file)}`;
  if (src.message) line += `,"message":${src.message}`;
  line += `,"kind":${JSON.stringify(report.kind)},"recipients":${JSON.stringify(report.recipients)},"original":${JSON.stringify(report.original)}`;
  const fields = report as unknown as Record<string, unknown>;
  for (const k in fields) {
    if (k === "kind" || k === "recipients" || k === "original") continue;
    const v = fields[k];
    if (v === undefined) continue;
    let key = KEY_TEXT.get(k);
    if (key === undefined) KEY_TEXT.set(k, (key = `,${JSON.stringify(k)}:`));
    line += key + JSON.stringify(v);
  }
  return line + "}\n";
}

function prettyText(src: MailSource, r: Report): string {
  const lines = [
    `${src.file}${src.message ? ` #${src.message}` : ""}: ${r.kind}${r.source ? ` (${r.source})` : ""}${r.error ? `: ${r.error}` : ""}`,
  ];
  for (const x of r.recipients) {
    lines.push(
      `  ${x.recipient}  ${x.reason}/${x.class}${x.status ? `  ${x.status}` : ""}${x.smtpCode ? ` ${x.smtpCode}` : ""}  [${x.rule}]`,
    );
    if (x.diagnostic)
      lines.push(`    ${x.diagnostic.length > 160 ? x.diagnostic.slice(0, 157) + "..." : x.diagnostic}`);
  }
  if (r.original.messageId)
    lines.push(`  original: ${r.original.messageId}${r.original.subject ? `  "${r.original.subject}"` : ""}`);
  if (r.dmarc) {
    const d = r.dmarc;
    const messages = d.records.reduce((n, x) => n + x.count, 0);
    const failed = d.records.reduce((n, x) => n + (x.dkim === "fail" && x.spf === "fail" ? x.count : 0), 0);
    lines.push(
      `  ${d.orgName} report ${d.reportId} for ${d.policy.domain} (${d.schema}), ${d.begin} to ${d.end}: ${d.records.length} rows, ${messages} messages, ${failed} failing DKIM and SPF`,
    );
  }
  if (r.tlsReport) {
    const t = r.tlsReport;
    for (const p of t.policies)
      lines.push(
        `  ${t.orgName}: ${p.policyType} ${p.policyDomain}: ${p.successful} sessions ok, ${p.failed} failed`,
      );
  }
  return lines.join("\n") + "\n\n";
}
