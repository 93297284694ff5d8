// Where GET /v1/stats spends its time for one question, in-process, on a kept bench/stats schema: PostgreSQL's
// packed read (packedBuckets), writing the JSON (writeStatsGroups), with the CPU time of each.
//   node --import tsx bench/stats-parts.mjs --schema S [--runs 20] [--query 'groupBy=stream,provider'] [--format objects|columnar]
import { loadavg } from "node:os";
import { sql } from "kysely";
import { openDb } from "../src/store/db.ts";
import { GROUP_BY, packedBuckets } from "../src/store/rollups.ts";
import { writeStatsGroups } from "../src/core/stats.ts";
import { JsonBytes } from "../src/util/json-bytes.ts";

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(`--${n}`) ? args[args.indexOf(`--${n}`) + 1] : d);
const schema = opt("schema");
const runs = Number(opt("runs", 20));
const q = new URLSearchParams(opt("query", "groupBy=stream,provider"));
const handle = await openDb({
  databaseUrl: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  schema,
  poolSize: 2,
});
const end = new Date(
  (await sql`select max(hour) + interval '1 hour' as t from rollups_sp_hourly`.execute(handle.db)).rows[0].t,
);
const gran = q.get("granularity") ?? "hour";
const unit = gran === "day" ? 86_400_000 : 3_600_000;
const to = end;
const from = q.get("from")
  ? new Date(Math.floor(Date.parse(q.get("from")) / unit) * unit)
  : new Date(to.getTime() - 86_400_000);
const previousFrom = new Date(from.getTime() - (to.getTime() - from.getTime()));
const groupBy = q.get("groupBy")?.split(",") ?? [];
const filters = { stream: q.get("stream") ?? undefined, provider: q.get("provider") ?? undefined };
const t = { sql: [], write: [], sqlCpu: [], writeCpu: [] };
let bytes = 0;
for (let i = 0; i < runs; i++) {
  let c = process.cpuUsage();
  let w = performance.now();
  const b = await packedBuckets(
    handle.db,
    { tenant: "bench", from: previousFrom, to, granularity: gran, groupBy, filters },
    50_001,
  );
  t.sql.push(performance.now() - w);
  t.sqlCpu.push(process.cpuUsage(c).user / 1000 + process.cpuUsage(c).system / 1000);
  c = process.cpuUsage();
  w = performance.now();
  const out = new JsonBytes(4096 + b.length * 260);
  writeStatsGroups(out, b, { groupBy, names: GROUP_BY, from, to, format: opt("format", "objects") });
  bytes = out.bytes().length;
  t.write.push(performance.now() - w);
  const u = process.cpuUsage(c);
  t.writeCpu.push((u.user + u.system) / 1000);
}
const med = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)].toFixed(1);
console.log(
  `${q} (${(bytes / 1e6).toFixed(2)} MB): packedBuckets wall p50 ${med(t.sql)} ms (node CPU ${med(t.sqlCpu)}), ` +
    `writeStatsGroups wall p50 ${med(t.write)} ms (CPU ${med(t.writeCpu)}); load ${loadavg()[0].toFixed(1)}`,
);
await handle.close();
