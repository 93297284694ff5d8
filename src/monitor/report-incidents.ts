// The incidents a report lists: the adapter between the reports and the incidents of migration 0017
// (src/store/incidents.ts `listIncidents(db, { tenantId, from, to })`, owner: alerts). Until that store is on the
// branch, no incident is known and the report says so; at merge this file alone calls listIncidents and maps its
// rows to IncidentSummary.
import type { IncidentSummary } from "../core/deliverability-report.js";
import type { Db } from "../store/db.js";

export async function reportIncidents(
  _db: Db,
  _q: { tenantId: string; from: Date; to: Date },
): Promise<IncidentSummary[]> {
  return [];
}
