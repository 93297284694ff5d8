// Webhook endpoints, their deliveries (the delivery log), and the outbox -> deliveries fan-out.
import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import type { Db } from "./db.js";
import type { DeliveryStatus } from "../webhooks/events.js";

export interface WebhookRow {
  id: string;
  tenant: string;
  url: string;
  events: string[];
  description: string | null;
  created_at: Date;
  disabled_at: Date | null;
}

const PUBLIC_COLUMNS = ["id", "tenant", "url", "events", "description", "created_at", "disabled_at"] as const;

export function newWebhookId(): string {
  return `wh_${randomBytes(9).toString("base64url")}`;
}

export async function insertWebhook(
  db: Db,
  w: {
    id: string;
    tenant: string;
    url: string;
    secret: string;
    events: string[];
    description?: string | null;
    now: Date;
  },
): Promise<WebhookRow> {
  return db
    .insertInto("webhooks")
    .values({
      id: w.id,
      tenant: w.tenant,
      url: w.url,
      secret: w.secret,
      events: w.events,
      description: w.description ?? null,
      created_at: w.now,
    })
    .returning(PUBLIC_COLUMNS)
    .executeTakeFirstOrThrow();
}

/** A tenant's endpoints, oldest first; a page of them after a position (the last endpoint of the previous page). */
export async function listWebhooks(
  db: Db,
  tenant: string,
  page?: { limit: number; after?: { createdAt: Date; id: string } },
): Promise<WebhookRow[]> {
  let q = db.selectFrom("webhooks").select(PUBLIC_COLUMNS).where("tenant", "=", tenant);
  const after = page?.after;
  if (after)
    q = q.where((eb) =>
      eb.or([
        eb("created_at", ">", after.createdAt),
        eb.and([eb("created_at", "=", after.createdAt), eb("id", ">", after.id)]),
      ]),
    );
  q = q.orderBy("created_at").orderBy("id");
  if (page) q = q.limit(page.limit);
  return q.execute();
}

export async function getWebhook(db: Db, tenant: string, id: string): Promise<WebhookRow | undefined> {
  return db
    .selectFrom("webhooks")
    .select(PUBLIC_COLUMNS)
    .where("tenant", "=", tenant)
    .where("id", "=", id)
    .executeTakeFirst();
}

/** Delete an endpoint and (by cascade) its delivery log. */
export async function deleteWebhook(db: Db, tenant: string, id: string): Promise<boolean> {
  const res = await db
    .deleteFrom("webhooks")
    .where("tenant", "=", tenant)
    .where("id", "=", id)
    .executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

export interface DeliveryRow {
  id: string;
  webhook_id: string;
  outbox_id: string;
  tenant: string;
  event_type: string;
  payload: Record<string, unknown>;
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Date | null;
  created_at: Date;
  delivered_at: Date | null;
}

/** A webhook's deliveries, newest first; `beforeId` pages backwards. */
export async function listDeliveries(
  db: Db,
  tenant: string,
  webhookId: string,
  opts: { limit: number; beforeId?: string; status?: DeliveryStatus },
): Promise<DeliveryRow[]> {
  let q = db
    .selectFrom("webhook_deliveries")
    .selectAll()
    .where("tenant", "=", tenant)
    .where("webhook_id", "=", webhookId);
  if (opts.beforeId !== undefined) q = q.where("id", "<", opts.beforeId);
  if (opts.status) q = q.where("status", "=", opts.status);
  return q.orderBy("id", "desc").limit(opts.limit).execute();
}

export async function getDelivery(db: Db, tenant: string, id: string): Promise<DeliveryRow | undefined> {
  return db
    .selectFrom("webhook_deliveries")
    .selectAll()
    .where("tenant", "=", tenant)
    .where("id", "=", id)
    .executeTakeFirst();
}

/** Put a delivery back in line for an immediate try with a fresh budget of attempts. */
export async function resetDelivery(
  db: Db,
  tenant: string,
  webhookId: string,
  id: string,
  now: Date,
): Promise<DeliveryRow | undefined> {
  return db
    .updateTable("webhook_deliveries")
    .set({ status: "pending", attempts: 0, next_attempt_at: now, last_error: null })
    .where("tenant", "=", tenant)
    .where("webhook_id", "=", webhookId)
    .where("id", "=", id)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Fan out up to `limit` undispatched outbox rows into one delivery per subscribed endpoint of their tenant, and
 * mark them dispatched, in one transaction. `FOR UPDATE SKIP LOCKED`: several workers may run this at once;
 * each row is taken by one of them. Returns the ids of the deliveries made and the number of outbox rows taken.
 */
export async function dispatchOutbox(
  db: Db,
  opts: { limit: number; now: Date },
): Promise<{ taken: number; deliveryIds: string[] }> {
  return db.transaction().execute(async (trx) => {
    const rows = await trx
      .selectFrom("outbox")
      .select(["id", "tenant", "type"])
      .where("dispatched_at", "is", null)
      .orderBy("id")
      .limit(opts.limit)
      .forUpdate()
      .skipLocked()
      .execute();
    if (rows.length === 0) return { taken: 0, deliveryIds: [] };
    const ids = rows.map((r) => r.id);
    // One insert: each outbox row joined with the live endpoints of its tenant that subscribe to its type.
    const made = await sql<{ id: string }>`
      insert into webhook_deliveries (webhook_id, outbox_id, tenant, event_type, payload, status, attempts, next_attempt_at, created_at)
      select w.id, o.id, o.tenant, o.type, o.payload, 'pending', 0, ${opts.now}, ${opts.now}
        from outbox o
        join webhooks w on w.tenant = o.tenant and w.disabled_at is null and o.type = any(w.events)
       where o.id = any(${ids}::bigint[])
       order by o.id, w.id
      on conflict (webhook_id, outbox_id) do nothing
      returning id`.execute(trx);
    await trx.updateTable("outbox").set({ dispatched_at: opts.now }).where("id", "in", ids).execute();
    return { taken: rows.length, deliveryIds: made.rows.map((r) => String(r.id)) };
  });
}

/** Deliveries whose next try is due at `before` (pending or failed), oldest first. */
export async function dueDeliveryIds(db: Db, before: Date, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom("webhook_deliveries as d")
    .innerJoin("webhooks as w", "w.id", "d.webhook_id")
    .select("d.id")
    .where("d.status", "in", ["pending", "failed"])
    .where("d.next_attempt_at", "<=", before)
    .where("w.disabled_at", "is", null)
    .orderBy("d.next_attempt_at")
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

export interface ClaimedDelivery {
  id: string;
  webhookId: string;
  url: string;
  secret: string;
  outboxId: string;
  tenant: string;
  eventType: string;
  payload: Record<string, unknown>;
  /** The number of this try (1 on the first). */
  attempt: number;
  createdAt: Date;
}

/**
 * Take one due delivery for a try: counts the attempt and leases it until `leaseUntil` (a crashed worker's
 * delivery becomes due again then). Undefined when it is not due, already taken, finished, or its endpoint is
 * disabled. The guard is in the UPDATE itself, so two workers never try the same delivery at once.
 */
export async function claimDelivery(
  db: Db,
  id: string,
  now: Date,
  leaseUntil: Date,
): Promise<ClaimedDelivery | undefined> {
  const res = await sql<{
    id: string;
    webhook_id: string;
    url: string;
    secret: string;
    outbox_id: string;
    tenant: string;
    event_type: string;
    payload: Record<string, unknown>;
    attempts: number;
    created_at: Date;
  }>`
    update webhook_deliveries d
       set attempts = d.attempts + 1, next_attempt_at = ${leaseUntil}
      from webhooks w
     where d.id = ${id} and w.id = d.webhook_id and w.disabled_at is null
       and d.status in ('pending', 'failed') and d.next_attempt_at <= ${now}
    returning d.id, d.webhook_id, w.url, w.secret, d.outbox_id, d.tenant, d.event_type, d.payload, d.attempts, d.created_at`.execute(
    db,
  );
  const r = res.rows[0];
  if (!r) return undefined;
  return {
    id: String(r.id),
    webhookId: r.webhook_id,
    url: r.url,
    secret: r.secret,
    outboxId: String(r.outbox_id),
    tenant: r.tenant,
    eventType: r.event_type,
    payload: r.payload,
    attempt: r.attempts,
    createdAt: new Date(r.created_at),
  };
}

export type AttemptOutcome =
  | { status: "delivered"; statusCode: number; at: Date }
  | { status: "failed"; statusCode: number | null; error: string; nextAttemptAt: Date }
  | { status: "dead"; statusCode: number | null; error: string };

/** Record the result of try number `attempt`; ignored if another try has been claimed since (lease expired). */
export async function recordAttempt(
  db: Db,
  id: string,
  attempt: number,
  outcome: AttemptOutcome,
): Promise<boolean> {
  const res = await db
    .updateTable("webhook_deliveries")
    .set(
      outcome.status === "delivered"
        ? {
            status: "delivered",
            last_status_code: outcome.statusCode,
            last_error: null,
            next_attempt_at: null,
            delivered_at: outcome.at,
          }
        : outcome.status === "failed"
          ? {
              status: "failed",
              last_status_code: outcome.statusCode,
              last_error: outcome.error,
              next_attempt_at: outcome.nextAttemptAt,
            }
          : {
              status: "dead",
              last_status_code: outcome.statusCode,
              last_error: outcome.error,
              next_attempt_at: null,
            },
    )
    .where("id", "=", id)
    .where("attempts", "=", attempt)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/**
 * Forget old history: outbox rows dispatched before `outboxBefore` (their deliveries carry their payload), and
 * finished deliveries (delivered or dead) created before `deliveriesBefore`. At most `limit` rows of each per
 * call, so no statement holds locks for long. Returns the rows deleted.
 */
export async function purgeWebhookHistory(
  db: Db,
  opts: { outboxBefore: Date; deliveriesBefore: Date; limit: number },
): Promise<{ outbox: number; deliveries: number }> {
  const outbox = await sql`
    delete from outbox where id in (
      select id from outbox where dispatched_at < ${opts.outboxBefore} order by id limit ${opts.limit})`.execute(
    db,
  );
  const deliveries = await sql`
    delete from webhook_deliveries where id in (
      select id from webhook_deliveries
       where status in ('delivered', 'dead') and created_at < ${opts.deliveriesBefore}
       order by id limit ${opts.limit})`.execute(db);
  return { outbox: Number(outbox.numAffectedRows ?? 0), deliveries: Number(deliveries.numAffectedRows ?? 0) };
}
