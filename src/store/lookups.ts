// Read-side queries of the suppression store for the API: lookups by address hash, the id feed that keeps
// the API's in-memory index current, browsing with filters and keyset pages.
import { sql, type Kysely, type Selectable } from "kysely";
import type { Database, SuppressionsTable } from "./schema.js";

/** A suppression as read from the table. */
export type SuppressionRow = Selectable<SuppressionsTable>;

/** The suppressions in force (not expired at `now`) of some address hashes of one tenant, in every stream. */
export async function activeSuppressionsByHash(
  db: Kysely<Database>,
  tenant: string,
  hashes: string[],
  now: Date,
): Promise<SuppressionRow[]> {
  if (hashes.length === 0) return [];
  const rows = await db
    .selectFrom("suppressions")
    .selectAll()
    .where("tenant", "=", tenant)
    .where(sql<boolean>`address_hash = any(${hashes}::text[])`)
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]))
    .execute();
  return rows as SuppressionRow[];
}

export interface KeyRow {
  id: string;
  tenant: string;
  address_hash: string;
}

/** Suppression keys with an id above `afterId`, or one of `ids` (ids seen missing earlier), by id. */
export async function suppressionKeysSince(
  db: Kysely<Database>,
  afterId: string,
  ids: string[],
  limit: number,
): Promise<KeyRow[]> {
  let q = db.selectFrom("suppressions").select(["id", "tenant", "address_hash"]);
  q =
    ids.length > 0
      ? q.where((eb) =>
          eb.or([eb("id", ">", afterId as never), eb(sql<boolean>`id = any(${ids}::bigint[])`, "=", true)]),
        )
      : q.where("id", ">", afterId as never);
  return (await q.orderBy("id").limit(limit).execute()) as KeyRow[];
}

export interface EventSummary {
  id: string;
  mail_id: string | null;
  stream: string;
  kind: string;
  reason: string;
  class: string;
  status: string | null;
  smtp_code: number | null;
  diagnostic: string | null;
  rule: string | null;
  verified: boolean;
  occurred_at: Date;
}

/** Events of one tenant by id (the evidence behind a suppression). */
export async function eventsByIds(
  db: Kysely<Database>,
  tenant: string,
  ids: string[],
): Promise<EventSummary[]> {
  if (ids.length === 0) return [];
  return (await db
    .selectFrom("events")
    .select([
      "id",
      "mail_id",
      "stream",
      "kind",
      "reason",
      "class",
      "status",
      "smtp_code",
      "diagnostic",
      "rule",
      "verified",
      "occurred_at",
    ])
    .where("tenant", "=", tenant)
    .where(sql<boolean>`id = any(${ids}::bigint[])`)
    .orderBy("occurred_at")
    .execute()) as EventSummary[];
}

export const SUPPRESSION_STATES = ["active", "expired", "all"] as const;
export type SuppressionState = (typeof SUPPRESSION_STATES)[number];

export interface SuppressionFilter {
  tenant: string;
  reason?: string;
  class?: string;
  stream?: string;
  source?: string;
  /** first_seen at or after. */
  since?: Date;
  /** first_seen before. */
  until?: Date;
  state?: SuppressionState;
}

function filtered(db: Kysely<Database>, f: SuppressionFilter, now: Date) {
  let q = db.selectFrom("suppressions").where("tenant", "=", f.tenant);
  if (f.reason) q = q.where("reason", "=", f.reason);
  if (f.class) q = q.where("class", "=", f.class);
  if (f.stream) q = q.where("stream", "=", f.stream);
  if (f.source) q = q.where("source", "=", f.source);
  if (f.since) q = q.where("first_seen", ">=", f.since);
  if (f.until) q = q.where("first_seen", "<", f.until);
  const state = f.state ?? "active";
  if (state === "active")
    q = q.where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]));
  else if (state === "expired") q = q.where("expires_at", "<=", now);
  return q;
}

/** One page of a tenant's suppressions, newest first, after (below) the id `beforeId`. */
export async function suppressionsPage(
  db: Kysely<Database>,
  f: SuppressionFilter,
  now: Date,
  beforeId: string | undefined,
  limit: number,
): Promise<SuppressionRow[]> {
  let q = filtered(db, f, now).selectAll();
  if (beforeId) q = q.where("id", "<", beforeId as never);
  return (await q.orderBy("id", "desc").limit(limit).execute()) as SuppressionRow[];
}

export const EXPORT_FORMATS = ["csv", "ndjson"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

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

// Cheap formatting in SQL (to_char and regular expressions cost several times more per row).
const csvField = (expr: string) =>
  `case when ${expr} is null then '' when strpos(${expr}, ',') + strpos(${expr}, '"') + strpos(${expr}, chr(10)) + strpos(${expr}, chr(13)) > 0 then '"' || replace(${expr}, '"', '""') || '"' else ${expr} end`;
/** ISO 8601 in UTC, e.g. 2026-01-01T10:00:00.123456Z (the ISO DateStyle, which node-postgres relies on too). */
const isoTime = (col: string) => `replace((${col} at time zone 'UTC')::text, ' ', 'T') || 'Z'`;
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
  opts: { format: ExportFormat; hashed: boolean; afterId: string; limit: number },
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
  opts: { format: ExportFormat; hashed: boolean; pageSize?: number },
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
