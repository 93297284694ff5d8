// Who hears what, and what each channel receives: pure. The routes come from the REBOUND_ALERTS file; the
// deliveries are made by src/alerts/channels.ts.
//
//   webhook    the operator's endpoint: the same signed JSON as tenants' webhooks ({ id, type, tenant,
//              createdAt, data: Incident }, Rebound-Signature)
//   slack      a Slack-style incoming webhook: { text } (Mattermost, Rocket.Chat and Teams' Slack-compatible
//              endpoints take it too)
//   email      a plain-text mail through the SMTP relay
//   pagerduty  an Events API v2 event: trigger on opened and escalated, acknowledge, resolve; one dedup key
//              per incident
import type { RouteConfig } from "./config.js";
import type { ReportEvidence, ReportSource } from "./evaluate.js";
import type { Notice } from "./types.js";

/** What routing needs of an incident. */
export interface RoutedIncident {
  id: string;
  tenant: string;
  ruleId: string;
  severity: string;
  status: string;
  teams: string[];
  summary: string;
  openedAt: Date;
  /** Since when it has been critical or pause (null: a warning; absent: since it opened). */
  criticalSince?: Date | null;
}

const hears = (r: RouteConfig, i: RoutedIncident) =>
  r.teams.some((t) => i.teams.includes(t)) &&
  (r.severities as string[]).includes(i.severity) &&
  (!r.tenants || r.tenants.includes(i.tenant));

/**
 * The routes that hear `notice` of an incident. An escalation route hears of it only once it was escalated to
 * (`escalatedTo`: those routes' ids), and then also how it goes on (updated, if it listens to that) and ends
 * (acknowledged, resolved).
 */
export function routesFor(
  routes: readonly RouteConfig[],
  i: RoutedIncident,
  notice: Notice,
  escalatedTo: readonly string[] = [],
): RouteConfig[] {
  return routes.filter((r) => {
    if (!hears(r, i) || !r.notices.includes(notice)) return false;
    if (r.escalateAfterMinutes === undefined) return true;
    return escalatedTo.includes(r.id) && notice !== "opened" && notice !== "escalated";
  });
}

/**
 * The escalation routes an open critical (or pause) incident is due at by `now`: its delay counts from when the
 * incident became critical (an incident that opened as a warning and rose later is not paged at once).
 */
export function escalationsDue(routes: readonly RouteConfig[], i: RoutedIncident, now: Date): RouteConfig[] {
  if (i.status !== "open" || (i.severity !== "critical" && i.severity !== "pause")) return [];
  const since = i.criticalSince === undefined ? i.openedAt : i.criticalSince;
  if (!since) return [];
  return routes.filter(
    (r) =>
      r.escalateAfterMinutes !== undefined &&
      hears(r, i) &&
      since.getTime() + r.escalateAfterMinutes * 60_000 <= now.getTime(),
  );
}

export interface NoticePayload {
  notice: Notice;
  /** The incident as the API shows it. */
  incident: Record<string, unknown> & { id: string; summary: string; severity: string; ruleId: string };
  tenant: string;
  at: string;
}

const label = (p: NoticePayload) =>
  `[${p.incident.severity.toUpperCase()}] incident ${p.incident.id} ${p.notice} (${p.incident.ruleId}, tenant ${p.tenant})`;

export function slackBody(p: NoticePayload): string {
  return JSON.stringify({ text: `${label(p)}: ${p.incident.summary}` });
}

/** PagerDuty's Events API v2 (a route's `url` replaces it: a proxy, or a test's receiver). */
export const PAGERDUTY_EVENTS_URL_DEFAULT = "https://events.pagerduty.com/v2/enqueue";

const PD_ACTION: Record<Notice, "trigger" | "acknowledge" | "resolve"> = {
  opened: "trigger",
  escalated: "trigger",
  // A trigger with the same dedup key updates the open alert (its severity and summary).
  updated: "trigger",
  acknowledged: "acknowledge",
  resolved: "resolve",
};

export function pagerdutyBody(p: NoticePayload, routingKey: string): string {
  const scope = (p.incident.scope ?? {}) as Record<string, string | null>;
  return JSON.stringify({
    routing_key: routingKey,
    event_action: PD_ACTION[p.notice],
    dedup_key: `rebound-${p.tenant}-${p.incident.id}`,
    payload: {
      summary: p.incident.summary.slice(0, 1024),
      source: "rebound",
      severity: p.incident.severity === "warning" ? "warning" : "critical",
      timestamp: p.at,
      component: scope.stream ?? undefined,
      group: scope.provider ?? undefined,
      class: p.incident.ruleId,
      custom_details: { tenant: p.tenant, incident: p.incident },
    },
  });
}

export function webhookBody(p: NoticePayload, deliveryId: string): string {
  return JSON.stringify({
    id: `alr_${deliveryId}`,
    type: `incident.${p.notice}`,
    tenant: p.tenant,
    createdAt: p.at,
    data: p.incident,
  });
}

export function emailMessage(p: NoticePayload): { subject: string; text: string } {
  const ev = (p.incident.evidence ?? {}) as {
    topReasons?: { reason: string; rule: string | null; count: number }[];
    samples?: { recipient: string; diagnostic: string | null }[];
    blocklists?: string[];
    reports?: (ReportEvidence & { source: ReportSource })[];
    failingIps?: { ip: string; failed: number }[];
  };
  const lines = [
    p.incident.summary,
    "",
    `Incident ${p.incident.id} (${p.incident.ruleId}), tenant ${p.tenant}: ${p.notice}, severity ${p.incident.severity}.`,
  ];
  if (ev.blocklists?.length) lines.push(`Blocklists: ${ev.blocklists.join(", ")}`);
  if (ev.topReasons?.length) {
    lines.push("", "Top reasons:");
    for (const r of ev.topReasons) lines.push(`  ${r.count}  ${r.reason}${r.rule ? ` (${r.rule})` : ""}`);
  }
  if (ev.samples?.length) {
    lines.push("", "Samples:");
    for (const s of ev.samples) lines.push(`  ${s.recipient}: ${s.diagnostic ?? "(no diagnostic)"}`);
  }
  if (ev.reports?.length) {
    lines.push("", "Reports:");
    for (const r of ev.reports)
      lines.push(
        r.source === "dmarc"
          ? `  ${r.failed} of ${r.messages} failing  DMARC aggregate ${r.reporter ?? "?"} ${r.reportId ?? "?"} (${r.begin} to ${r.end})`
          : `  ${r.failed}  failure report from ${r.reporter ?? "?"} at ${r.begin}: ${r.failure ?? "unspecified"}${r.sourceIp ? ` from ${r.sourceIp}` : ""}`,
      );
  }
  if (ev.failingIps?.length) {
    lines.push("", "Failing source IPs:");
    for (const i of ev.failingIps) lines.push(`  ${i.failed}  ${i.ip}`);
  }
  lines.push("", "Acknowledge: rebound incidents ack " + p.incident.id);
  return { subject: `[Rebound] ${label(p)}: ${p.incident.summary}`.slice(0, 250), text: lines.join("\n") };
}
