// Suppressions: one row per tenant, stream (or `*`) and address. Every change is logged in suppression_log
// with who and why, and announced in the outbox. Functions take a Kysely or a Transaction; callers that need
// several changes to land together pass a transaction.
import { sql, type Kysely, type Selectable } from "kysely";
import { JsonRows } from "./json-rows.js";
import { PREPARED } from "./prepared.js";
import { emitOutbox, subscribed, type OutboxEvent } from "./outbox.js";
import type { Database, SuppressionsTable } from "./schema.js";
import type { SuppressionSource } from "../core/policy.js";

/**
 * The sources of the suppressions that the policy derives from events (src/core/policy.ts): re-made, or removed,
 * when the mails behind them are processed again. The others are a person's (`manual`) or a list's (`import`).
 */
export const EVENT_SUPPRESSION_SOURCES = [
  "bounce",
  "complaint",
  "soft_escalation",
] as const satisfies readonly SuppressionSource[];

export const SUPPRESSION_SOURCES = [...EVENT_SUPPRESSION_SOURCES, "manual", "import"] as const;
export type SuppressionSourceName = (typeof SUPPRESSION_SOURCES)[number];

/** A suppression derived from events (not made by hand or imported). */
export const fromEvents = (source: string): boolean =>
  (EVENT_SUPPRESSION_SOURCES as readonly string[]).includes(source);

export interface SuppressionInput {
  tenant: string;
  stream: string;
  /** Normalized (normalizeAddress). */
  address: string;
  /** Its keyed hash (the process's AddressHasher). */
  addressHash: string;
  addressOriginal?: string | null;
  reason: string;
  class: string;
  source: SuppressionSourceName;
  rule?: string | null;
  eventIds?: string[];
  /** Null or absent: permanent. */
  expiresAt?: Date | null;
  note?: string | null;
  actor?: string | null;
  at: Date;
}

export interface UpsertOptions {
  /** Emit `suppression.added` when the suppression is new (default true). */
  emit?: boolean;
  /** An outbox row to write after the suppression's own (in the same statement as its log line). */
  then?: OutboxEvent;
  /** Hold the log line and announcements here instead of writing them (the caller writes them: writeDeferred). */
  defer?: Deferred;
}

export type SuppressionRow = Selectable<SuppressionsTable>;

/** Whether b's expiry outlasts a's (null is forever). */
const outlasts = (b: Date | null, a: Date | null) =>
  a === null ? false : b === null ? true : b.getTime() > a.getTime();

/**
 * Add a suppression, or merge into the one of the same tenant, stream and address: event ids are merged, the
 * count grows, last_seen moves on; the reason, class, source, rule and expiry become the new ones when the new
 * suppression lasts longer (permanent beats temporary). A row whose expiry has passed counts as absent: it is
 * replaced and `created` is true.
 */
export async function upsertSuppression(
  db: Kysely<Database>,
  s: SuppressionInput,
  opts: UpsertOptions = {},
): Promise<{ id: string; created: boolean }> {
  const hash = s.addressHash;
  const expiresAt = s.expiresAt ?? null;
  const eventIds = s.eventIds ?? [];
  const fresh = freshRow(s);
  // The common case first: a new suppression (one statement); otherwise lock the existing row and merge.
  const ins = await db
    .insertInto("suppressions")
    .values(newRow(s, hash))
    .onConflict((oc) => oc.columns(["tenant", "stream", "address_hash"]).doNothing())
    .returning("id")
    .executeTakeFirst();
  let created = !!ins;
  let id = ins?.id ?? "";
  const existing = ins ? undefined : await selectForUpdate(db, s.tenant, s.stream, hash);
  if (!ins && !existing) throw new Error("suppression vanished during upsert");
  if (existing) {
    id = existing.id;
    const expired = existing.expires_at !== null && existing.expires_at.getTime() <= s.at.getTime();
    // An orphan: its events were taken out by re-processing; the new derivation replaces it, keeping its identity.
    const orphan = existing.count === 0 && existing.event_ids.length === 0;
    if (orphan && !expired) {
      await db
        .updateTable("suppressions")
        .set({ ...fresh, first_seen: existing.first_seen })
        .where("id", "=", id)
        .execute();
    } else if (expired) {
      created = true;
      await db
        .updateTable("suppressions")
        .set({ ...fresh, created_at: s.at })
        .where("id", "=", id)
        .execute();
    } else {
      const stronger = outlasts(expiresAt, existing.expires_at);
      const merged = [...new Set([...existing.event_ids.map(String), ...eventIds])];
      await db
        .updateTable("suppressions")
        .set({
          address: s.address,
          event_ids: merged,
          count: existing.count + 1,
          last_seen: existing.last_seen.getTime() > s.at.getTime() ? existing.last_seen : s.at,
          updated_at: s.at,
          ...(s.note ? { note: s.note } : {}),
          ...(stronger
            ? {
                reason: s.reason,
                class: s.class,
                source: s.source,
                rule: s.rule ?? null,
                expires_at: expiresAt,
                address_original: fresh.address_original,
              }
            : {}),
        })
        .where("id", "=", id)
        .execute();
    }
  }
  const log = logLine(s, hash, created ? "added" : "updated");
  // The log line and the announcements in one statement (one round trip).
  const announce: OutboxEvent[] = [];
  if (created && opts.emit !== false) announce.push(addedEvent(id, s));
  if (opts.then) announce.push(opts.then);
  if (opts.defer) {
    opts.defer.logs.push(log);
    opts.defer.announce.push(...announce);
  } else {
    await writeLogAndOutbox(db, [log], announce);
  }
  return { id, created };
}

/** The columns of a suppression as the input makes it, but for its identity (tenant, stream, hash). */
function freshRow(s: SuppressionInput) {
  return {
    address: s.address,
    address_original: s.addressOriginal ?? s.address,
    reason: s.reason,
    class: s.class,
    source: s.source,
    rule: s.rule ?? null,
    event_ids: s.eventIds ?? [],
    count: 1,
    first_seen: s.at,
    last_seen: s.at,
    expires_at: s.expiresAt ?? null,
    note: s.note ?? null,
    created_by: s.actor ?? null,
    updated_at: s.at,
  };
}

const newRow = (s: SuppressionInput, hash: string) => ({
  tenant: s.tenant,
  stream: s.stream,
  address_hash: hash,
  ...freshRow(s),
  created_at: s.at,
});

/** newRow's columns with their types (json_to_recordset's column definitions), in its order. */
const SUPPRESSION_ROWS = new JsonRows([
  ["tenant", "text"],
  ["stream", "text"],
  ["address_hash", "text"],
  ["address", "text"],
  ["address_original", "text"],
  ["reason", "text"],
  ["class", "text"],
  ["source", "text"],
  ["rule", "text"],
  ["event_ids", "bigint[]"],
  ["count", "integer"],
  ["first_seen", "timestamptz"],
  ["last_seen", "timestamptz"],
  ["expires_at", "timestamptz"],
  ["note", "text"],
  ["created_by", "text"],
  ["updated_at", "timestamptz"],
  ["created_at", "timestamptz"],
]);

function logLine(s: SuppressionInput, hash: string, action: "added" | "updated") {
  return {
    tenant: s.tenant,
    stream: s.stream,
    address_hash: hash,
    address: s.address,
    action,
    reason: s.reason,
    source: s.source,
    actor: s.actor ?? null,
    note: s.note ?? null,
    event_ids: s.eventIds ?? [],
    at: s.at,
  };
}

/** The announcement of a new suppression. */
function addedEvent(id: string, s: SuppressionInput): OutboxEvent {
  return {
    tenant: s.tenant,
    type: "suppression.added",
    payload: {
      id: String(id),
      stream: s.stream,
      address: s.address,
      reason: s.reason,
      class: s.class,
      source: s.source,
      rule: s.rule ?? null,
      eventIds: (s.eventIds ?? []).map(String),
      expiresAt: s.expiresAt?.toISOString() ?? null,
      at: s.at.toISOString(),
    },
  };
}

/**
 * Log lines and announcements in one statement (one round trip); outbox rows get their ids in list order. Each
 * list goes as one JSON parameter (see JsonRows).
 */
async function writeLogAndOutbox(
  db: Kysely<Database>,
  logs: ReturnType<typeof logLine>[],
  announce: OutboxEvent[],
): Promise<void> {
  if (!announce.length && !logs.length) return;
  await sql`
    ${PREPARED}with logged as (
      insert into suppression_log (${LOG_ROWS.names})
      select ${LOG_ROWS.names}
        from ${LOG_ROWS.from("l", logs)}
       order by ord
    )
    insert into outbox (${OUTBOX_ROWS.names})
    select ${OUTBOX_ROWS.names}
      from ${OUTBOX_ROWS.from("o", announce)}
     where ${subscribed(sql.ref("o.tenant"), sql.ref("o.type"))}
     order by ord`.execute(db);
}

/** An announcement's columns (OutboxEvent's fields). */
const OUTBOX_ROWS = new JsonRows([
  ["tenant", "text"],
  ["type", "text"],
  ["payload", "jsonb"],
]);

/** logLine's columns with their types (json_to_recordset's column definitions). */
const LOG_ROWS = new JsonRows([
  ["tenant", "text"],
  ["stream", "text"],
  ["address_hash", "text"],
  ["address", "text"],
  ["action", "text"],
  ["reason", "text"],
  ["source", "text"],
  ["actor", "text"],
  ["note", "text"],
  ["event_ids", "bigint[]"],
  ["at", "timestamptz"],
]);

/** Log lines and announcements held back to be written together, in order, in one statement. */
export interface Deferred {
  logs: ReturnType<typeof logLine>[];
  announce: OutboxEvent[];
}

export const deferred = (): Deferred => ({ logs: [], announce: [] });

export const writeDeferred = (db: Kysely<Database>, d: Deferred) => writeLogAndOutbox(db, d.logs, d.announce);

/**
 * New suppressions of a batch in one statement (the worker's bulk path): the rows of those that do not exist.
 * Returns, per input, the id of the suppression it made, or null where one existed (or an earlier input of the
 * list made it): the caller merges those with upsertSuppression, and notes the others with noteCreated.
 */
export async function insertSuppressionRows(
  db: Kysely<Database>,
  inputs: SuppressionInput[],
): Promise<(string | null)[]> {
  if (!inputs.length) return [];
  const hashes = inputs.map((s) => s.addressHash);
  // One JSON parameter rather than a VALUES list (see JsonRows); in list order.
  const { rows } = await sql<{ id: string; tenant: string; stream: string; address_hash: string }>`
    ${PREPARED}insert into suppressions (${SUPPRESSION_ROWS.names})
    select ${SUPPRESSION_ROWS.names}
      from ${SUPPRESSION_ROWS.from(
        "r",
        inputs.map((s, i) => newRow(s, hashes[i]!)),
      )}
     order by ord
    on conflict (tenant, stream, address_hash) do nothing
    returning id, tenant, stream, address_hash`.execute(db);
  const made = new Map(rows.map((r) => [JSON.stringify([r.tenant, r.stream, r.address_hash]), r.id]));
  return inputs.map((s, i) => {
    const k = JSON.stringify([s.tenant, s.stream, hashes[i]]);
    const id = made.get(k) ?? null;
    made.delete(k); // a second input for the same key merges into the first
    return id;
  });
}

/** The log line and announcements of a suppression insertSuppressionRows made, as upsertSuppression writes them. */
export function noteCreated(d: Deferred, id: string, s: SuppressionInput, then?: OutboxEvent): void {
  d.logs.push(logLine(s, s.addressHash, "added"));
  d.announce.push(addedEvent(id, s));
  if (then) d.announce.push(then);
}

async function selectForUpdate(db: Kysely<Database>, tenant: string, stream: string, hash: string) {
  return db
    .selectFrom("suppressions")
    .select(["id", "event_ids", "count", "first_seen", "last_seen", "expires_at"])
    .where("tenant", "=", tenant)
    .where("stream", "=", stream)
    .where("address_hash", "=", hash)
    .forUpdate()
    .executeTakeFirst();
}

export interface RemoveInput {
  tenant: string;
  stream: string;
  /** Normalized. */
  address: string;
  /** Its keyed hash. */
  addressHash: string;
  actor?: string | null;
  note?: string | null;
  at: Date;
}

/** Delete a suppression, log `removed` with who and why, emit `suppression.removed`. False when there was none. */
export async function removeSuppression(
  db: Kysely<Database>,
  r: RemoveInput,
  opts: UpsertOptions = {},
): Promise<boolean> {
  return (await removeSuppressions(db, r, opts)).length > 0;
}

/**
 * Delete an address's suppressions in one stream, or in all its streams when `stream` is absent, in one
 * statement (so a row added meanwhile is either seen or added after, never missed half-way); log `removed`
 * for each with who and why, emit `suppression.removed`. All in one transaction (the caller's, if it is one).
 * Returns the streams removed. Used by `DELETE /v1/suppressions/{address}` and `rebound suppressions remove`.
 */
export async function removeSuppressions(
  db: Kysely<Database>,
  r: Omit<RemoveInput, "stream"> & { stream?: string },
  opts: UpsertOptions = {},
): Promise<string[]> {
  const run = async (tx: Kysely<Database>): Promise<string[]> => {
    const hash = r.addressHash;
    let del = tx.deleteFrom("suppressions").where("tenant", "=", r.tenant).where("address_hash", "=", hash);
    if (r.stream !== undefined) del = del.where("stream", "=", r.stream);
    const rows = await del.returning(["id", "stream", "reason", "source", "event_ids"]).execute();
    if (!rows.length) return [];
    rows.sort((x, y) => (x.stream < y.stream ? -1 : x.stream > y.stream ? 1 : 0));
    await tx
      .insertInto("suppression_log")
      .values(
        rows.map((row) => ({
          tenant: r.tenant,
          stream: row.stream,
          address_hash: hash,
          address: r.address,
          action: "removed",
          reason: row.reason,
          source: row.source,
          actor: r.actor ?? null,
          note: r.note ?? null,
          event_ids: row.event_ids,
          at: r.at,
        })),
      )
      .execute();
    if (opts.emit !== false) {
      for (const row of rows)
        await emitOutbox(tx, {
          tenant: r.tenant,
          type: "suppression.removed",
          payload: {
            id: String(row.id),
            stream: row.stream,
            address: r.address,
            reason: row.reason,
            actor: r.actor ?? null,
            note: r.note ?? null,
            at: r.at.toISOString(),
          },
        });
    }
    return rows.map((row) => row.stream);
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}

/** The suppressions of one address (by its keyed hash) in one tenant (every stream), active or expired. */
export async function getSuppressions(
  db: Kysely<Database>,
  tenant: string,
  addressHash: string,
): Promise<SuppressionRow[]> {
  return db
    .selectFrom("suppressions")
    .selectAll()
    .where("tenant", "=", tenant)
    .where("address_hash", "=", addressHash)
    .orderBy("stream")
    .execute();
}

export interface ExplainedEvent {
  id: string;
  mailId: string | null;
  kind: string;
  reason: string;
  class: string;
  status: string | null;
  diagnostic: string | null;
  rule: string | null;
  parser: string | null;
  verified: boolean;
  classifierVersion: string | null;
  decision: Record<string, unknown> | null;
  occurredAt: string;
}

export interface ExplainedSuppression {
  id: string;
  tenant: string;
  stream: string;
  address: string | null;
  addressOriginal: string | null;
  reason: string;
  class: string;
  source: string;
  /** The policy rule that suppressed (or null for manual and imported ones). */
  rule: string | null;
  count: number;
  firstSeen: Date;
  lastSeen: Date;
  expiresAt: Date | null;
  active: boolean;
  note: string | null;
  createdBy: string | null;
  /** The events that caused it, oldest first, each with its classifier rule and policy decision. */
  events: ExplainedEvent[];
  /** Its log: added, updated, removed (by whom and why). */
  log: {
    action: string;
    reason: string | null;
    source: string | null;
    actor: string | null;
    note: string | null;
    at: string;
  }[];
}

/**
 * The suppressions of an address (all streams of a tenant) with the events and rules that caused them and their
 * log, in one query.
 */
export async function explainSuppression(
  db: Kysely<Database>,
  tenant: string,
  addressHash: string,
  now: Date = new Date(),
): Promise<ExplainedSuppression[]> {
  const hash = addressHash;
  const res = await sql<{
    id: string;
    tenant: string;
    stream: string;
    address: string | null;
    address_original: string | null;
    reason: string;
    class: string;
    source: string;
    rule: string | null;
    count: number;
    first_seen: Date;
    last_seen: Date;
    expires_at: Date | null;
    note: string | null;
    created_by: string | null;
    events: ExplainedEvent[] | null;
    log: ExplainedSuppression["log"] | null;
  }>`
    select s.id, s.tenant, s.stream, s.address, s.address_original, s.reason, s.class, s.source, s.rule, s.count,
           s.first_seen, s.last_seen, s.expires_at, s.note, s.created_by,
           (select json_agg(json_build_object(
                     'id', e.id::text, 'mailId', e.mail_id, 'kind', e.kind, 'reason', e.reason, 'class', e.class,
                     'status', e.status, 'diagnostic', e.diagnostic, 'rule', e.rule, 'parser', e.parser,
                     'verified', e.verified, 'classifierVersion', e.classifier_version, 'decision', e.decision,
                     'occurredAt', e.occurred_at) order by e.occurred_at, e.id)
              from events e where e.id = any(s.event_ids)) as events,
           (select json_agg(json_build_object('action', l.action, 'reason', l.reason, 'source', l.source,
                     'actor', l.actor, 'note', l.note, 'at', l.at) order by l.at, l.id)
              from suppression_log l
             where l.tenant = s.tenant and l.stream = s.stream and l.address_hash = s.address_hash) as log
      from suppressions s
     where s.tenant = ${tenant} and s.address_hash = ${hash}
     order by s.stream`.execute(db);
  return res.rows.map((r) => ({
    id: String(r.id),
    tenant: r.tenant,
    stream: r.stream,
    address: r.address,
    addressOriginal: r.address_original,
    reason: r.reason,
    class: r.class,
    source: r.source,
    rule: r.rule,
    count: r.count,
    firstSeen: new Date(r.first_seen),
    lastSeen: new Date(r.last_seen),
    expiresAt: r.expires_at ? new Date(r.expires_at) : null,
    active: r.expires_at === null || new Date(r.expires_at).getTime() > now.getTime(),
    note: r.note,
    createdBy: r.created_by,
    // PostgreSQL writes times in JSON as `+00:00` with microseconds: one format everywhere (toISOString).
    events: (r.events ?? []).map((e) => ({ ...e, occurredAt: iso(e.occurredAt) })),
    log: (r.log ?? []).map((l) => ({ ...l, at: iso(l.at) })),
  }));
}

const iso = (t: string): string => new Date(t).toISOString();

export interface ListFilter {
  tenant?: string;
  stream?: string;
  /** Only rows with id greater than this (keyset pagination). */
  afterId?: string;
  limit?: number;
}

/** Suppressions in id order, for the operator's CLI. */
export async function listSuppressions(db: Kysely<Database>, f: ListFilter = {}) {
  let q = db
    .selectFrom("suppressions")
    .selectAll()
    .orderBy("id")
    .limit(f.limit ?? 1000);
  if (f.tenant) q = q.where("tenant", "=", f.tenant);
  if (f.stream) q = q.where("stream", "=", f.stream);
  if (f.afterId) q = q.where("id", ">", f.afterId);
  return q.execute();
}

/** Delete suppressions whose expiry has passed (logging `expired`); returns how many. */
export async function expireSuppressions(db: Kysely<Database>, now: Date, limit = 10_000): Promise<number> {
  const res = await sql<{ n: string }>`
    with gone as (
      delete from suppressions where id in (
        select id from suppressions where expires_at is not null and expires_at <= ${now} order by expires_at limit ${limit})
      returning tenant, stream, address_hash, address, reason, source, event_ids),
    logged as (
      insert into suppression_log (tenant, stream, address_hash, address, action, reason, source, actor, event_ids, at)
      select tenant, stream, address_hash, address, 'expired', reason, source, 'rebound', event_ids, ${now} from gone returning 1)
    select count(*)::text as n from logged`.execute(db);
  return Number(res.rows[0]?.n ?? 0);
}
