// Suppressions added and removed over time, from the suppression log (GET /v1/stats/suppressions, reports).
import { sql, type Kysely } from "kysely";
import type { Database } from "./schema.js";

/** Log actions that take an address off the list. */
const REMOVING = ["removed", "expired", "erased"] as const;

export interface SuppressionCount {
  /** The start of the bucket (UTC). */
  at: Date;
  added: number;
  removed: number;
}

/** Suppressions added and removed in [from, to), per hour or UTC day, buckets without any left out. */
export async function suppressionCounts(
  db: Kysely<Database>,
  q: { tenant: string; from: Date; to: Date; granularity: "hour" | "day" },
): Promise<SuppressionCount[]> {
  const unit = sql.lit(q.granularity);
  const { rows } = await sql<{ at: Date | string; added: string; removed: string }>`
    select date_trunc(${unit}, at at time zone 'UTC') at time zone 'UTC' as at,
           count(*) filter (where action = 'added')::bigint as added,
           count(*) filter (where action in (${sql.join(REMOVING.map((a) => sql.lit(a)))}))::bigint as removed
      from suppression_log
     where tenant = ${q.tenant} and at >= ${q.from} and at < ${q.to}
     group by 1`.execute(db);
  return rows
    .map((r) => ({ at: new Date(r.at), added: Number(r.added), removed: Number(r.removed) }))
    .sort((a, b) => a.at.getTime() - b.at.getTime());
}
