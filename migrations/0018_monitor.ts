import { sql, type CreateTableBuilder, type Kysely } from "kysely";

// Pre-aggregated stats and report runs (issue 12 §3, §6).
//
// Beside the hourly rollups (0010: tenant x hour x stream x provider x campaign x sending IP), the same counters
// summed over coarser keys, written in the statement that writes the hourly rows (src/store/rollups.ts), so that
// a question about a few dimensions does not scan the whole cube, and old data outlives the hourly rows:
// - rollups_daily:     tenant x day x stream x provider x campaign x sending IP (kept longer than the hourly rows)
// - rollups_sp_hourly: tenant x hour x stream x provider;  rollups_sp_daily: tenant x day x stream x provider
// - rollups_sc_hourly: tenant x hour x stream x campaign;  rollups_sc_daily: tenant x day x stream x campaign
// - rollups_si_hourly: tenant x hour x stream x sending IP; rollups_si_daily: tenant x day x stream x sending IP
// and an index on the full cubes by stream and provider first, for a question filtered on both.
// A day is a UTC day. Filled here from the hourly rows already kept.
//
// suppression_log_tenant_at_idx: the log counted by tenant and time (GET /v1/stats/suppressions, reports).
// report_runs: one row per tenant, period kind and period start, taken by the one process that sends that report
// (a scheduled report goes out once however many processes run the schedule).
const COUNTERS = ["sent", "delivered", "hard", "soft", "block", "complaint", "auto_reply", "unverified"];

const CUBES: { table: string; time: "hour" | "day"; dims: string[] }[] = [
  { table: "rollups_daily", time: "day", dims: ["stream", "provider", "campaign", "sending_ip"] },
  { table: "rollups_sp_hourly", time: "hour", dims: ["stream", "provider"] },
  { table: "rollups_sp_daily", time: "day", dims: ["stream", "provider"] },
  { table: "rollups_sc_hourly", time: "hour", dims: ["stream", "campaign"] },
  { table: "rollups_sc_daily", time: "day", dims: ["stream", "campaign"] },
  { table: "rollups_si_hourly", time: "hour", dims: ["stream", "sending_ip"] },
  { table: "rollups_si_daily", time: "day", dims: ["stream", "sending_ip"] },
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const c of CUBES) {
    let t: CreateTableBuilder<string, string> = db.schema
      .createTable(c.table)
      .addColumn("tenant", "text", (col) => col.notNull())
      .addColumn(c.time, "timestamptz", (col) => col.notNull());
    for (const d of c.dims) t = t.addColumn(d, "text", (col) => col.notNull());
    for (const n of COUNTERS) t = t.addColumn(n, "bigint", (col) => col.notNull().defaultTo(0));
    await t.addPrimaryKeyConstraint(`${c.table}_pk`, ["tenant", c.time, ...c.dims]).execute();
    const time =
      c.time === "hour" ? sql`hour` : sql`date_trunc('day', hour at time zone 'UTC') at time zone 'UTC'`;
    const dims = sql.raw(c.dims.join(", "));
    const sums = sql.raw(COUNTERS.map((n) => `sum(${n})`).join(", "));
    await sql`insert into ${sql.table(c.table)} (tenant, ${sql.raw(c.time)}, ${dims}, ${sql.raw(COUNTERS.join(", "))})
      select tenant, ${time}, ${dims}, ${sums} from rollups group by tenant, ${time}, ${dims}`.execute(db);
  }

  for (const [table, time] of [
    ["rollups", "hour"],
    ["rollups_daily", "day"],
  ] as const)
    await db.schema
      .createIndex(`${table}_stream_provider_idx`)
      .on(table)
      .columns(["tenant", "stream", "provider", time])
      .execute();

  // GET /v1/stats/suppressions and the reports count a tenant's suppression log by time.
  await db.schema
    .createIndex("suppression_log_tenant_at_idx")
    .on("suppression_log")
    .columns(["tenant", "at"])
    .execute();

  await db.schema
    .createTable("report_runs")
    .addColumn("tenant", "text", (c) => c.notNull())
    .addColumn("period", "text", (c) => c.notNull())
    .addColumn("period_start", "timestamptz", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("claimed_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("finished_at", "timestamptz")
    .addColumn("error", "text")
    .addPrimaryKeyConstraint("report_runs_pk", ["tenant", "period", "period_start"])
    .execute();
}

export async function down(): Promise<void> {
  throw new Error("migrations are forward-only");
}
