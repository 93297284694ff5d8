// Events: one row per mail, address and stream (unique), with the classifier's evidence (rule, parser,
// classifier version), how the recipient was identified (verified, VERP key) and the policy's decision.
import { sql, type Kysely, type Selectable } from "kysely";
import { JsonRows } from "./json-rows.js";
import { PREPARED } from "./prepared.js";
import { subscribed, type OutboxEvent } from "./outbox.js";
import type { Database, EventsTable } from "./schema.js";

export type EventRow = Selectable<EventsTable>;

export interface NewEvent {
  mailId: string | null;
  /** `mail` (processed inbound mail) or `api` (a delivery reported over HTTP), ... */
  source?: string;
  tenant: string;
  stream: string;
  address: string;
  addressHash: string;
  addressOriginal: string;
  recipientDomain: string;
  kind: string;
  reason: string;
  class: string;
  /** Whether the failure is permanent, transient or unknown (null); null for what is no failure. */
  permanent?: boolean | null;
  status?: string | null;
  smtpCode?: number | null;
  action?: string | null;
  diagnostic?: string | null;
  remoteMta?: string | null;
  reportingMta?: string | null;
  feedbackType?: string | null;
  parser?: string | null;
  rule?: string | null;
  verified: boolean;
  verpKeyId?: string | null;
  classifierVersion?: string | null;
  decision?: Record<string, unknown> | null;
  occurredAt: Date;
  /** The recipient's mailbox provider. */
  provider?: string | null;
  /** From the send the event was tied to, when it was. */
  campaign?: string | null;
  sendingIp?: string | null;
  sentAt?: Date | null;
  /** The domain the mail was sent from (its From, else its return path's); null when unknown. */
  sendingDomain?: string | null;
}

/** Insert one event; null when the same mail already has an event for this address and stream. */
export async function insertEvent(db: Kysely<Database>, e: NewEvent): Promise<string | null> {
  const row = await db
    .insertInto("events")
    .values(eventValues(e))
    .onConflict((oc) => oc.columns(["mail_id", "address", "stream"]).doNothing())
    .returning("id")
    .executeTakeFirst();
  return row?.id ?? null;
}

/**
 * Several events in one statement (the worker's bulk path). Returns each one's id, or null where the same mail
 * already has an event for its address and stream (or an earlier event of the list is that one).
 */
export async function insertEvents(db: Kysely<Database>, events: NewEvent[]): Promise<(string | null)[]> {
  if (!events.length) return [];
  // One JSON parameter rather than a VALUES list of 25 parameters per event (see JsonRows); in list order.
  const { rows } = await sql<{ id: string; mail_id: string | null; address: string; stream: string }>`
    ${PREPARED}insert into events (${EVENT_ROWS.names})
    select ${EVENT_ROWS.names}
      from ${EVENT_ROWS.from("e", events.map(eventJson))}
     order by ord
    on conflict (mail_id, address, stream) do nothing
    returning id, mail_id, address, stream`.execute(db);
  const key = (mailId: string | null, address: string, stream: string) =>
    JSON.stringify([mailId, address, stream]);
  // Per key, the ids made, oldest first: one at most for a mail's, any number for events of no mail (a null
  // mail_id conflicts with nothing), taken by the list's events of that key in order.
  const made = new Map<string, string[]>();
  for (const r of rows) {
    const k = key(r.mail_id, r.address, r.stream);
    const ids = made.get(k);
    if (ids) ids.push(r.id);
    else made.set(k, [r.id]);
  }
  for (const ids of made.values()) if (ids.length > 1) ids.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  return events.map((e) => made.get(key(e.mailId, e.address, e.stream))?.shift() ?? null);
}

/** The columns insertEvents writes, with their types (json_to_recordset's column definitions). */
const EVENT_ROWS = new JsonRows([
  ["mail_id", "text"],
  ["source", "text"],
  ["tenant", "text"],
  ["stream", "text"],
  ["address", "text"],
  ["address_hash", "text"],
  ["address_original", "text"],
  ["recipient_domain", "text"],
  ["kind", "text"],
  ["reason", "text"],
  ["class", "text"],
  ["permanent", "boolean"],
  ["status", "text"],
  ["smtp_code", "integer"],
  ["action", "text"],
  ["diagnostic", "text"],
  ["remote_mta", "text"],
  ["reporting_mta", "text"],
  ["feedback_type", "text"],
  ["parser", "text"],
  ["rule", "text"],
  ["verified", "boolean"],
  ["verp_key_id", "text"],
  ["classifier_version", "text"],
  ["decision", "jsonb"],
  ["occurred_at", "timestamptz"],
  ["provider", "text"],
  ["campaign", "text"],
  ["sending_ip", "text"],
  ["sent_at", "timestamptz"],
  ["sending_domain", "text"],
]);

/** An event as a JSON object for insertEvents: eventValues, its decision an object (it goes into jsonb as is). */
function eventJson(e: NewEvent) {
  return { ...eventFields(e), decision: e.decision ?? null };
}

/**
 * Insert one event and, in the same statement, its outbox row (the payload gets `eventId`): one round trip
 * instead of two. Null when the same mail already has an event for this address and stream (no outbox row then).
 * The outbox row, as every one, only when the tenant has an endpoint subscribed to its type.
 */
export async function insertEventWithOutbox(
  db: Kysely<Database>,
  e: NewEvent,
  outbox: OutboxEvent,
): Promise<string | null> {
  const row = await db
    .with("ev", (q) =>
      q
        .insertInto("events")
        .values(eventValues(e))
        .onConflict((oc) => oc.columns(["mail_id", "address", "stream"]).doNothing())
        .returning("id"),
    )
    .with("ob", (q) =>
      q
        .insertInto("outbox")
        .columns(["tenant", "type", "payload"])
        .expression((eb) =>
          eb
            .selectFrom("ev")
            .select([
              sql<string>`${outbox.tenant}::text`.as("tenant"),
              sql<string>`${outbox.type}::text`.as("type"),
              sql<string>`${JSON.stringify(outbox.payload)}::jsonb || jsonb_build_object('eventId', ev.id::text)`.as(
                "payload",
              ),
            ])
            .where(subscribed(sql`${outbox.tenant}::text`, sql`${outbox.type}::text`)),
        ),
    )
    .selectFrom("ev")
    .select("id")
    .executeTakeFirst();
  return row?.id ?? null;
}

function eventValues(e: NewEvent) {
  return { ...eventFields(e), decision: e.decision ? JSON.stringify(e.decision) : null };
}

/** An event's columns but its decision. */
function eventFields(e: NewEvent) {
  return {
    mail_id: e.mailId,
    source: e.source ?? "mail",
    tenant: e.tenant,
    stream: e.stream,
    address: e.address,
    address_hash: e.addressHash,
    address_original: e.addressOriginal,
    recipient_domain: e.recipientDomain,
    kind: e.kind,
    reason: e.reason,
    class: e.class,
    permanent: e.permanent ?? null,
    status: e.status ?? null,
    smtp_code: e.smtpCode ?? null,
    action: e.action ?? null,
    diagnostic: e.diagnostic ?? null,
    remote_mta: e.remoteMta ?? null,
    reporting_mta: e.reportingMta ?? null,
    feedback_type: e.feedbackType ?? null,
    parser: e.parser ?? null,
    rule: e.rule ?? null,
    verified: e.verified,
    verp_key_id: e.verpKeyId ?? null,
    classifier_version: e.classifierVersion ?? null,
    occurred_at: e.occurredAt,
    provider: e.provider ?? null,
    campaign: e.campaign ?? null,
    sending_ip: e.sendingIp ?? null,
    sent_at: e.sentAt ?? null,
    sending_domain: e.sendingDomain ?? null,
  };
}

export async function setEventDecision(
  db: Kysely<Database>,
  id: string,
  decision: Record<string, unknown>,
): Promise<void> {
  await db
    .updateTable("events")
    .set({ decision: JSON.stringify(decision) })
    .where("id", "=", id)
    .execute();
}

/** The events of one mail, in id order. */
export async function mailEvents(db: Kysely<Database>, mailId: string): Promise<EventRow[]> {
  return db.selectFrom("events").selectAll().where("mail_id", "=", mailId).orderBy("id").execute();
}

/** Delete the events of one mail (re-processing); returns them. */
export async function deleteMailEvents(db: Kysely<Database>, mailId: string): Promise<EventRow[]> {
  return db.deleteFrom("events").where("mail_id", "=", mailId).returningAll().execute();
}

/**
 * When the soft bounces of addresses happened (those the policy acted on), in one query: for each key, those
 * after its `since`, oldest first, by the key's JSON ([tenant, stream, addressHash]).
 */
export async function softBounceTimesOf(
  db: Kysely<Database>,
  keys: { tenant: string; stream: string; addressHash: string; since: Date }[],
): Promise<Map<string, Date[]>> {
  const out = new Map<string, Date[]>();
  if (!keys.length) return out;
  // Each key's events by the index on (tenant, address_hash, occurred_at), whatever the table's statistics say
  // (`offset 0` keeps the subquery a per-key probe: a young table's estimates made a join scan all its events).
  const rows = await sql<{ tenant: string; stream: string; address_hash: string; occurred_at: Date }>`
    select k.tenant, k.stream, k.address_hash, e.occurred_at
      from unnest(${keys.map((k) => k.tenant)}::text[], ${keys.map((k) => k.stream)}::text[],
                  ${keys.map((k) => k.addressHash)}::text[], ${keys.map((k) => k.since.toISOString())}::timestamptz[])
             as k(tenant, stream, address_hash, since)
      cross join lateral (
        select e.occurred_at from events e
         where e.tenant = k.tenant and e.address_hash = k.address_hash and e.occurred_at > k.since
           and e.stream = k.stream and e.class = 'soft' and e.decision->>'action' in ('retry', 'suppress')
        offset 0) e
     order by e.occurred_at`.execute(db);
  for (const r of rows.rows) {
    const k = JSON.stringify([r.tenant, r.stream, r.address_hash]);
    const list = out.get(k);
    if (list) list.push(r.occurred_at);
    else out.set(k, [r.occurred_at]);
  }
  return out;
}

export interface EventFilter {
  tenant: string;
  addressHash?: string;
  stream?: string;
  class?: string;
  since?: Date;
  until?: Date;
  /** Keyset pagination: events with an id below this one (newest first). */
  beforeId?: string;
  limit?: number;
}

/** An address's (or a tenant's) events, newest first. */
export async function listEvents(db: Kysely<Database>, f: EventFilter): Promise<EventRow[]> {
  let q = db.selectFrom("events").selectAll().where("tenant", "=", f.tenant);
  if (f.addressHash) q = q.where("address_hash", "=", f.addressHash);
  if (f.stream) q = q.where("stream", "=", f.stream);
  if (f.class) q = q.where("class", "=", f.class);
  if (f.since) q = q.where("occurred_at", ">=", f.since);
  if (f.until) q = q.where("occurred_at", "<", f.until);
  if (f.beforeId) q = q.where("id", "<", f.beforeId);
  return q
    .orderBy("id", "desc")
    .limit(f.limit ?? 100)
    .execute();
}

export interface BlockCountRow {
  tenant: string;
  stream: string;
  provider: string;
  reason: string;
  count: number;
}

/**
 * Blocks counted per stream, receiving provider and reason since a moment (for alerting: a provider that
 * starts refusing a stream). Only the blocks the policy counted (verified ones, under the default policy).
 */
export async function blockCounts(
  db: Kysely<Database>,
  f: { tenant?: string; since: Date },
): Promise<BlockCountRow[]> {
  let q = db
    .selectFrom("events")
    .select([
      "tenant",
      "stream",
      sql<string>`decision->'count'->>'provider'`.as("provider"),
      "reason",
      sql<string>`count(*)`.as("count"),
    ])
    .where("class", "=", "block")
    .where(sql<string>`decision->>'action'`, "=", "count")
    .where("occurred_at", ">=", f.since);
  if (f.tenant) q = q.where("tenant", "=", f.tenant);
  const rows = await q
    .groupBy(["tenant", "stream", sql`decision->'count'->>'provider'`, "reason"])
    .orderBy("tenant")
    .orderBy("stream")
    .execute();
  return rows.map((r) => ({ ...r, count: Number(r.count) }));
}
