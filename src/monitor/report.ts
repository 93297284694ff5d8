// A tenant's deliverability report for the last complete week or month: its figures gathered from the database
// (rollups, events, sends, the suppression log, incidents) and made into the report model (src/core).
import {
  buildReportModel,
  reportWindows,
  type ReportModel,
  type ReportPeriod,
} from "../core/deliverability-report.js";
import type { Db } from "../store/db.js";
import { blockDiagnostics, domainCounts, reasonCounts } from "../store/report-data.js";
import { rollupBuckets } from "../store/rollups.js";
import { suppressionCounts } from "../store/suppression-stats.js";
import { reportIncidents } from "./report-incidents.js";

/** Rows of each list read (the model keeps the first ten; blocks read more, to find the blocklists named). */
const LIST_ROWS = 10;
const DIAGNOSTIC_ROWS = 500;

export async function buildReport(
  db: Db,
  o: { tenant: string; period: ReportPeriod; now: Date },
): Promise<ReportModel> {
  const { current, previous } = reportWindows(o.period, o.now);
  const range = { tenant: o.tenant, from: current.from, to: current.to };
  const [byStreamProvider, byCampaign, reasons, diagnostics, suppressions, domains, incidents] =
    await Promise.all([
      rollupBuckets(db, {
        tenant: o.tenant,
        from: previous.from,
        to: current.to,
        granularity: "day",
        groupBy: ["stream", "provider"],
        filters: {},
      }),
      rollupBuckets(db, { ...range, granularity: "day", groupBy: ["campaign"], filters: {} }),
      reasonCounts(db, range, LIST_ROWS),
      blockDiagnostics(db, range, DIAGNOSTIC_ROWS),
      suppressionCounts(db, { tenant: o.tenant, from: previous.from, to: current.to, granularity: "day" }),
      domainCounts(db, range, LIST_ROWS * 3),
      reportIncidents(db, { tenantId: o.tenant, from: current.from, to: current.to }),
    ]);
  return buildReportModel({
    tenant: o.tenant,
    period: o.period,
    current,
    previous,
    byStreamProvider,
    byCampaign,
    reasons,
    blockDiagnostics: diagnostics,
    suppressions,
    domains,
    incidents,
  });
}
