// Exports of a tenant's suppressions as CSV or NDJSON, streamed in constant memory. On PostgreSQL: one
// `COPY (SELECT ...) TO STDOUT` of the stored values, whose lines are written as CSV or NDJSON as they come,
// byte by byte (the fast path: PostgreSQL's own formatting cost it more than the rest of the export). On the
// embedded PGlite, which has no COPY stream: keyset pages, each formatted into one text value by SQL. Both give
// the same bytes (test/api/exports.test.ts holds them to it).
import { Readable } from "node:stream";
import { sql, type Kysely } from "kysely";
import { copyOutLines, COPY_UNESCAPED, inlineParameters, type LineSink } from "./copy.js";
import { pgPoolOf } from "./db.js";
import { filtered, type SuppressionFilter } from "./lookups.js";
import type { Database } from "./schema.js";

export const EXPORT_FORMATS = ["csv", "ndjson"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  format: ExportFormat;
  /** The SHA-256 of the normalised address (the stored `address_hash`) instead of the address. */
  hashed: boolean;
}

/** The columns of an export, in order (their names in the file: exportHeader). */
export const EXPORT_COLUMNS = [
  "address",
  "stream",
  "reason",
  "class",
  "source",
  "first_seen",
  "last_seen",
  "expires_at",
  "count",
  "rule",
  "note",
] as const;

/** Their names in an export (CSV header, NDJSON keys): the API's camelCase names. */
const EXPORT_NAMES: Record<(typeof EXPORT_COLUMNS)[number], string> = {
  address: "address",
  stream: "stream",
  reason: "reason",
  class: "class",
  source: "source",
  first_seen: "firstSeen",
  last_seen: "lastSeen",
  expires_at: "expiresAt",
  count: "count",
  rule: "rule",
  note: "note",
};

/** The names of an export's columns, comma-separated; `address` becomes `addressHash` in the hashed form. */
export function exportHeader(hashed: boolean): string {
  return EXPORT_COLUMNS.map((c) => (c === "address" && hashed ? "addressHash" : EXPORT_NAMES[c])).join(",");
}

/** A whole export as a byte stream: COPY on PostgreSQL, pages on PGlite. */
export async function exportStream(
  db: Kysely<Database>,
  f: SuppressionFilter,
  now: Date,
  opts: ExportOptions,
): Promise<Readable> {
  const pool = pgPoolOf(db);
  if (pool) {
    return copyOutLines(pool, exportCopySql(db, f, now, opts), new ExportLines(opts));
  }
  // A byte stream: it pulls the next page only when the last one has gone out (in object mode it would read
  // ahead 16 pages).
  return Readable.from(exportText(db, f, now, opts), { objectMode: false });
}

// --- PostgreSQL: COPY ---------------------------------------------------------------------------------------

/**
 * The COPY statement of an export: the stored values in id order, in COPY's text format (a tab between fields,
 * `\\N` for NULL, backslash sequences for backslashes and control characters), the times as UTC timestamps.
 * ExportFormatter writes them out as CSV or NDJSON: formatting them in SQL (the times as ISO text, empty strings
 * as NULLs for the CSV writer, row_to_json) cost PostgreSQL more than the rest of the export together.
 */
export function exportCopySql(
  db: Kysely<Database>,
  f: SuppressionFilter,
  now: Date,
  opts: Pick<ExportOptions, "hashed">,
): string {
  const rows = inlineParameters(
    filtered(db, f, now)
      .select(["id", "address_hash", ...EXPORT_COLUMNS])
      .compile(),
  );
  const utc = (col: string) => `s.${col} at time zone 'UTC'`;
  const columns = [
    opts.hashed ? "s.address_hash" : "coalesce(s.address, s.address_hash)",
    "s.stream",
    "s.reason",
    "s.class",
    "s.source",
    utc("first_seen"),
    utc("last_seen"),
    utc("expires_at"),
    "s.count",
    "s.rule",
    "s.note",
  ];
  return `copy (select ${columns.join(", ")} from (${rows}) s order by s.id) to stdout`;
}

/** RFC 3339 in UTC with milliseconds, as the API writes every time (`2026-01-01T10:00:00.123Z`). */
const isoTime = (col: string) => `to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

// --- PostgreSQL: COPY's text format to CSV or NDJSON ---------------------------------------------------------

// Bytes: tab 9, newline 10, carriage return 13, space 32, " 34, comma 44, N 78, T 84, Z 90, \ 92, } 125. The
// loops below spell them as literals: they run once per byte of the export.

/** The columns of exportCopySql holding a time (UTC, `2026-01-01 10:00:00.123456`): 1; the others: 0. */
const TIME_COLUMNS = Uint8Array.from(EXPORT_COLUMNS, (c) =>
  c.endsWith("_seen") || c === "expires_at" ? 1 : 0,
);
/** The column holding a number, written bare in JSON. */
const COUNT_COLUMN = EXPORT_COLUMNS.indexOf("count");

const HEX_DIGITS = Buffer.from("0123456789abcdef");

/**
 * Writes the lines of an export's COPY (exportCopySql) as CSV or NDJSON, the very bytes of the paged form: CSV
 * quotes a field holding a comma, quote, CR or LF (doubling its quotes), as PostgreSQL's CSV writer does, and
 * writes NULLs and empty strings as nothing; NDJSON escapes strings as PostgreSQL's to_json does. Times get the
 * ISO `T` and `Z`. One pass over the bytes, no object per row; the output goes out in 64 kB buffers.
 */
export class ExportLines implements LineSink {
  private readonly csv: boolean;
  /** NDJSON: what goes before each field (`{"address":`, `,"stream":`, ...). */
  private readonly prefixes: Uint8Array[];
  private out = Buffer.allocUnsafe(65_536);
  private pos = 0;
  private start = 0;
  /** Output buffers filled, not handed out yet. */
  private full: Buffer[] = [];

  constructor(opts: ExportOptions) {
    this.csv = opts.format === "csv";
    const names = exportHeader(opts.hashed).split(",");
    this.prefixes = names.map((n, i) => Buffer.from(`${i === 0 ? "{" : ","}"${n}":`));
    if (this.csv) this.pos = this.out.write(exportHeader(opts.hashed) + "\n", "latin1");
  }

  line(buf: Buffer, start: number, end: number): void {
    // Every input byte becomes at most 6 (a control character as \u00XX), plus the names of the fields.
    const room = (end - start) * 6 + 256;
    if (this.pos + room > this.out.length) {
      if (this.pos > this.start) this.full.push(this.out.subarray(this.start, this.pos));
      this.out = Buffer.allocUnsafe(Math.max(65_536, room));
      this.pos = this.start = 0;
    }
    this.pos = this.csv
      ? csvLine(buf, start, this.out, this.pos)
      : jsonLine(buf, start, this.out, this.pos, this.prefixes);
  }

  flush(push: (b: Buffer) => void): void {
    for (const b of this.full) push(b);
    this.full = [];
    if (this.pos > this.start) push(this.out.subarray(this.start, this.pos));
    this.start = this.pos;
  }
}

/** One line of the COPY at buf[i] as CSV into out[o]; returns the end of what it wrote. */
function csvLine(buf: Uint8Array, i: number, out: Uint8Array, o: number): number {
  for (let col = 0; ; col++) {
    if (col === TIME_COLUMNS.length) throw new Error("an export's COPY line with too many fields");
    // Copied as it is read (backslash sequences undone); quoted afterwards when it holds what CSV must quote.
    const o0 = o;
    let e = i;
    let c = buf[e]!;
    if (TIME_COLUMNS[col] === 1) {
      for (; c !== 9 && c !== 10; c = buf[++e]!);
      if (buf[i] !== 92) o = isoTimeBytes(buf, i, e, out, o); // else \N: nothing
    } else {
      let quote = false;
      for (; c !== 9 && c !== 10; c = buf[++e]!) {
        if (c === 92) {
          c = COPY_UNESCAPED[buf[++e]!]!;
          if (c === 10 || c === 13) quote = true;
        } else if (c === 44 || c === 34) quote = true;
        out[o++] = c;
      }
      if (e - i === 2 && buf[i] === 92 && buf[i + 1] === 78)
        o = o0; // \N
      else {
        if (o > o0 && FORMULA_START[out[o0]!] === 1) o = prefixQuote(out, o0, o);
        if (quote) o = quoted(out, o0, o);
      }
    }
    if (c === 10) {
      if (col !== TIME_COLUMNS.length - 1) throw new Error("an export's COPY line with too few fields");
      out[o++] = 10;
      return o;
    }
    out[o++] = 44;
    i = e + 1;
  }
}

/**
 * A time as COPY writes it (`2026-01-01 10:00:00.123456`, UTC, the fraction absent when zero) in the API's one
 * form, `2026-01-01T10:00:00.123Z` (Date.prototype.toISOString's): the fraction cut or padded to milliseconds.
 */
function isoTimeBytes(buf: Uint8Array, i: number, end: number, out: Uint8Array, o: number): number {
  const dot = i + 19;
  for (let k = i; k < dot && k < end; k++) out[o++] = buf[k] === 32 ? 84 : buf[k]!;
  out[o++] = 46; // .
  for (let k = 1; k <= 3; k++) out[o++] = dot + k < end ? buf[dot + k]! : 48;
  out[o++] = 90; // Z
  return o;
}

/**
 * The first characters that make a spreadsheet run a cell as a formula (`=`, `+`, `-`, `@`, tab, CR): such a
 * cell gets a leading `'` (OWASP's advice on CSV injection), so an address like `=HYPERLINK(...)@x.org` or a
 * note is shown as text when the export is opened in a spreadsheet.
 */
const FORMULA_START = new Uint8Array(256);
for (const c of "=+-@\t\r") FORMULA_START[c.charCodeAt(0)] = 1;

/** Puts a `'` before the field at out[o0, o) in place; returns its new end. */
function prefixQuote(out: Uint8Array, o0: number, o: number): number {
  out.copyWithin(o0 + 1, o0, o);
  out[o0] = 39;
  return o + 1;
}

/** Quotes the field at out[o0, o) in place, doubling its quotes; returns its new end. */
function quoted(out: Uint8Array, o0: number, o: number): number {
  let quotes = 0;
  for (let k = o0; k < o; k++) if (out[k] === 34) quotes++;
  const end = o + quotes + 2;
  let w = end;
  out[--w] = 34;
  for (let k = o - 1; k >= o0; k--) {
    const c = out[k]!;
    out[--w] = c;
    if (c === 34) out[--w] = 34;
  }
  out[--w] = 34;
  return end;
}

/** One line of the COPY at buf[i] as a JSON object into out[o]; returns the end of what it wrote. */
function jsonLine(buf: Uint8Array, i: number, out: Uint8Array, o: number, prefixes: Uint8Array[]): number {
  for (let col = 0; ; col++) {
    if (col === TIME_COLUMNS.length) throw new Error("an export's COPY line with too many fields");
    const prefix = prefixes[col]!;
    for (let k = 0; k < prefix.length; k++) out[o++] = prefix[k]!;
    let e = i;
    let c = buf[e]!;
    if (c === 92 && buf[i + 1] === 78 && (buf[i + 2] === 9 || buf[i + 2] === 10)) {
      // \N
      out[o++] = 110; // null
      out[o++] = 117;
      out[o++] = 108;
      out[o++] = 108;
      e = i + 2;
      c = buf[e]!;
    } else if (col === COUNT_COLUMN) {
      for (; c !== 9 && c !== 10; c = buf[++e]!) out[o++] = c;
    } else if (TIME_COLUMNS[col] === 1) {
      out[o++] = 34;
      for (; c !== 9 && c !== 10; c = buf[++e]!);
      o = isoTimeBytes(buf, i, e, out, o);
      out[o++] = 34;
    } else {
      out[o++] = 34;
      for (; c !== 9 && c !== 10; c = buf[++e]!) {
        if (c === 92) {
          // \b \f \n \r \t and \\ are JSON's own sequences too; \v is not.
          const n = buf[++e]!;
          if (n === 118) o = hexEscape(out, o, 11);
          else {
            out[o++] = 92;
            out[o++] = n;
          }
        } else if (c === 34) {
          out[o++] = 92;
          out[o++] = 34;
        } else if (c < 32) o = hexEscape(out, o, c);
        else out[o++] = c;
      }
      out[o++] = 34;
    }
    if (c === 10) {
      if (col !== TIME_COLUMNS.length - 1) throw new Error("an export's COPY line with too few fields");
      out[o++] = 125; // }
      out[o++] = 10;
      return o;
    }
    i = e + 1;
  }
}

/** `\u00XX`, as to_json writes a control character. */
function hexEscape(out: Uint8Array, o: number, c: number): number {
  out[o++] = 92;
  out[o++] = 117; // u
  out[o++] = 48;
  out[o++] = 48;
  out[o++] = HEX_DIGITS[c >> 4]!;
  out[o++] = HEX_DIGITS[c & 15]!;
  return o;
}

// --- PGlite: keyset pages ------------------------------------------------------------------------------------

// Cheap formatting in SQL (to_char and regular expressions cost several times more per row).
const csvQuoted = (expr: string) =>
  `case when ${expr} is null then '' when strpos(${expr}, ',') + strpos(${expr}, '"') + strpos(${expr}, chr(10)) + strpos(${expr}, chr(13)) > 0 then '"' || replace(${expr}, '"', '""') || '"' else ${expr} end`;
/** A text field as CSV, with a `'` before a cell a spreadsheet would run as a formula (see FORMULA_START). */
const csvField = (expr: string) =>
  csvQuoted(
    `(case when left(${expr}, 1) in ('=', '+', '-', '@', chr(9), chr(13)) then '''' || ${expr} else ${expr} end)`,
  );
const jsonText = (expr: string) => `coalesce(to_json(${expr})::text, 'null')`;
const jsonTime = (col: string) => `coalesce('"' || ${isoTime(col)} || '"', 'null')`;

/**
 * One page of an export, formatted by PostgreSQL itself (one text value per page, so a million rows cost a
 * hundred round trips and no per-row objects). Id order; `afterId` is the last id of the previous page.
 */
export async function exportPage(
  db: Kysely<Database>,
  f: SuppressionFilter,
  now: Date,
  opts: ExportOptions & { afterId: string; limit: number },
): Promise<{ lastId: string | null; rows: number; text: string }> {
  const addr = opts.hashed ? "p.address_hash" : "coalesce(p.address, p.address_hash)";
  const line =
    opts.format === "csv"
      ? [
          csvField(addr),
          csvField("p.stream"),
          // reason, class and source are closed vocabularies: never quoted.
          "p.reason",
          "p.class",
          "p.source",
          isoTime("p.first_seen"),
          isoTime("p.last_seen"),
          `coalesce(${isoTime("p.expires_at")}, '')`,
          "p.count::text",
          csvField("p.rule"),
          csvField("p.note"),
        ].join(" || ',' || ")
      : [
          `'{"${opts.hashed ? "addressHash" : "address"}":' || ${jsonText(addr)}`,
          `',"stream":' || ${jsonText("p.stream")}`,
          `',"reason":' || ${jsonText("p.reason")}`,
          `',"class":' || ${jsonText("p.class")}`,
          `',"source":' || ${jsonText("p.source")}`,
          `',"firstSeen":' || ${jsonTime("p.first_seen")}`,
          `',"lastSeen":' || ${jsonTime("p.last_seen")}`,
          `',"expiresAt":' || ${jsonTime("p.expires_at")}`,
          `',"count":' || p.count::text`,
          `',"rule":' || ${jsonText("p.rule")}`,
          `',"note":' || ${jsonText("p.note")} || '}'`,
        ].join(" || ");
  const page = filtered(db, f, now)
    .select(["id", "address_hash", ...EXPORT_COLUMNS])
    .where("id", ">", opts.afterId as never)
    .orderBy("id")
    .limit(opts.limit);
  const res = await db
    .selectFrom(page.as("p"))
    .select([
      sql<string | null>`max(p.id)::text`.as("last_id"),
      sql<string>`count(*)::text`.as("n"),
      sql<string | null>`string_agg(${sql.raw(line)}, E'\\n' order by p.id)`.as("text"),
    ])
    .executeTakeFirstOrThrow();
  return { lastId: res.last_id, rows: Number(res.n), text: res.text ?? "" };
}

/** A whole export as text chunks (a header line for CSV, then one chunk per page), in constant memory. */
export async function* exportText(
  db: Kysely<Database>,
  f: SuppressionFilter,
  now: Date,
  opts: ExportOptions & { pageSize?: number },
): AsyncGenerator<string> {
  const limit = opts.pageSize ?? 10_000;
  if (opts.format === "csv") yield exportHeader(opts.hashed) + "\n";
  let afterId = "0";
  for (;;) {
    const page = await exportPage(db, f, now, { format: opts.format, hashed: opts.hashed, afterId, limit });
    if (page.rows === 0 || page.lastId === null) return;
    yield page.text + "\n";
    if (page.rows < limit) return;
    afterId = page.lastId;
  }
}
