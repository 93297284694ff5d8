// Scheduled reports taken by one process (migration 0018): a row per tenant, period kind and period start.
import { sql, type Kysely } from "kysely";
import type { Database } from "./schema.js";

export interface ReportRunKey {
  tenant: string;
  period: string;
  periodStart: Date;
}

/**
 * Takes the report of a period: true for the one caller that gets it (any number of processes may ask at once),
 * false when another has it or sent it. A run that failed may be taken again, and one left `sending` for an hour
 * (its process died mid-way).
 */
export async function claimReportRun(db: Kysely<Database>, k: ReportRunKey, now: Date): Promise<boolean> {
  const { rows } = await sql<{ tenant: string }>`
    insert into report_runs (tenant, period, period_start, status, claimed_at)
    values (${k.tenant}, ${k.period}, ${k.periodStart}, 'sending', ${now})
    on conflict (tenant, period, period_start) do update
      set status = 'sending', claimed_at = excluded.claimed_at, error = null
      where report_runs.status = 'failed'
         or (report_runs.status = 'sending' and report_runs.claimed_at < excluded.claimed_at - interval '1 hour')
    returning tenant`.execute(db);
  return rows.length === 1;
}

/** Records how a taken run ended. */
export async function finishReportRun(
  db: Kysely<Database>,
  k: ReportRunKey,
  result: { error?: string },
  now: Date,
): Promise<void> {
  await db
    .updateTable("report_runs")
    .set({ status: result.error ? "failed" : "sent", error: result.error ?? null, finished_at: now })
    .where("tenant", "=", k.tenant)
    .where("period", "=", k.period)
    .where("period_start", "=", k.periodStart)
    .execute();
}

export async function reportRuns(db: Kysely<Database>, tenant: string) {
  return db
    .selectFrom("report_runs")
    .selectAll()
    .where("tenant", "=", tenant)
    .orderBy("period_start")
    .execute();
}
