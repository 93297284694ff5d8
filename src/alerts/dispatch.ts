// Sending the queued notifications of incidents (alert_deliveries, src/store/alert-deliveries.ts). A change of an
// incident queues its notifications in the transaction that makes it; right after that transaction commits, the
// process that made it tries them (`deliverSoon`: the evaluation loop, the API, the CLI), so a route hears of an
// incident when it opens, escalates or resolves, not at the next evaluation round. A try that fails is recorded
// with its next attempt (exponential back-off), which the worker's loop takes up (`deliverDue`), until
// `maxAttempts`, then the row is dead (`notify_failed` in the incident's history). Each row is claimed (counted
// and leased) before its try, so two processes never send the same one at once, and a process that dies
// mid-try leaves the row to be taken again when its lease ends. Each try runs on its own: a route that is down or
// hangs (each try has `timeoutMs`) holds up no other.
import type { AlertsConfig } from "../core/alerts/config.js";
import type { NoticePayload } from "../core/alerts/notify.js";
import type { Logger } from "../log.js";
import {
  claimAlertDeliveries,
  claimDueAlertDeliveries,
  recordAlertDelivery,
  type AlertDeliveryRow,
} from "../store/alert-deliveries.js";
import type { Db } from "../store/db.js";
import { addHistory } from "../store/incidents.js";
import { createSender, type Sender } from "./channels.js";

/** Notifications tried at once per claim. */
const BATCH = 50;

export interface AlertDispatcher {
  /** Try these queued notifications now (call after the transaction that queued them committed). */
  deliverNow(ids: readonly string[]): Promise<void>;
  /** deliverNow in the background: the caller does not wait (`idle` and `close` do). */
  deliverSoon(ids: readonly string[]): void;
  /** Every notification due (new, or a failed one whose back-off has passed). */
  deliverDue(): Promise<void>;
  /** The background tries started so far have ended. */
  idle(): Promise<void>;
  /** Waits for the background tries, then closes the channels (the SMTP relay's connections). */
  close(): Promise<void>;
}

export function createAlertDispatcher(deps: {
  db: Db;
  alerts: AlertsConfig;
  logger: Logger;
  now: () => Date;
}): AlertDispatcher {
  const { db, alerts } = deps;
  const logger = deps.logger.child({ role: "alerts" });
  let sender: Sender | undefined;
  const senderOf = () => (sender ??= createSender(alerts, deps.now));
  const inFlight = new Set<Promise<void>>();

  async function deliverOne(d: AlertDeliveryRow): Promise<void> {
    const route = alerts.routes.find((r) => r.id === d.route_id);
    let error: string | undefined;
    if (!route) error = `route ${d.route_id} is no longer configured`;
    else {
      try {
        await senderOf().send(route, d.payload as unknown as NoticePayload, String(d.id));
      } catch (err) {
        error = err instanceof Error ? err.message || err.name : String(err);
      }
    }
    const at = deps.now();
    const incidentId = String(d.incident_id);
    const attempt = d.attempts;
    if (error === undefined) {
      if (await recordAlertDelivery(db, String(d.id), attempt, { status: "delivered", at }))
        await addHistory(db, incidentId, {
          type: "notified",
          at,
          route: d.route_id,
          channel: d.channel,
          note: d.notice,
        });
      return;
    }
    const dead = !route || attempt >= alerts.delivery.maxAttempts;
    const wait = Math.min(
      6 * 3600_000,
      alerts.delivery.backoffSeconds * 1000 * 2 ** Math.max(0, attempt - 1),
    );
    const recorded = await recordAlertDelivery(
      db,
      String(d.id),
      attempt,
      dead
        ? { status: "dead", error }
        : { status: "failed", error, nextAttemptAt: new Date(at.getTime() + wait) },
    );
    logger.warn(
      { delivery: String(d.id), route: d.route_id, attempt, error, dead },
      "alert notification failed",
    );
    if (recorded && dead)
      await addHistory(db, incidentId, {
        type: "notify_failed",
        at,
        route: d.route_id,
        channel: d.channel,
        note: `${d.notice}: ${error}`.slice(0, 500),
      });
  }

  /** Each on its own: one route that hangs or fails holds up no other. */
  const tryAll = async (rows: AlertDeliveryRow[]) => {
    await Promise.allSettled(rows.map((d) => deliverOne(d)));
  };
  const lease = (now: Date) => new Date(now.getTime() + alerts.delivery.timeoutMs + 60_000);

  async function deliverNow(ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += BATCH) {
      const now = deps.now();
      await tryAll(await claimAlertDeliveries(db, ids.slice(i, i + BATCH), now, lease(now)));
    }
  }

  return {
    deliverNow,
    deliverSoon(ids) {
      if (!ids.length) return;
      const p: Promise<void> = deliverNow(ids)
        .catch((err: unknown) =>
          // Left queued: the worker's loop tries them.
          logger.warn({ err: String(err) }, "immediate alert notification failed; retried by the worker"),
        )
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    },
    async deliverDue() {
      for (;;) {
        const now = deps.now();
        const due = await claimDueAlertDeliveries(db, now, lease(now), BATCH);
        await tryAll(due);
        if (due.length < BATCH) return;
      }
    },
    async idle() {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
    async close() {
      await this.idle();
      sender?.close();
      sender = undefined;
    },
  };
}
