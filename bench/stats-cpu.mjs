// The API's CPU time for GET /v1/stats's largest question, in-process and without HTTP: reading the packed
// buckets (packedBuckets, Node's part only: PostgreSQL is another process) and writing the JSON
// (writeStatsGroups), of this checkout or of another one (DIR, e.g. `git archive main | tar -x -C DIR`,
// node_modules linked), on a kept bench/stats.mjs schema. CPU time (process.cpuUsage) moves less with the
// machine's load than wall time; alternate two checkouts' runs to compare them (docs/performance.md).
//   node --import tsx bench/stats-cpu.mjs --schema S [--dir DIR] [--format points|columnar] [--runs 60]
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { sql } from "kysely";

const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(`--${n}`) ? args[args.indexOf(`--${n}`) + 1] : d);
const dir = resolve(opt("dir", "."));
const format = opt("format", "points");
const runs = Number(opt("runs", 60));
const imp = (p) => import(pathToFileURL(`${dir}/${p}`).href);
const { openDb } = await imp("src/store/db.ts");
const { GROUP_BY, packedBuckets, streamBuckets } = await imp("src/store/rollups.ts");
const { writeStatsGroups, StatsGroupsWriter } = await imp("src/core/stats.ts");
const { JsonBytes } = await imp("src/util/json-bytes.ts");
const handle = await openDb({
  databaseUrl: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  schema: opt("schema"),
  poolSize: 1,
});
const to = new Date(
  (await sql`select max(hour) + interval '1 hour' as t from rollups_sp_hourly`.execute(handle.db)).rows[0].t,
);
const from = new Date(to.getTime() - 86_400_000);
const previousFrom = new Date(from.getTime() - 86_400_000);
const groupBy = ["stream", "provider"];
const q = { tenant: "bench", from: previousFrom, to, granularity: "hour", groupBy, filters: {} };
const cpu = (f) => async () => {
  const c = process.cpuUsage();
  await f();
  const u = process.cpuUsage(c);
  return (u.user + u.system) / 1000;
};
const read = [];
const write = [];
const both = [];
let b;
if (streamBuckets) {
  // Since session 10 the route reads and writes in one pass (streamBuckets): one figure for reading and writing,
  // the process's CPU per answer.
  for (let i = 0; i < runs; i++)
    both.push(
      await cpu(async () => {
        const out = new JsonBytes(4096);
        const w = new StatsGroupsWriter(out, {
          groupBy,
          names: GROUP_BY,
          from,
          to,
          format,
          origin: previousFrom.getTime(),
        });
        b = {
          length: await streamBuckets(
            handle.db,
            q,
            50_001,
            // Since session 11: (values, numbers, index, first, count); before, (values, numbers, count).
            (v, n, ...r) => (r.length === 3 ? w.group(v, n, r[1], r[2], r[0]) : w.group(v, n, 0, r[0])),
            (n) => out.reserve(n * (format === "columnar" ? 110 : 260)),
          ),
        };
        w.end();
      })(),
    );
  await handle.close();
} else {
  for (let i = 0; i < runs; i++)
    read.push(await cpu(async () => (b = await packedBuckets(handle.db, q, 50_001)))());
  await handle.close();
  for (let i = 0; i < runs; i++)
    write.push(
      await cpu(() => {
        const out = new JsonBytes(4096 + b.length * (format === "columnar" ? 110 : 260));
        writeStatsGroups(out, b, { groupBy, names: GROUP_BY, from, to, format });
      })(),
    );
  for (let i = 0; i < runs; i++) both.push(read[i] + write[i]);
}
// The first third warms the JIT up.
const fig = (xs) => {
  const s = xs.slice(Math.floor(runs / 3)).sort((x, y) => x - y);
  return `min ${s[0].toFixed(1)} p50 ${s[s.length >> 1].toFixed(1)}`;
};
console.log(
  `${dir} ${format} (${b.length} buckets): ` +
    (read.length ? `read CPU ${fig(read)} ms, write CPU ${fig(write)} ms, ` : "") +
    `read and write CPU ${fig(both)} ms`,
);
