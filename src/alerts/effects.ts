// What follows a change of an incident, in the transaction that made it: the webhook event (outbox), the pause
// or resumption of its stream, and the notifications of the routes that hear it. Shared by the evaluation loop,
// the API and the CLI.
import type { AlertsConfig } from "../core/alerts/config.js";
import { routesFor, type NoticePayload, type RoutedIncident } from "../core/alerts/notify.js";
import type { Notice } from "../core/alerts/types.js";
import type { Db } from "../store/db.js";
import type { IncidentRow } from "../store/incidents.js";
import { emitOutbox } from "../store/outbox.js";
import { escalatedRoutes, queueAlertDelivery } from "../store/alert-deliveries.js";
import { pauseStream, resumePauses, type ActivePause } from "../store/stream-pauses.js";
import { presentIncident } from "./present.js";

export function routed(i: IncidentRow): RoutedIncident {
  return {
    id: String(i.id),
    tenant: i.tenant,
    ruleId: i.rule_id,
    severity: i.severity,
    status: i.status,
    teams: i.teams,
    summary: i.summary,
    openedAt: new Date(i.opened_at),
    criticalSince: i.critical_since ? new Date(i.critical_since) : null,
  };
}

export function noticePayload(i: IncidentRow, notice: Notice, now: Date): NoticePayload {
  return {
    notice,
    incident: presentIncident(i) as unknown as NoticePayload["incident"],
    tenant: i.tenant,
    at: now.toISOString(),
  };
}

export const pausePayload = (p: ActivePause) => ({
  stream: p.stream,
  provider: p.provider,
  since: p.since.toISOString(),
  reason: p.reason,
  incidentId: p.incidentId,
  by: p.by,
  note: p.note,
});

/**
 * The effects of a change of an incident, in the caller's transaction. Returns the ids of the notifications
 * queued: once the transaction commits, the caller hands them to its dispatcher (src/alerts/dispatch.ts) to be
 * sent at once.
 */
export async function incidentEffects(
  db: Db,
  alerts: AlertsConfig,
  change: { notice: Notice; incident: IncidentRow; by?: "rule" | "hand" },
  now: Date,
): Promise<string[]> {
  const { notice, incident } = change;
  const tenant = incident.tenant;
  const id = String(incident.id);
  await emitOutbox(db, { tenant, type: `incident.${notice}`, payload: presentIncident(incident) as never });
  if ((notice === "opened" || notice === "escalated") && incident.severity === "pause" && incident.stream) {
    const p = await pauseStream(db, {
      tenant,
      stream: incident.stream,
      provider: incident.provider,
      reason: incident.summary,
      incidentId: id,
      by: "rule",
      note: null,
      now,
    });
    if (p) await emitOutbox(db, { tenant, type: "stream.paused", payload: pausePayload(p) });
  }
  if (notice === "resolved" && alerts.resumeOnResolve) {
    const resumed = await resumePauses(db, { tenant, incidentId: id, by: change.by ?? "rule", now });
    for (const p of resumed)
      await emitOutbox(db, {
        tenant,
        type: "stream.resumed",
        payload: { ...pausePayload(p), resumedBy: change.by ?? "rule" },
      });
  }
  const payload = noticePayload(incident, notice, now);
  const escalatedTo = notice === "opened" || notice === "escalated" ? [] : await escalatedRoutes(db, id);
  // An incident opens, is acknowledged and resolves once, but may escalate and be updated many times: each of
  // those is a notification of its own (a row per incident x route x notice x step).
  const step = notice === "escalated" || notice === "updated" ? `at-${now.toISOString()}` : "";
  const queued: string[] = [];
  for (const r of routesFor(alerts.routes, routed(incident), notice, escalatedTo)) {
    const deliveryId = await queueAlertDelivery(db, {
      tenant,
      incidentId: id,
      routeId: r.id,
      channel: r.channel,
      notice,
      step,
      payload: payload as unknown as Record<string, unknown>,
      now,
    });
    if (deliveryId) queued.push(deliveryId);
  }
  return queued;
}
