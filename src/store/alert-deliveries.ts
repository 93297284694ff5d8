// Notifications of incidents to routes (migration 0017): one row per incident x route x notice (x escalation
// step), tried with back-off until delivered or dead. Each row is tried on its own: a failing route never holds
// up another.
import { sql, type Selectable } from "kysely";
import type { Db } from "./db.js";
import type { AlertDeliveriesTable } from "./schema.js";

export type AlertDeliveryRow = Selectable<AlertDeliveriesTable>;

/** Queue a notification; its id, or null when the same one is queued already (an evaluation run twice adds nothing). */
export async function queueAlertDelivery(
  db: Db,
  d: {
    tenant: string;
    incidentId: string;
    routeId: string;
    channel: string;
    notice: string;
    step?: string;
    payload: Record<string, unknown>;
    now: Date;
  },
): Promise<string | null> {
  const r = await db
    .insertInto("alert_deliveries")
    .values({
      tenant: d.tenant,
      incident_id: d.incidentId,
      route_id: d.routeId,
      channel: d.channel,
      notice: d.notice,
      step: d.step ?? "",
      payload: JSON.stringify(d.payload),
      next_attempt_at: d.now,
      created_at: d.now,
    })
    .onConflict((oc) => oc.columns(["incident_id", "route_id", "notice", "step"]).doNothing())
    .returning("id")
    .executeTakeFirst();
  return r ? String(r.id) : null;
}

/**
 * Take the given notifications for a try now, those of them still to send and not leased by another process
 * (`skip locked`): each counted and leased until `leaseUntil`, as claimDueAlertDeliveries does.
 */
export async function claimAlertDeliveries(
  db: Db,
  ids: readonly string[],
  now: Date,
  leaseUntil: Date,
): Promise<AlertDeliveryRow[]> {
  const wanted = ids.filter((id) => /^\d{1,18}$/.test(id));
  if (!wanted.length) return [];
  const { rows } = await sql<AlertDeliveryRow>`
    update alert_deliveries d set attempts = d.attempts + 1, next_attempt_at = ${leaseUntil}
     where d.id in (select id from alert_deliveries
                     where id = any(${wanted}::bigint[]) and status in ('pending', 'failed')
                       and next_attempt_at <= ${now}
                     order by id for update skip locked)
    returning d.*`.execute(db);
  return rows;
}

/**
 * Take up to `limit` due notifications for a try: each counted and leased until `leaseUntil` in one statement
 * (`skip locked`: several workers take different rows).
 */
export async function claimDueAlertDeliveries(
  db: Db,
  now: Date,
  leaseUntil: Date,
  limit: number,
): Promise<AlertDeliveryRow[]> {
  const { rows } = await sql<AlertDeliveryRow>`
    update alert_deliveries d set attempts = d.attempts + 1, next_attempt_at = ${leaseUntil}
     where d.id in (select id from alert_deliveries
                     where status in ('pending', 'failed') and next_attempt_at <= ${now}
                     order by next_attempt_at, id limit ${limit} for update skip locked)
    returning d.*`.execute(db);
  return rows;
}

export async function recordAlertDelivery(
  db: Db,
  id: string,
  attempt: number,
  outcome:
    | { status: "delivered"; at: Date }
    | { status: "failed"; error: string; nextAttemptAt: Date }
    | { status: "dead"; error: string },
): Promise<boolean> {
  const set =
    outcome.status === "delivered"
      ? { status: "delivered", last_error: null, next_attempt_at: null, delivered_at: outcome.at }
      : outcome.status === "failed"
        ? { status: "failed", last_error: outcome.error, next_attempt_at: outcome.nextAttemptAt }
        : { status: "dead", last_error: outcome.error, next_attempt_at: null };
  const r = await db
    .updateTable("alert_deliveries")
    .set(set)
    .where("id", "=", id)
    .where("attempts", "=", attempt)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function alertDeliveriesOf(db: Db, incidentId: string): Promise<AlertDeliveryRow[]> {
  return db
    .selectFrom("alert_deliveries")
    .selectAll()
    .where("incident_id", "=", incidentId)
    .orderBy("id")
    .execute();
}

/** The escalation routes an incident was escalated to (their rows' step is `after-<N>m[-since-<critical since>]`). */
export async function escalatedRoutes(db: Db, incidentId: string): Promise<string[]> {
  const rows = await db
    .selectFrom("alert_deliveries")
    .select("route_id")
    .distinct()
    .where("incident_id", "=", incidentId)
    .where("notice", "=", "escalated")
    .where("step", "like", "after-%")
    .execute();
  return rows.map((r) => r.route_id);
}
