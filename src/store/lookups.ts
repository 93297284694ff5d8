// Read-side queries of the suppression store: lookups by address hash, the log feed that keeps the in-memory copy
// of the suppressions in force current (the API's and the lookup role's), browsing with filters and keyset pages.
import { CompiledQuery, sql, type Kysely, type Selectable } from "kysely";
import { copyAllLines, type LineSink } from "./copy.js";
import { pgPoolOf } from "./db.js";
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

/** The planner's count of suppression rows (from the last ANALYZE or VACUUM; 0 before the first), for sizing. */
export async function estimatedSuppressionRows(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select greatest(reltuples, 0)::float8 as n from pg_class where oid = to_regclass('suppressions')`.execute(
    db,
  );
  return Number(rows[0]?.n ?? 0);
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
  /** One address, by its keyed hash (an erased address is known by nothing else). */
  addressHash?: string;
}

/** A tenant's suppressions that pass a filter (the list's and the exports' filters). */
export function filtered(db: Kysely<Database>, f: SuppressionFilter, now: Date) {
  let q = db.selectFrom("suppressions").where("tenant", "=", f.tenant);
  if (f.reason) q = q.where("reason", "=", f.reason);
  if (f.class) q = q.where("class", "=", f.class);
  if (f.stream) q = q.where("stream", "=", f.stream);
  if (f.source) q = q.where("source", "=", f.source);
  if (f.addressHash) q = q.where("address_hash", "=", f.addressHash);
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

// --- The lookup role's mirror of the suppressions in force (src/integrations/postfix/suppression-mirror.ts) ---

/** What a send-time answer needs of a suppression row. */
export interface MirrorRow {
  id: string;
  tenant: string;
  stream: string;
  address_hash: string;
  reason: string;
  class: string;
  first_seen: Date;
  expires_at: Date | null;
}

/**
 * The snapshot a statement read with: `xmin`, the oldest transaction still running (every one before it has
 * committed or rolled back), and `xmax`, the first not yet started. Transaction ids, 64-bit (no wraparound).
 */
export interface SnapshotBounds {
  xmin: number;
  xmax: number;
}

/**
 * The highest id of the suppression log (0 when empty), which of the `window` ids below it exist, and the
 * snapshot they were read with (one statement).
 */
export async function suppressionLogHead(
  db: Kysely<Database>,
  window: number,
): Promise<{ maxId: number; present: number[]; snapshot: SnapshotBounds }> {
  const { rows } = await sql<{ id: string | null; xmin: string; xmax: string }>`
    select l.id, txid_snapshot_xmin(txid_current_snapshot())::text as xmin,
           txid_snapshot_xmax(txid_current_snapshot())::text as xmax
      from (select 1) one
      left join suppression_log l on l.id > (select coalesce(max(id), 0) from suppression_log) - ${window}
     order by l.id`.execute(db);
  const present = rows.filter((r) => r.id !== null).map((r) => Number(r.id));
  return {
    maxId: present.length ? present[present.length - 1]! : 0,
    present,
    snapshot: { xmin: Number(rows[0]!.xmin), xmax: Number(rows[0]!.xmax) },
  };
}

/**
 * Lines of the suppression log with an id above `afterId`, or one of `ids` (ids seen missing), by id, and the
 * snapshot they were read with (one statement).
 */
export async function suppressionLogSince(
  db: Kysely<Database>,
  afterId: number,
  ids: number[],
  limit: number,
): Promise<{ lines: { id: number; tenant: string; address_hash: string }[]; snapshot: SnapshotBounds }> {
  // Compiled once: the mirror reads the log five times a second, and building the statement (kysely's visit of
  // a template each time) was most of a poll's own CPU when the log brought nothing (bench/lookup.mjs --cpu-prof).
  const { rows } = await db.executeQuery<{
    id: string | null;
    tenant: string | null;
    address_hash: string | null;
    xmin: string;
    xmax: string;
  }>(CompiledQuery.raw(LOG_SINCE, [afterId, ids, limit]));
  return {
    lines: rows
      .filter((r) => r.id !== null)
      .map((r) => ({ id: Number(r.id), tenant: r.tenant!, address_hash: r.address_hash! })),
    snapshot: { xmin: Number(rows[0]!.xmin), xmax: Number(rows[0]!.xmax) },
  };
}

const LOG_SINCE = `
    select l.id, l.tenant, l.address_hash, txid_snapshot_xmin(txid_current_snapshot())::text as xmin,
           txid_snapshot_xmax(txid_current_snapshot())::text as xmax
      from (select 1) one
      left join lateral (
        select id, tenant, address_hash from suppression_log
         where id > $1 or id = any($2::bigint[])
         order by id limit $3) l on true
     order by l.id`;

/** The suppressions in force at `now` (every stream) of some (tenant, address hash) pairs. */
export async function suppressionsOfAddresses(
  db: Kysely<Database>,
  tenants: string[],
  hashes: string[],
  now: Date,
): Promise<MirrorRow[]> {
  if (tenants.length === 0) return [];
  // One probe of the index on (tenant, address_hash) per address (see ADDRESS_PROBE).
  const { rows } = await sql<MirrorRow>`
    select s.id, s.tenant, s.stream, s.address_hash, s.reason, s.class, s.first_seen, s.expires_at
      from unnest(${tenants}::text[], ${hashes}::text[]) as k(tenant, address_hash)
     cross join lateral (
       select * from suppressions s
        where s.tenant = k.tenant and s.address_hash = k.address_hash
          and (s.expires_at is null or s.expires_at > ${now})
       offset 0) s`.execute(db);
  return rows;
}

/*
 * ADDRESS_PROBE. The feed reads the rows of up to 5,000 changed addresses at once. Written as a join of the keys
 * with the table, the planner (which cannot know how many keys match) read them by a hash join over the whole
 * table from a few hundred thousand suppressions on: 0.2-0.36 s at 300,000 rows for 5,000 keys (EXPLAIN ANALYZE,
 * bench/lookup-mirror.mjs --explain; docs/performance.md, session 11), growing with the table. A lateral subquery
 * that the planner may not pull up into a join (`offset 0`) is read as one index probe per key whatever the
 * table's size: 66-69 ms for the same 5,000 keys.
 */

/**
 * The same rows as suppressionsOfAddresses, as COPY lines handed to `sink` in the form of suppressionsInForceCopy
 * (tenant, stream, address hash, reason, class, first_seen and expires_at in epoch milliseconds), straight from
 * the connection's buffers: no object per row (10,000 row objects, their Dates and a grouping of them held the
 * event loop in young-generation collections; docs/performance.md). A COPY takes no parameters, so the keys are
 * written into the statement in a form that cannot quote out: the tenants in a dollar-quoted string whose tag
 * none of them contains, each hash as it is when it is lower-case hex, and `now` as a number. False, and nothing read,
 * when it cannot (PGlite: no COPY stream; a hash that is not lower-case hex, which none is): read
 * suppressionsOfAddresses.
 */
export async function suppressionsOfAddressesCopy(
  db: Kysely<Database>,
  tenants: string[],
  hashes: string[],
  now: Date,
  sink: LineSink,
): Promise<boolean> {
  const pool = pgPoolOf(db);
  if (!pool || !hashes.every(isLowerHex)) return false;
  if (tenants.length === 0) return true;
  const at = now.getTime();
  if (!Number.isFinite(at)) throw new RangeError("suppressionsOfAddressesCopy: an invalid date");
  // The tenants as an array literal in a dollar-quoted string whose tag none of them holds (nothing in it is an
  // escape), compared as they are: a computed tenant (decoded in SQL) kept the index's first column out of the
  // join, which then scanned the whole index for each address. One index probe per address: ADDRESS_PROBE.
  const quoted = new Map<string, string>();
  for (const x of tenants) if (!quoted.has(x)) quoted.set(x, `"${x.replace(/[\\"]/g, "\\$&")}"`);
  const literal = `{${tenants.map((x) => quoted.get(x)!).join(",")}}`;
  let tag = "$k$";
  while (literal.includes(tag)) tag = `$${"k".repeat(tag.length - 1)}$`;
  const t = tag + literal + tag;
  await copyAllLines(
    pool,
    `copy (select s.tenant, s.stream, s.address_hash, s.reason, s.class,
                  date_part('epoch', s.first_seen) * 1000, date_part('epoch', s.expires_at) * 1000
             from unnest(${t}::text[], string_to_array('${hashes.join(",")}', ',')) as k(tenant, address_hash)
            cross join lateral (
              select * from suppressions s
               where s.tenant = k.tenant and s.address_hash = k.address_hash
                 and (s.expires_at is null or s.expires_at > to_timestamp(${at} / 1000.0))
              offset 0) s) to stdout`,
    sink,
  );
  return true;
}

/** Lower-case hex digits, at least one (what an address hash is). */
const isLowerHex = (s: string) => /^[0-9a-f]+$/.test(s);

/** One page of the suppressions in force at `now`, by id, above `afterId` (PGlite, which has no COPY). */
export async function suppressionsInForcePage(
  db: Kysely<Database>,
  afterId: string,
  limit: number,
  now: Date,
): Promise<MirrorRow[]> {
  const { rows } = await sql<MirrorRow>`
    select id, tenant, stream, address_hash, reason, class, first_seen, expires_at
      from suppressions
     where id > ${afterId} and (expires_at is null or expires_at > ${now})
     order by id limit ${limit}`.execute(db);
  return rows;
}

/**
 * The suppressions in force now, as COPY lines handed to `sink` (tab-separated, COPY's text format: tenant,
 * stream, address hash, reason, class, first_seen and expires_at in epoch milliseconds, `\N` for a permanent
 * one), straight from the connection's buffers. The times as float8 (date_part), exact to a microsecond: a
 * quarter faster to write than extract's numeric (2.2 s against 2.9 s for a million rows). False on PGlite (no COPY stream): read suppressionsInForcePage.
 */
export async function suppressionsInForceCopy(db: Kysely<Database>, sink: LineSink): Promise<boolean> {
  const pool = pgPoolOf(db);
  if (!pool) return false;
  await copyAllLines(
    pool,
    `copy (select tenant, stream, address_hash, reason, class,
                  date_part('epoch', first_seen) * 1000, date_part('epoch', expires_at) * 1000
             from suppressions where expires_at is null or expires_at > now()) to stdout`,
    sink,
  );
  return true;
}
