// PostgreSQL's part of GET /v1/stats's largest answer (24 h hourly by stream and provider, with the previous
// period: 28,800 buckets of rollups_sp_hourly), on a kept bench/stats.mjs schema: the COPY statements the API has
// run for it, each run in turn on one connection, with the CPU time of that connection's backend per run (from
// /proc/PID/schedstat: PostgreSQL must run on this machine), the time until the first bytes and until the end.
//   node bench/stats-pg.mjs --schema S [--runs 30]
//   lines: session 10's statement (a line per group: the buckets' numbers as one text, grouped, sorted)
//   rows:  session 11's (the buckets' rows as read, grouped by the API)
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { opt } from "./lib/args.mjs";

const schema = opt("--schema");
const runs = Number(opt("--runs", 30));
const c = new pg.Client({
  connectionString: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
});
await c.connect();
await c.query(`set search_path = ${pg.escapeIdentifier(schema)}`);
const pid = (await c.query("select pg_backend_pid() as p")).rows[0].p;
const to = new Date(
  (await c.query("select max(hour) + interval '1 hour' as t from rollups_sp_hourly")).rows[0].t,
);
const from = new Date(to.getTime() - 2 * 86_400_000);
const origin = from.getTime() / 1000;
const counters = ["sent", "delivered", "hard", "soft", "block", "complaint", "auto_reply", "unverified"];
const inner = `select stream, provider, hour as at, ${counters.join(", ")} from rollups_sp_hourly
  where tenant = 'bench' and hour >= '${from.toISOString()}'::timestamptz and hour < '${to.toISOString()}'::timestamptz
  limit 50001`;
const b = counters.map((n) => `b.${n}`).join(", ");
const statements = {
  lines: `copy (select sum(count(*)) over ()::int8, b.stream, b.provider,
      string_agg(concat_ws(',', date_part('epoch', b.at)::int8 - ${origin}, ${b}), ',')
    from (${inner}) b group by b.stream, b.provider order by b.stream collate "C", b.provider collate "C") to stdout`,
  rows: `copy (select b.stream, b.provider, date_part('epoch', b.at)::int8 - ${origin}, ${b} from (${inner}) b) to stdout`,
};
const cpu = () => Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]) / 1e6;
const series = Object.entries(statements).map(([name, text]) => ({
  name,
  text,
  cpu: [],
  first: [],
  end: [],
  bytes: 0,
}));
for (let i = 0; i < runs + 3; i++)
  for (const s of series) {
    const c0 = cpu();
    const t0 = performance.now();
    let first;
    let bytes = 0;
    const stream = c.query(copyTo(s.text));
    await new Promise((ok, fail) => {
      stream.on("data", (d) => {
        first ??= performance.now() - t0;
        bytes += d.length;
      });
      stream.on("end", ok);
      stream.on("error", fail);
    });
    const end = performance.now() - t0;
    // The backend's CPU is read once it has gone idle again.
    await new Promise((ok) => setTimeout(ok, 20));
    if (i < 3) continue;
    s.cpu.push(cpu() - c0);
    s.first.push(first);
    s.end.push(end);
    s.bytes = bytes;
  }
const p50 = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1].toFixed(1);
console.log(`load average ${loadavg()[0].toFixed(1)}`);
for (const s of series)
  console.log(
    `${s.name} (${(s.bytes / 1e6).toFixed(2)} MB): backend CPU p50 ${p50(s.cpu)} ms; first bytes p50 ${p50(s.first)} ms, ` +
      `end p50 ${p50(s.end)} ms`,
  );
await c.end();
