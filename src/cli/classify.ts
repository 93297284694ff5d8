// `rebound classify [--format ndjson|pretty] PATH...`: classify mail files, folders (recursively, sorted),
// mbox files (split on `From ` lines) and `-` (stdin). One result per mail; exit 0 when mails were read.
//
// Every core: the mails are classified in a pool of worker threads (src/worker/classify-pool.ts), a bounded
// window of them at a time, and the results are written in input order as they come. A file is read when its
// turn comes, so memory stays the window's whatever the size of the folder.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { InvalidArgumentError, type Command } from "commander";
import { availableParallelism } from "node:os";
import type { Report } from "../core/report.js";
import { createClassifyPool } from "../worker/classify-pool.js";
import type { CliIo } from "./io.js";

export const FORMATS = ["ndjson", "pretty"] as const;
export type Format = (typeof FORMATS)[number];

export function register(cmd: Command, io: CliIo): void {
  cmd
    .option("-f, --format <format>", "output format: ndjson or pretty", parseFormat, "ndjson" as Format)
    .argument("<paths...>", "mail files, folders (recursive), mbox files, or - for stdin")
    .action(async (paths: string[], opts: { format: Format }) => {
      io.exitCode = await classifyPaths(paths, opts.format, io);
    });
}

function parseFormat(value: string): Format {
  if (!(FORMATS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`expected one of ${FORMATS.join(", ")}`);
  return value as Format;
}

/** One mail to classify: where it came from and its bytes. */
export interface MailSource {
  file: string;
  /** 1-based position in an mbox file holding several mails. */
  message?: number;
  raw: Buffer;
}

/** Mails in the classifier's threads or waiting for their turn to be written, per thread. */
const WINDOW_PER_THREAD = 64;

/** Classify every mail under `paths`, writing one result per mail. Resolves to the exit code. */
export async function classifyPaths(paths: string[], format: Format, io: CliIo): Promise<number> {
  const threads = availableParallelism();
  const pool = createClassifyPool({ threads, timeoutMs: 0 });
  /** The mails handed to the pool, in input order; the first is written as soon as its Report is back. */
  const window: { src: MailSource; report: Promise<Report> }[] = [];
  let failed = 0;
  let out = "";
  const flush = (): void => {
    if (out) io.stdout.write(out);
    out = "";
  };
  const writeFirst = async (): Promise<void> => {
    const { src, report } = window.shift()!;
    const r = await report;
    out += format === "ndjson" ? ndjsonLine(src, r) : prettyText(src, r);
    if (out.length > 1 << 16) flush();
  };
  /** Everything before an error message, so that the output keeps the order of the input. */
  const drain = async (): Promise<void> => {
    while (window.length) await writeFirst();
    flush();
  };
  const emit = async (src: MailSource): Promise<void> => {
    const report = pool.classify(src.raw);
    // Awaited in its turn (writeFirst); a rejection before then is not unhandled.
    report.catch(() => undefined);
    window.push({ src, report });
    if (window.length >= threads * WINDOW_PER_THREAD) await writeFirst();
  };
  try {
    for (const path of paths) {
      if (path === "-") {
        const raw = await readAll(io.stdin);
        for (const m of splitMbox("-", raw)) await emit(m);
        continue;
      }
      let files: string[];
      try {
        files = listFiles(path);
      } catch (err) {
        await drain();
        io.stderr.write(`rebound classify: cannot read ${path}: ${reasonOf(err)}\n`);
        failed++;
        continue;
      }
      for (const file of files) {
        let raw: Buffer;
        try {
          raw = readFileSync(file);
        } catch (err) {
          await drain();
          io.stderr.write(`rebound classify: cannot read ${file}: ${reasonOf(err)}\n`);
          failed++;
          continue;
        }
        for (const m of splitMbox(file, raw)) await emit(m);
      }
    }
    await drain();
  } finally {
    await pool.close();
  }
  return failed > 0 ? 1 : 0;
}

function reasonOf(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === "ENOENT") return "no such file or folder";
  if (e?.code === "EACCES") return "permission denied";
  return e instanceof Error ? e.message : String(err);
}

/** Files in a folder that are never mails: the expected results and notes kept beside samples. */
const NOT_MAIL = /\.(json|md)$/i;

/**
 * A file, or every file under a folder (recursively, sorted by name; dot-files and `.json` / `.md` files
 * skipped). A file named on the command line is always read.
 */
export function listFiles(path: string): string[] {
  const st = statSync(path);
  if (!st.isDirectory()) return [path];
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 32) return;
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const e of entries) {
      if (e.name.startsWith(".")) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.isFile() && !NOT_MAIL.test(e.name)) out.push(p);
    }
  };
  walk(path, 0);
  return out;
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

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}

function ndjsonLine(src: MailSource, report: Report): string {
  const { kind, recipients, original, ...rest } = report;
  return (
    JSON.stringify({
      file: src.file,
      ...(src.message ? { message: src.message } : {}),
      kind,
      recipients,
      original,
      ...rest,
    }) + "\n"
  );
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
