// The evaluation loop of the worker role: every `evaluateEverySeconds`, each tenant's rules over its figures
// (src/core/alerts/evaluate.ts), the outcome applied with its effects (webhooks, pauses, notifications), the
// escalations due queued; each change's notifications sent as soon as its transaction commits, and the retries
// due (src/alerts/dispatch.ts). Safe with several worker processes: a tenant is
// evaluated under a transaction-scoped advisory lock (a process that finds it taken skips the tenant this
// round), and notifications are claimed row by row (`for update skip locked`).
import type { AlertsConfig } from "../core/alerts/config.js";
import {
  eventsSince,
  evaluate,
  figureQueries,
  reportQueries,
  type FigureRow,
  type ReportRow,
} from "../core/alerts/evaluate.js";
import { escalationsDue } from "../core/alerts/notify.js";
import type { Logger } from "../log.js";
import { queueAlertDelivery } from "../store/alert-deliveries.js";
import { figureRows, recentEvents, tenantsToEvaluate } from "../store/alert-figures.js";
import { authReportRows } from "../store/authentication.js";
import type { Db } from "../store/db.js";
import {
  activeIncidents,
  addHistory,
  applyEvaluation,
  resolvedByHandSince,
  tryEvaluationLock,
  unacknowledgedSince,
} from "../store/incidents.js";
import { emitOutbox } from "../store/outbox.js";
import { createAlertDispatcher, type AlertDispatcher } from "./dispatch.js";
import { incidentEffects, noticePayload, routed } from "./effects.js";
import { presentIncident } from "./present.js";
import type { Severity } from "../core/alerts/types.js";

/** Events quoted and counted per tenant and round, newest first (the rules see no more than these). */
const MAX_EVENTS = 5000;

export interface AlertEngineDeps {
  db: Db;
  alerts: AlertsConfig;
  logger: Logger;
  now: () => Date;
  /** Evaluated even without API keys (the default tenant). */
  tenants: readonly string[];
}

export interface AlertEngine {
  /** One round now: evaluate, escalate, notify. */
  runOnce(): Promise<void>;
  stop(): Promise<void>;
}

export function createAlertEngine(deps: AlertEngineDeps): AlertEngine & { start(): void } {
  const { db, alerts } = deps;
  const logger = deps.logger.child({ role: "alerts" });
  const dispatcher: AlertDispatcher = createAlertDispatcher({
    db,
    alerts,
    logger: deps.logger,
    now: deps.now,
  });

  /** One tenant's evaluation, in a transaction; returns the notifications it queued. */
  async function evaluateTenant(tenant: string): Promise<string[]> {
    return db.transaction().execute(async (trx) => {
      const queued: string[] = [];
      if (!(await tryEvaluationLock(trx, tenant))) return queued;
      const now = deps.now();
      const figures = new Map<string, FigureRow[]>();
      for (const q of figureQueries(alerts.rules, now))
        figures.set(q.ruleId, await figureRows(trx, tenant, q));
      // The receivers' reports the dmarc and authentication rules count (aggregate rows, failure reports).
      const reports = new Map<string, ReportRow[]>();
      for (const q of reportQueries(alerts.rules, now))
        reports.set(q.ruleId, await authReportRows(trx, tenant, q));
      const since = eventsSince(alerts.rules, now);
      const events = await recentEvents(trx, tenant, since, MAX_EVENTS);
      const active = (await activeIncidents(trx, tenant)).map((i) => ({
        id: String(i.id),
        ruleId: i.rule_id,
        scopeKey: i.scope_key,
        scope: {
          stream: i.stream,
          provider: i.provider,
          campaign: i.campaign,
          sendingIp: i.sending_ip,
          sendingDomain: i.sending_domain,
        },
        severity: i.severity as Severity,
        notedValue: i.noted_value,
        updates: i.noted_updates,
      }));
      // A rule x scope resolved by hand stays quiet for one window of its rule.
      const quiet = (await resolvedByHandSince(trx, tenant, since)).map((q) => {
        const rule = alerts.rules.find((r) => r.id === q.ruleId);
        return { ...q, until: new Date(q.resolvedAt.getTime() + (rule?.windowMinutes ?? 60) * 60_000) };
      });
      const ev = evaluate({ now, rules: alerts.rules, figures, events, reports, active, quiet });
      const changes = await applyEvaluation(trx, tenant, ev, now);
      for (const c of changes) {
        queued.push(...(await incidentEffects(trx, alerts, { ...c, by: "rule" }, now)));
        logger.info(
          {
            tenant,
            incident: String(c.incident.id),
            rule: c.incident.rule_id,
            severity: c.incident.severity,
          },
          `incident ${c.notice}: ${c.incident.summary}`,
        );
      }
      return queued;
    });
  }

  /**
   * Open critical incidents left unacknowledged past an escalation route's delay: queued to that route once per
   * stretch of being critical (critical_since).
   */
  async function escalate(): Promise<void> {
    const delays = alerts.routes
      .map((r) => r.escalateAfterMinutes)
      .filter((m): m is number => m !== undefined);
    if (!delays.length) return;
    const now = deps.now();
    const candidates = await unacknowledgedSince(db, new Date(now.getTime() - Math.min(...delays) * 60_000));
    for (const inc of candidates) {
      for (const route of escalationsDue(alerts.routes, routed(inc), now)) {
        const queued = await db.transaction().execute(async (trx) => {
          const payload = noticePayload(inc, "escalated", now);
          const queued = await queueAlertDelivery(trx, {
            tenant: inc.tenant,
            incidentId: String(inc.id),
            routeId: route.id,
            channel: route.channel,
            notice: "escalated",
            // Once per time it became critical: one that went back to a warning and rose again is paged again.
            step: `after-${route.escalateAfterMinutes}m-since-${new Date(inc.critical_since!).toISOString()}`,
            payload: payload as unknown as Record<string, unknown>,
            now,
          });
          if (!queued) return null;
          await addHistory(trx, String(inc.id), {
            type: "escalated",
            at: now,
            severity: inc.severity,
            route: route.id,
            channel: route.channel,
            note: `not acknowledged within ${route.escalateAfterMinutes} minutes`,
            by: "rule",
          });
          await emitOutbox(trx, {
            tenant: inc.tenant,
            type: "incident.escalated",
            payload: presentIncident(inc) as never,
          });
          logger.warn(
            { incident: String(inc.id), route: route.id },
            "incident escalated: not acknowledged in time",
          );
          return queued;
        });
        if (queued) dispatcher.deliverSoon([queued]);
      }
    }
  }

  let running: Promise<void> | undefined;
  async function round(): Promise<void> {
    const now = deps.now();
    const reportsSince = new Date(Math.min(...reportQueries(alerts.rules, now).map((q) => q.from.getTime())));
    for (const tenant of await tenantsToEvaluate(db, deps.tenants, reportsSince)) {
      try {
        // Its notifications go out as soon as its transaction committed, while the next tenant is evaluated.
        dispatcher.deliverSoon(await evaluateTenant(tenant));
      } catch (err) {
        logger.error({ tenant, err: String(err) }, "alert evaluation failed; retried next round");
      }
    }
    await escalate();
    // Retries whose back-off has passed, and what another process queued and could not send.
    await dispatcher.deliverDue();
    await dispatcher.idle();
  }
  const runOnce = (): Promise<void> => {
    running ??= round()
      .catch((err: unknown) => logger.error({ err: String(err) }, "alert round failed; retried next round"))
      .finally(() => (running = undefined));
    return running;
  };

  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    void runOnce().finally(() => {
      if (!stopped) timer = setTimeout(tick, alerts.evaluateEverySeconds * 1000);
    });
  };

  return {
    runOnce,
    start: tick,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      await dispatcher.close();
    },
  };
}
