// GET /v1/stats's largest answer (24 h hourly by stream and provider) from APIs each in a process of its own, as
// `rebound start` runs it, asked by curl (a process per request): per request, the time curl waits until the last
// byte, and the CPU of the API's process, its main thread and its other threads (V8's collector and compiler
// threads) apart, read from /proc (Linux). No client shares the API's thread or heap, unlike bench/stats.mjs's
// default. Each checkout's API is asked in turn, `--rounds` rounds of `--runs` requests, after `--warm` requests.
//   node --import tsx bench/stats-process.mjs --schema S [--api DIR]... [--format columnar|points] [--runs 20]
//                                            [--rounds 5] [--warm 40]
//   (a kept bench/stats.mjs schema; this checkout's API, and each --api DIR's)
import { execFile, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { args, opt, root } from "./lib/args.mjs";

const run = promisify(execFile);

if (args[0] === "--serve") {
  // The child: DIR's API on the schema, its port and a read key on stdout.
  const [, dir, schema] = args;
  const imp = (p) => import(`${dir}/${p}`);
  const { sql } = await import("kysely");
  const { startApi } = await imp("src/api/server.ts");
  const { loadConfig } = await imp("src/config.ts");
  const { createLogger } = await imp("src/log.ts");
  const { openDb } = await imp("src/store/db.ts");
  const { createKey } = await imp("src/store/keys.ts");
  const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
  const handle = await openDb({ databaseUrl: url, schema, poolSize: 4 });
  const { rows } = await sql`select max(hour) + interval '1 hour' as t from rollups_sp_hourly`.execute(
    handle.db,
  );
  const end = new Date(rows[0].t);
  const config = loadConfig({ httpHost: "127.0.0.1", httpPort: 0, databaseSchema: schema }, {});
  const api = await startApi({ db: handle.db, config, logger: createLogger("warn"), now: () => end });
  const key = await createKey(handle.db, { tenant: "bench", scopes: ["read"] });
  console.log(`${api.port} ${key.token}`);
  process.on("SIGTERM", () => void api.close().then(() => handle.close()));
} else {
  const schema = opt("--schema");
  const format = opt("--format", "columnar");
  const runs = Number(opt("--runs", 20));
  const rounds = Number(opt("--rounds", 5));
  const warm = Number(opt("--warm", 40));
  const dirs = [root, ...args.flatMap((a, i) => (a === "--api" ? [resolve(args[i + 1])] : []))];
  const apis = [];
  for (const dir of dirs) {
    const child = spawn(process.execPath, ["--import", "tsx", import.meta.filename, "--serve", dir, schema], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const line = await new Promise((ok) => createInterface({ input: child.stdout }).once("line", ok));
    const [port, token] = line.split(" ");
    apis.push({ dir, child, port, token, ms: [], main: [], other: [] });
  }
  /** CPU ms of each thread of a process. */
  const threads = (pid) =>
    new Map(
      readdirSync(`/proc/${pid}/task`).map((t) => [
        t,
        Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]) / 1e6,
      ]),
    );
  const q = `groupBy=stream,provider${format === "columnar" ? "&format=columnar" : ""}`;
  const ask = async (api) => {
    const { stdout } = await run("curl", [
      ..."-s -o /dev/null -w %{time_total}".split(" "),
      "-H",
      `authorization: Bearer ${api.token}`,
      `http://127.0.0.1:${api.port}/v1/stats?${q}`,
    ]);
    return Number(stdout) * 1000;
  };
  for (const api of apis) for (let i = 0; i < warm; i++) await ask(api);
  console.log(`${format}, load average ${loadavg()[0].toFixed(1)}`);
  for (let r = 0; r < rounds; r++)
    for (const api of apis) {
      const pid = String(api.child.pid);
      const before = threads(pid);
      const ms = [];
      for (let i = 0; i < runs; i++) ms.push(await ask(api));
      let main = 0;
      let other = 0;
      for (const [t, c] of threads(pid)) {
        if (t === pid) main += c - before.get(t);
        else other += c - (before.get(t) ?? 0);
      }
      api.ms.push(...ms);
      api.main.push(main / runs);
      api.other.push(other / runs);
      console.log(
        `  ${api.dir}: API main thread ${(main / runs).toFixed(1)}, other threads ${(other / runs).toFixed(1)} ms CPU a request`,
      );
    }
  const pct = (xs, p) =>
    [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))].toFixed(1);
  const mean = (xs) => (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1);
  for (const api of apis)
    console.log(
      `${api.dir}: curl best ${pct(api.ms, 0)}, p50 ${pct(api.ms, 0.5)}, p95 ${pct(api.ms, 0.95)} ms; ` +
        `API CPU a request: main thread ${mean(api.main)}, other threads ${mean(api.other)} ms`,
    );
  console.log(`load average ${loadavg()[0].toFixed(1)}`);
  for (const api of apis) api.child.kill("SIGTERM");
}
