// API benchmark on real PostgreSQL: N suppressions loaded (default 1,000,000), the API in its own process,
// then:
//   single lookups  GET /v1/suppressions/{address}?stream=S   autocannon, 50 connections: req/s, p50/p99
//                   (a) 99% of addresses not suppressed, (b) every address suppressed (each asks the database)
//   batch check     POST /v1/suppressions/check, 1,000 addresses (10% suppressed): p50/p99 ms
//   export          GET /v1/exports/suppressions, every row as CSV and NDJSON: s, rows/s, the API's CPU time
//                   and peak RSS
//   list cleaning   POST /v1/clean, a 1,000,000-row CSV (10% suppressed), streamed both ways: s
//
//   node --import tsx bench/api.mjs [--rows 1000000] [--duration 10] [--clean-rows 1000000] [--keep]
//                                   [--only lookups|export] [--from dist] [--schema NAME] [--heap-growth P]
//   --only lookups: the single lookups and the batch check only; --only export: the exports only (CSV, then
//   NDJSON); --from dist: the API from dist/ (after `npm run build`, as in production) instead of from the
//   sources through tsx; --schema: a schema loaded before (kept with --keep), not loaded again nor dropped;
//   --heap-growth: the API's REBOUND_API_HEAP_GROWTH_PERCENT (0: V8's own heuristic), for comparisons.
//   The API's CPU time per request is read from /proc: a figure that the other processes on the machine
//   disturb less than req/s.
//   env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test)
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** The child: the API alone, on one schema, printing its port once its index is loaded. */
async function serve(schema, from, heapGrowth) {
  const mod = (name) => import(from === "dist" ? `../dist/src/${name}.js` : `../src/${name}.ts`);
  const { startApi } = await mod("api/server");
  const { loadConfig } = await mod("config");
  const { createLogger } = await mod("log");
  const { openDb } = await mod("store/db");
  const handle = await openDb({ databaseUrl: DATABASE_URL, schema, poolSize: 10 });
  const config = loadConfig(
    {
      httpHost: "127.0.0.1",
      httpPort: 0,
      databaseSchema: schema,
      ...(heapGrowth === "" ? {} : { apiHeapGrowthPercent: heapGrowth }),
    },
    {},
  );
  const t0 = performance.now();
  const api = await startApi({ db: handle.db, config, logger: createLogger("warn") });
  await api.app.suppressionIndex.ready;
  const loadMs = performance.now() - t0;
  process.stdout.write(
    JSON.stringify({
      port: api.port,
      loadMs,
      index: api.app.suppressionIndex.stats,
      rss: process.memoryUsage().rss,
    }) + "\n",
  );
  const stop = async () => {
    await api.close();
    await handle.close();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  // Memory as seen from inside, sampled every 20 ms: on "mark" the peak starts anew, on "peak" it is written
  // out with what made it up (V8's heap spaces, Buffers outside the heap).
  const { getHeapSpaceStatistics } = await import("node:v8");
  const snapshot = () => {
    const m = process.memoryUsage();
    const spaces = Object.fromEntries(
      getHeapSpaceStatistics().map((s) => [s.space_name.replace(/_space$/, ""), s.space_size]),
    );
    return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, spaces };
  };
  // Garbage collections, counted by kind (minor, major, incremental, weak callbacks) with their time.
  const { PerformanceObserver, constants } = await import("node:perf_hooks");
  const KINDS = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
    [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weakcb",
  };
  let gcs = {};
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = KINDS[e.detail?.kind] ?? "other";
      const g = (gcs[kind] ??= { count: 0, ms: 0 });
      g.count++;
      g.ms += e.duration;
    }
  }).observe({ entryTypes: ["gc"] });
  let peak = snapshot();
  setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss > peak.rss) peak = snapshot();
  }, 20).unref();
  let input = "";
  process.stdin.on("data", (c) => {
    input += c;
    for (let nl = input.indexOf("\n"); nl >= 0; nl = input.indexOf("\n")) {
      const command = input.slice(0, nl);
      input = input.slice(nl + 1);
      if (command === "mark") {
        peak = snapshot();
        gcs = {};
      }
      if (command === "peak" || command === "mark")
        process.stdout.write(JSON.stringify({ ...peak, gcs }) + "\n");
    }
  });
  // The parent holds our stdin: when it goes away, so do we.
  process.stdin.on("end", stop).resume();
}

function rssOf(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}
/** User + system CPU time of a process so far, in ms. */
function cpuMsOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (100/s)
}
/** What the child said of its memory: RSS, then V8's spaces and the Buffers outside its heap. */
const memory = (m) =>
  `RSS ${mb(m.rss)}: heap used ${mb(m.heapUsed)} of new ${mb(m.spaces.new)}, old ${mb(m.spaces.old)}, code ${mb(m.spaces.code)}, large ${mb(m.spaces.large_object + m.spaces.new_large_object)}; Buffers ${mb(m.arrayBuffers)}`;
const mb = (b) => `${(b / 1024 / 1024).toFixed(0)} MB`;
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function main() {
  const ROWS = Number(arg("rows", "1000000"));
  const DURATION = Number(arg("duration", "10"));
  const CLEAN_ROWS = Number(arg("clean-rows", "1000000"));
  // Imported here, not at the top: the API's child runs this file too, and autocannon would add 26 MB to its RSS.
  const { default: autocannon } = await import("autocannon");
  const { openDb, migrateToLatest } = await import("../src/store/db.ts");
  const { createKey } = await import("../src/store/keys.ts");
  const { sql } = await import("kysely");
  const reused = arg("schema");
  const schema = reused ?? `bench_api_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  const handle = await openDb({ databaseUrl: DATABASE_URL, schema, poolSize: 2 });
  await migrateToLatest(handle.db);
  console.log(`schema ${schema}`);
  // The address key (made in the database on first use), as pads for PostgreSQL's sha256(): HMAC-SHA256 in SQL.
  const { resolveAddressKey } = await import("../src/address-key.ts");
  const { loadConfig } = await import("../src/config.ts");
  await resolveAddressKey(handle.db, loadConfig({ databaseUrl: DATABASE_URL, databaseSchema: schema }, {}));
  const { rows: keyRows } = await sql`select key from address_key`.execute(handle.db);
  const block = Buffer.alloc(64);
  Buffer.from(keyRows[0].key).copy(block);
  const ipad = Buffer.from(block.map((b) => b ^ 0x36));
  const opad = Buffer.from(block.map((b) => b ^ 0x5c));

  // Load: user{i}@example.com for i < ROWS, suppressed in stream marketing, hashed (HMAC) by PostgreSQL itself.
  let t0 = performance.now();
  const CHUNK = 250_000;
  for (let from = 0; from < (reused ? 0 : ROWS); from += CHUNK) {
    const to = Math.min(ROWS, from + CHUNK) - 1;
    await sql`
      insert into suppressions (tenant, stream, address, address_hash, address_original, reason, class, source, rule,
                                first_seen, last_seen)
      select 'bench', 'marketing', a, encode(sha256(${opad}::bytea || sha256(${ipad}::bytea || convert_to(a, 'UTF8'))), 'hex'), a, 'userunknown', 'hard', 'bounce',
             'policy.hard', now(), now()
        from (select 'user' || g || '@example.com' as a from generate_series(${from}::int, ${to}::int) g) s`.execute(
      handle.db,
    );
  }
  await sql`analyze suppressions`.execute(handle.db);
  if (!reused)
    console.log(
      `loaded ${ROWS.toLocaleString()} suppressions in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  const key = await createKey(handle.db, {
    tenant: "bench",
    scopes: ["read", "write"],
    rateLimitPerMinute: 0,
  });
  const auth = { authorization: `Bearer ${key.token}` };

  const FROM = arg("from", "src");
  const child = spawn(
    process.execPath,
    [
      ...(FROM === "dist" ? [] : ["--import", "tsx"]),
      new URL(import.meta.url).pathname,
      "--serve",
      schema,
      FROM,
      arg("heap-growth", ""),
    ],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  // The child's stdout is one JSON object a line: first its readiness, then the answers to "mark" and "peak".
  const replies = [];
  const waiting = [];
  let out = "";
  child.stdout.on("data", (c) => {
    out += c;
    for (let nl = out.indexOf("\n"); nl >= 0; nl = out.indexOf("\n")) {
      const reply = JSON.parse(out.slice(0, nl));
      out = out.slice(nl + 1);
      if (waiting.length) waiting.shift().resolve(reply);
      else replies.push(reply);
    }
  });
  const nextReply = () =>
    replies.length
      ? Promise.resolve(replies.shift())
      : new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  child.on("exit", (code) =>
    waiting.splice(0).forEach((w) => w.reject(new Error(`API exited with ${code}`))),
  );
  child.ask = (command) => {
    child.stdin.write(command + "\n");
    return nextReply();
  };
  const ready = await nextReply();
  const base = `http://127.0.0.1:${ready.port}`;
  console.log(
    `API up; index of ${ready.index.fingerprints.toLocaleString()} rows loaded in ${(ready.loadMs / 1000).toFixed(1)} s (${mb(ready.index.bytes)} of fingerprints), RSS ${mb(ready.rss)}`,
  );

  const finish = async () => {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    if (!reused && !args.includes("--keep"))
      await sql`drop schema ${sql.id(schema)} cascade`.execute(handle.db);
    await handle.close();
  };
  if (arg("only") === "export") {
    await exportRows(base, auth, child, handle.db, sql);
    return finish();
  }

  const rnd = (n) => Math.floor(Math.random() * n);
  async function cannon(title, pathOf) {
    // Warm up, then measure.
    await autocannon({
      url: base,
      connections: 50,
      duration: 2,
      headers: auth,
      requests: [{ setupRequest: (r) => ({ ...r, path: pathOf() }) }],
    });
    const cpu0 = cpuMsOf(child.pid);
    const res = await autocannon({
      url: base,
      connections: 50,
      duration: DURATION,
      headers: auth,
      requests: [{ setupRequest: (r) => ({ ...r, path: pathOf() }) }],
    });
    const cpuUs = ((cpuMsOf(child.pid) - cpu0) * 1000) / res.requests.total;
    const bad = res.non2xx + res.errors + res.timeouts;
    console.log(
      `single lookups ${title}: ${Math.round(res.requests.average).toLocaleString()} req/s, p50 ${res.latency.p50} ms, p99 ${res.latency.p99} ms, API CPU ${cpuUs.toFixed(0)} µs/request (50 connections, ${DURATION} s${bad ? `, ${bad} failed` : ""})`,
    );
  }
  await cannon("(99% not suppressed)", () =>
    Math.random() < 0.01
      ? `/v1/suppressions/user${rnd(ROWS)}%40example.com?stream=marketing`
      : `/v1/suppressions/other${rnd(1e9)}%40example.net?stream=marketing`,
  );
  await cannon("(all suppressed)", () => `/v1/suppressions/user${rnd(ROWS)}%40example.com?stream=marketing`);

  // Batch check of 1,000 addresses, one request at a time.
  const times = [];
  let checkCpu0 = 0;
  for (let i = 0; i < 200; i++) {
    if (i === 20) checkCpu0 = cpuMsOf(child.pid);
    const addresses = Array.from({ length: 1000 }, () =>
      Math.random() < 0.1 ? `user${rnd(ROWS)}@example.com` : `nobody${rnd(1e9)}@example.org`,
    );
    const t = performance.now();
    const res = await fetch(`${base}/v1/suppressions/check`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ stream: "marketing", addresses }),
    });
    const body = await res.json();
    if (i >= 20) times.push(performance.now() - t);
    if (body.results.length !== 1000) throw new Error("short answer");
  }
  const checkCpuMs = (cpuMsOf(child.pid) - checkCpu0) / times.length;
  console.log(
    `batch check of 1,000: p50 ${pct(times, 50).toFixed(1)} ms, p99 ${pct(times, 99).toFixed(1)} ms, API CPU ${checkCpuMs.toFixed(1)} ms/request (180 requests, one at a time)`,
  );

  if (arg("only") !== "lookups") {
    await exportRows(base, auth, child, handle.db, sql);
    await clean(base, auth, child, ROWS, CLEAN_ROWS, rnd);
  }
  await finish();
}

/**
 * Export every row as CSV, then as NDJSON, sampling the API's RSS and reading its CPU time and that of the
 * PostgreSQL backend running the export's COPY (found once the answer has begun).
 */
async function exportRows(base, auth, child, db, sql) {
  for (const format of ["csv", "ndjson"]) {
    let peak = rssOf(child.pid);
    const before = peak;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(child.pid))), 20);
    const inside0 = await child.ask("mark");
    const cpu0 = cpuMsOf(child.pid);
    const t0 = performance.now();
    const exp = await fetch(`${base}/v1/exports/suppressions?format=${format}`, { headers: auth });
    const { rows: copying } = await sql`
      select pid from pg_stat_activity
       where state = 'active' and query like 'copy (select %' and query not like '%left(address_hash, 8)%'`.execute(
      db,
    );
    const pgPid = copying.length === 1 ? copying[0].pid : undefined;
    const pgCpu0 = pgPid ? cpuMsOf(pgPid) : 0;
    let bytes = 0;
    let lines = 0;
    for await (const chunk of exp.body) {
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
    }
    const expS = (performance.now() - t0) / 1000;
    const cpuMs = cpuMsOf(child.pid) - cpu0;
    const pgCpu = pgPid ? `, PostgreSQL CPU ${((cpuMsOf(pgPid) - pgCpu0) / 1000).toFixed(2)} s` : "";
    clearInterval(sampler);
    const inside = await child.ask("peak");
    const rows = format === "csv" ? lines - 1 : lines;
    console.log(
      `export (${format}) of ${rows.toLocaleString()} rows: ${expS.toFixed(2)} s, ${Math.round(rows / expS).toLocaleString()} rows/s, ${mb(bytes)}; API CPU ${(cpuMs / 1000).toFixed(2)} s (${((cpuMs * 1000) / rows).toFixed(2)} µs/row)${pgCpu}; API RSS ${mb(before)} before, peak ${mb(peak)}`,
    );
    console.log(`  API memory before: ${memory(inside0)}`);
    console.log(`  API memory at its peak: ${memory(inside)}`);
    console.log(
      `  garbage collections during the export: ${Object.entries(inside.gcs)
        .map(([kind, g]) => `${g.count} ${kind} (${g.ms.toFixed(0)} ms)`)
        .join(", ")}`,
    );
  }
}

async function clean(base, auth, child, ROWS, CLEAN_ROWS, rnd) {
  // List cleaning of a CSV of CLEAN_ROWS rows, 10% of them suppressed, streamed up and down.
  let peak = rssOf(child.pid);
  const sampler2 = setInterval(() => (peak = Math.max(peak, rssOf(child.pid))), 20);
  const t0 = performance.now();
  const out = await new Promise((resolve, reject) => {
    const req = http.request(
      `${base}/v1/clean?stream=marketing`,
      { method: "POST", headers: { ...auth, "content-type": "text/csv" } },
      (res) => {
        let outLines = 0;
        res.on("data", (chunk) => {
          for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) outLines++;
        });
        res.on("end", () => resolve({ status: res.statusCode, outLines }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    let i = 0;
    const write = () => {
      if (i === 0) req.write("id,email,first_name\n");
      while (i < CLEAN_ROWS) {
        let chunk = "";
        for (let k = 0; k < 5000 && i < CLEAN_ROWS; k++, i++)
          chunk += `${i},${i % 10 === 0 ? `user${rnd(ROWS)}@example.com` : `prospect${i}@example.org`},Name${i}\n`;
        if (!req.write(chunk)) return req.once("drain", write);
      }
      req.end();
    };
    write();
  });
  const cleanS = (performance.now() - t0) / 1000;
  clearInterval(sampler2);
  console.log(
    `list cleaning of ${CLEAN_ROWS.toLocaleString()} rows: ${cleanS.toFixed(2)} s (${Math.round(CLEAN_ROWS / cleanS).toLocaleString()} rows/s), ${(out.outLines - 1).toLocaleString()} rows kept, API peak RSS ${mb(peak)}`,
  );
}

if (args[0] === "--serve") await serve(args[1], args[2], args[3]);
else await main();
