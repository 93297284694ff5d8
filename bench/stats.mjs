// GET /v1/stats benchmark on real PostgreSQL: hourly rollups for D days (default 90) x S streams (20) x P
// providers (30) x C campaigns (50), of which each stream has A campaigns (default 5) active each hour (all 50
// over a day), generated in PostgreSQL and written as the application writes them (the hourly cube and the
// pre-aggregated tables of migration 0018); then each query shape asked R times (default 30) over HTTP, p50/p95,
// with the table that answered it. Two times per answer: until its last byte has arrived (the API's latency),
// and until it is parsed too (`res.json()`, what a JavaScript client waits for: 7 MB take it tens of ms).
//
//   node --import tsx bench/stats.mjs [--days 90] [--streams 20] [--providers 30] [--campaigns 50]
//                                    [--active 5] [--runs 30] [--keep] [--schema S] [--api DIR]
//                                    [--format points|columnar|both] [--shape TEXT]
//   --keep: leave the schema (its name is printed); --schema S: use a kept one (its data as made then).
//   --format: the answer's format (`format=columnar`: a group's points as one array per figure); both (the
//   default): each request asked in each format in turn, a line for each. "cpu" is this process's CPU time per
//   request until the last byte (the API's and the HTTP client's, which share it; not PostgreSQL's), a figure the
//   machine's load moves far less than wall time.
//   --shape TEXT: only the questions whose label holds TEXT (e.g. --shape "by stream and provider").
//   --api DIR: beside this checkout's API, another checkout's (DIR/src/api/server.ts), e.g. an older commit's
//   (`git archive COMMIT | tar -x -C DIR`, node_modules linked): each request goes to both in turn (pairs in the
//   same second), a line for each; "best" is the fastest of the runs. The bench stops if the two answer a shape
//   (in one format) with different bytes.
//   --client curl: each request made by curl, a process of its own (its `time_total`, from the connection to the
//   last byte), so that the client's reading and parsing share no thread with the API: "cpu" is then the API's
//   alone. The default client is fetch in this process (what a JavaScript caller in one process would see).
//   env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test)
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { pathToFileURL } from "node:url";
import { sql } from "kysely";
import { loadConfig } from "../src/config.ts";
import { PROVIDERS } from "../src/core/provider.ts";
import { createLogger } from "../src/log.ts";
import { migrateToLatest, openDb } from "../src/store/db.ts";
import { CUBES, cubeFor, rollupWrites } from "../src/store/rollups.ts";
import { createKey } from "../src/store/keys.ts";

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return Number(i >= 0 ? args[i + 1] : dflt);
};
const DAYS = arg("days", 90);
const STREAMS = arg("streams", 20);
const NPROV = arg("providers", 30);
const CAMPAIGNS = arg("campaigns", 50);
const ACTIVE = arg("active", 5);
const RUNS = arg("runs", 30);
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const given = args.includes("--schema") ? args[args.indexOf("--schema") + 1] : undefined;
const schema = given ?? `bench_stats_${randomBytes(4).toString("hex")}`;
const apiDir = args.includes("--api") ? args[args.indexOf("--api") + 1] : undefined;
const formatArg = args.includes("--format") ? args[args.indexOf("--format") + 1] : "both";
const FORMATS = formatArg === "both" ? ["points", "columnar"] : [formatArg];
const CURL = args.includes("--client") && args[args.indexOf("--client") + 1] === "curl";
const curlDir = CURL ? mkdtempSync(join(tmpdir(), "rebound-stats-")) : undefined;
const run = promisify(execFile);

/** One request by curl: its time until the last byte (ms), status and body. */
async function curlGet(url, token) {
  const out = join(curlDir, "body");
  const { stdout } = await run("curl", [
    "-s",
    "-o",
    out,
    "-w",
    "%{http_code} %{time_total}",
    "-H",
    `authorization: Bearer ${token}`,
    url,
  ]);
  const [status, total] = stdout.trim().split(" ");
  return { status: Number(status), ms: Number(total) * 1000, text: readFileSync(out) };
}
const builds = [{ name: "this checkout", ...(await import("../src/api/server.ts")) }];
if (apiDir)
  builds.push({
    name: apiDir,
    ...(await import(pathToFileURL(`${resolve(apiDir)}/src/api/server.ts`).href)),
  });
// The provider list is closed (13 names): beyond it, providers are numbered, as distinct rows cost the same.
const providers = Array.from({ length: NPROV }, (_, i) => PROVIDERS[i] ?? `p${i}`);

const handle = await openDb({ databaseUrl: DATABASE_URL, schema, poolSize: 4 });
try {
  if (!given) await migrateToLatest(handle.db);
  const end = given
    ? new Date(
        (await sql`select max(hour) + interval '1 hour' as t from rollups`.execute(handle.db)).rows[0].t,
      )
    : new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
  const start = new Date(end.getTime() - DAYS * 86_400_000);
  const t0 = performance.now();
  // Each hour, each stream sends A of its campaigns (which ones turns with the hour) to every provider.
  // Written as the application writes them: into the hourly cube and every pre-aggregated table (rollupWrites).
  if (!given)
    await sql`
    with rollup_src as (
      select 'bench' as tenant, h as hour, 's' || s as stream, p as provider,
             'c' || ((extract(epoch from h)::bigint / 3600 * ${ACTIVE} + a) % ${CAMPAIGNS}) as campaign,
             '192.0.2.' || (s % 4) as sending_ip, 1000::bigint as sent, 950::bigint as delivered,
             10::bigint as hard, 20::bigint as soft, 5::bigint as block, 1::bigint as complaint,
             3::bigint as auto_reply, 2::bigint as unverified
        from generate_series(${start}::timestamptz, ${end}::timestamptz - interval '1 hour', interval '1 hour') h,
             generate_series(0, ${STREAMS - 1}) s,
             generate_series(0, ${ACTIVE - 1}) a,
             unnest(${providers}::text[]) p),
    ${rollupWrites("rollup_src")}
    select 1`.execute(handle.db);
  for (const c of CUBES) await sql`analyze ${sql.table(c.table)}`.execute(handle.db);
  const rows = (await sql`select count(*)::int as n from rollups`.execute(handle.db)).rows[0].n;
  console.log(
    `rollups: ${rows.toLocaleString("en")} rows (${DAYS} days x ${STREAMS} streams x ${ACTIVE} of ${CAMPAIGNS} ` +
      `campaigns x ${NPROV} providers per hour), ${given ? "kept" : `made in ${((performance.now() - t0) / 1000).toFixed(1)} s`}`,
  );

  const config = loadConfig({ httpHost: "127.0.0.1", httpPort: 0, databaseSchema: schema }, {});
  const apis = [];
  for (const b of builds)
    apis.push(await b.startApi({ db: handle.db, config, logger: createLogger("warn"), now: () => end }));
  const key = await createKey(handle.db, { tenant: "bench", scopes: ["read"] });
  console.log(`schema ${schema}, load average ${loadavg()[0].toFixed(1)}`);
  const iso = (d) => encodeURIComponent(d.toISOString());
  const ago = (days) => new Date(end.getTime() - days * 86_400_000);
  const shapes = [
    ["last 24 h, hourly, by stream and provider", `groupBy=stream,provider`],
    ["last 24 h, hourly, one stream, by provider", `groupBy=provider&stream=s3`],
    [
      "last 7 days, daily, by stream and provider",
      `granularity=day&from=${iso(ago(7))}&groupBy=stream,provider`,
    ],
    [
      "last 7 days, hourly, one stream and provider, by campaign",
      `from=${iso(ago(7))}&stream=s3&provider=google&groupBy=campaign`,
    ],
    ["last 30 days, daily, by provider", `granularity=day&from=${iso(ago(30))}&groupBy=provider`],
    ["last 45 days (90 with the previous period), daily, total", `granularity=day&from=${iso(ago(45))}`],
    ["last 7 days, hourly, one stream, by campaign", `from=${iso(ago(7))}&stream=s3&groupBy=campaign`],
    ["last 30 days, daily, by sending IP", `granularity=day&from=${iso(ago(30))}&groupBy=sendingIp`],
    ["last 24 h, hourly, total", ``],
  ];
  const only = args.includes("--shape") ? args[args.indexOf("--shape") + 1] : undefined;
  for (const [label, q] of shapes.filter(([l]) => only === undefined || l.includes(only))) {
    // One series per API and format, asked in turn.
    const series = apis.flatMap((api, k) =>
      FORMATS.map((format) => ({ api, k, format, ms: [], parsed: [], cpu: [], points: 0, bytes: 0 })),
    );
    for (let i = 0; i < RUNS; i++)
      for (const s of series) {
        const c = process.cpuUsage();
        const t = performance.now();
        const fq = s.format === "points" ? q : `${q}${q ? "&" : ""}format=${s.format}`;
        const url = `http://127.0.0.1:${s.api.port}/v1/stats?${fq}`;
        let res, text;
        if (CURL) {
          const r = await curlGet(url, key.token);
          res = r;
          text = r.text;
          s.ms.push(r.ms);
        } else {
          res = await fetch(url, { headers: { authorization: `Bearer ${key.token}` } });
          text = Buffer.from(await res.arrayBuffer());
          s.ms.push(performance.now() - t);
        }
        const u = process.cpuUsage(c);
        s.cpu.push((u.user + u.system) / 1000);
        const body = JSON.parse(text.toString("utf8"));
        s.parsed.push(CURL ? NaN : performance.now() - t);
        if (res.status !== 200) throw new Error(`${label}: ${res.status} ${JSON.stringify(body)}`);
        s.points = body.groups.reduce((n, g) => n + (g.points ?? g.series.at).length, 0);
        s.bytes = text.length;
        s.text ??= text;
      }
    // With --api: each format's answer is the same, byte for byte, from both checkouts.
    // An older checkout's rates may be the full quotients (before rates to 6 significant digits, session 10):
    // then the answers are the same once its rates are rounded so (any other difference stops the bench).
    const rounded = (text) =>
      JSON.stringify(
        JSON.parse(text.toString("utf8"), (_, v) =>
          typeof v === "number" && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v,
        ),
      );
    for (const s of series) {
      if (s.k === 0) continue;
      const mine = series.find((z) => z.k === 0 && z.format === s.format).text;
      if (s.text.equals(mine)) continue;
      if (rounded(s.text) !== rounded(mine))
        throw new Error(`${label}, ${s.format}: ${builds[s.k].name} answers otherwise than this checkout`);
      console.log(
        `  (${s.format}: ${builds[s.k].name}'s rates are full quotients; the same once rounded to 6 digits)`,
      );
    }
    const p = new URLSearchParams(q);
    const dims = [...(p.get("groupBy")?.split(",") ?? []), ...["stream", "provider"].filter((d) => p.has(d))];
    const cube = cubeFor(p.get("granularity") ?? "hour", dims).table;
    console.log(`${label} (${series[0].points} points, from ${cube}):`);
    for (const s of series) {
      const xs = s.ms.sort((x, y) => x - y);
      const ys = s.parsed.sort((x, y) => x - y);
      const cs = s.cpu.sort((x, y) => x - y);
      const pct = (q, zs = xs) => zs[Math.min(zs.length - 1, Math.floor(q * zs.length))].toFixed(1);
      console.log(
        `  ${apis.length > 1 ? `${builds[s.k].name}, ` : ""}${s.format} (${(s.bytes / 1e6).toFixed(2)} MB): ` +
          `best ${pct(0)}, p50 ${pct(0.5)}, p95 ${pct(0.95)} ms; cpu p50 ${pct(0.5, cs)} ms` +
          (CURL
            ? " (curl)"
            : `; parsed too: best ${pct(0, ys)}, p50 ${pct(0.5, ys)}, p95 ${pct(0.95, ys)} ms`),
      );
    }
  }
  console.log(`load average ${loadavg()[0].toFixed(1)}`);
  for (const api of apis) await api.close();
} finally {
  if (curlDir) rmSync(curlDir, { recursive: true, force: true });
  if (!args.includes("--keep") && !given) await sql`drop schema ${sql.id(schema)} cascade`.execute(handle.db);
  await handle.close();
}
