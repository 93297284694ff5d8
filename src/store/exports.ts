// Exports of a tenant's suppressions as CSV or NDJSON, streamed in constant memory and formatted by PostgreSQL.
// On PostgreSQL: one `COPY (SELECT ...) TO STDOUT`, whose bytes go out as they come (the fast path). On the
// embedded PGlite, which has no COPY stream: keyset pages, each formatted into one text value by SQL. Both give
// the same bytes (test/api/exports.test.ts holds them to it).
import { Readable } from "node:stream";
import { sql, type CompiledQuery, type Kysely } from "kysely";
import pg from "pg";
import { copyOut } from "./copy.js";
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

/** The columns of an export, in order; `address` becomes `address_sha256` in the hashed form. */
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

export function exportHeader(hashed: boolean): string {
  return EXPORT_COLUMNS.map((c) => (c === "address" && hashed ? "address_sha256" : c)).join(",");
}

/** A whole export as a byte stream: COPY on PostgreSQL, pages on PGlite. */
export async function exportStream(
  db: Kysely<Database>,
  f: SuppressionFilter,
  now: Date,
  opts: ExportOptions,
): Promise<Readable> {
  const pool = pgPoolOf(db);
  if (pool) return copyOut(pool, exportCopySql(db, f, now, opts));
  // A byte stream: it pulls the next page only when the last one has gone out (in object mode it would read
  // ahead 16 pages).
  return Readable.from(exportText(db, f, now, opts), { objectMode: false });
}

// --- PostgreSQL: COPY ---------------------------------------------------------------------------------------

/** ISO 8601 in UTC, e.g. 2026-01-01T10:00:00.123456Z (the ISO DateStyle, which node-postgres relies on too). */
const isoTime = (col: string) => `replace((${col} at time zone 'UTC')::text, ' ', 'T') || 'Z'`;

/**
 * The export's columns over the filtered rows `s`. For CSV, PostgreSQL's own CSV writer quotes them; it would
 * write an empty string as `""`, so empty strings become NULLs, written as nothing, like the paged form.
 */
function copyColumns(opts: ExportOptions): string {
  const text = (expr: string) => (opts.format === "csv" ? `nullif(${expr}, '')` : expr);
  return [
    `${text(opts.hashed ? "s.address_hash" : "coalesce(s.address, s.address_hash)")} as ${opts.hashed ? "address_sha256" : "address"}`,
    `${text("s.stream")} as stream`,
    `${text("s.reason")} as reason`,
    `${text("s.class")} as class`,
    `${text("s.source")} as source`,
    `${isoTime("s.first_seen")} as first_seen`,
    `${isoTime("s.last_seen")} as last_seen`,
    `${isoTime("s.expires_at")} as expires_at`,
    "s.count as count",
    `${text("s.rule")} as rule`,
    `${text("s.note")} as note`,
  ].join(", ");
}

/**
 * The COPY statement of an export. CSV: PostgreSQL's CSV with its header (the column names above). NDJSON: one
 * row_to_json per row, written as CSV whose delimiter and quote are control bytes that JSON text never holds
 * raw, so each line goes out as it is (COPY's text format would double the backslashes of JSON escapes).
 */
export function exportCopySql(
  db: Kysely<Database>,
  f: SuppressionFilter,
  now: Date,
  opts: ExportOptions,
): string {
  const rows = inlineParameters(
    filtered(db, f, now)
      .select(["id", "address_hash", ...EXPORT_COLUMNS])
      .compile(),
  );
  const select =
    opts.format === "csv"
      ? `select ${copyColumns(opts)} from (${rows}) s order by s.id`
      : // The lateral subquery names the fields; ordering by the outer s.id keeps id order guaranteed.
        `select row_to_json(r) from (${rows}) s cross join lateral (select ${copyColumns(opts)}) r order by s.id`;
  const options =
    opts.format === "csv" ? "format csv, header" : "format csv, delimiter e'\\x01', quote e'\\x02'";
  return `copy (${select}) to stdout with (${options})`;
}

/**
 * COPY takes no bind parameters: the filter's values are written into the statement as literals. Kysely
 * compiles every value to a `$n` placeholder (the statement's own text has none), so each is replaced by its
 * value, quoted by node-postgres.
 */
function inlineParameters(q: CompiledQuery): string {
  return q.sql.replace(/\$(\d+)/g, (_, n: string) => literal(q.parameters[Number(n) - 1]));
}

function literal(v: unknown): string {
  if (typeof v === "string") return pg.escapeLiteral(v);
  if (v instanceof Date) return `${pg.escapeLiteral(v.toISOString())}::timestamptz`;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  throw new Error(`cannot write ${typeof v} into an export's COPY statement`);
}

// --- PGlite: keyset pages ------------------------------------------------------------------------------------

// Cheap formatting in SQL (to_char and regular expressions cost several times more per row).
const csvField = (expr: string) =>
  `case when ${expr} is null then '' when strpos(${expr}, ',') + strpos(${expr}, '"') + strpos(${expr}, chr(10)) + strpos(${expr}, chr(13)) > 0 then '"' || replace(${expr}, '"', '""') || '"' else ${expr} end`;
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
          `'{"${opts.hashed ? "address_sha256" : "address"}":' || ${jsonText(addr)}`,
          `',"stream":' || ${jsonText("p.stream")}`,
          `',"reason":' || ${jsonText("p.reason")}`,
          `',"class":' || ${jsonText("p.class")}`,
          `',"source":' || ${jsonText("p.source")}`,
          `',"first_seen":' || ${jsonTime("p.first_seen")}`,
          `',"last_seen":' || ${jsonTime("p.last_seen")}`,
          `',"expires_at":' || ${jsonTime("p.expires_at")}`,
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
