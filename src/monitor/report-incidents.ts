// The incidents a report lists: those of the alert rules (src/store/incidents.ts, migration 0017) open at any
// time within the report's period, mapped to the report model's IncidentSummary.
import type { IncidentSummary } from "../core/deliverability-report.js";
import type { Db } from "../store/db.js";
import { listIncidents } from "../store/incidents.js";

export async function reportIncidents(
  db: Db,
  q: { tenantId: string; from: Date; to: Date },
): Promise<IncidentSummary[]> {
  const rows = await listIncidents(db, q);
  return rows.map((r) => ({
    id: String(r.id),
    ruleId: r.rule_id,
    severity: r.severity,
    status: r.status,
    summary: r.summary,
    scope: {
      stream: r.stream,
      provider: r.provider,
      campaign: r.campaign,
      sendingIp: r.sending_ip,
      sendingDomain: r.sending_domain,
    },
    openedAt: new Date(r.opened_at),
    resolvedAt: r.resolved_at ? new Date(r.resolved_at) : null,
  }));
}
