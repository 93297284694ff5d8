// Alert evaluation benchmark on real PostgreSQL: one tenant's hourly rollups over 8 days (the spike rules' 7-day
// baseline and the day's window) for S streams x P providers x C campaigns, loaded with generate_series, then
// evaluation rounds of the shipped rules (src/alerts/engine.ts runOnce): ms per round, median and max.
//
//   node --import tsx bench/alerts.mjs [--streams 20] [--providers 13] [--campaigns 10] [--rounds 5] [--keep]
//   env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test)
import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { createAlertEngine } from "../src/alerts/engine.ts";
import { DEFAULT_ALERTS } from "../src/core/alerts/config.ts";
import { createLogger } from "../src/log.ts";
import { migrateToLatest, openDb } from "../src/store/db.ts";

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const streams = arg("streams", 20);
const providers = arg("providers", 13);
const campaigns = arg("campaigns", 10);
const rounds = arg("rounds", 5);
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = `bench_alerts_${randomBytes(4).toString("hex")}`;

const h = await openDb({ databaseUrl: DATABASE_URL, schema });
await migrateToLatest(h.db);
const now = new Date();
const t0 = Date.now();
await sql`
  insert into rollups (tenant, hour, stream, provider, campaign, sending_ip, sent, delivered, hard, block, complaint)
  select 'bench', date_trunc('hour', ${now}::timestamptz) - make_interval(hours => h),
         's' || s, 'p' || p, 'c' || c, '198.51.100.' || (c % 8),
         1000, 980, (s * 7 + c) % 40, (p * 3 + h) % 30, (s + p + c) % 3
    from generate_series(0, 191) h, generate_series(1, ${streams}) s, generate_series(1, ${providers}) p,
         generate_series(1, ${campaigns}) c`.execute(h.db);
const rows = streams * providers * campaigns * 192;
console.log(`loaded ${rows} rollup rows in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
await sql`analyze rollups`.execute(h.db);

const engine = createAlertEngine({
  db: h.db,
  alerts: DEFAULT_ALERTS,
  logger: createLogger("silent"),
  now: () => now,
  tenants: [],
});
const times = [];
for (let i = 0; i < rounds; i++) {
  const s = performance.now();
  await engine.runOnce();
  times.push(performance.now() - s);
}
await engine.stop();
const open = await sql`select count(*)::int as n from incidents where status <> 'resolved'`.execute(h.db);
times.sort((a, b) => a - b);
console.log(
  `${rounds} rounds (${open.rows[0].n} incidents in force): median ${times[Math.floor(times.length / 2)].toFixed(0)} ms, ` +
    `max ${times.at(-1).toFixed(0)} ms`,
);
if (!args.includes("--keep")) await sql`drop schema ${sql.id(schema)} cascade`.execute(h.db);
await h.close();
