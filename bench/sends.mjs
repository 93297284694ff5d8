// POST /v1/sends benchmark on real PostgreSQL: N message records (default 1,000,000) as one NDJSON upload,
// streamed over HTTP to the API (in this process), into a fresh schema; then the same upload again (every record
// a duplicate). Prints seconds, records/s, the CPU seconds of this process (API and client) and of its PostgreSQL
// backends (read from /proc: a figure other processes on the machine disturb less than the wall time), the
// machine's load, and what the server said.
//
//   node --import tsx bench/sends.mjs [--records 1000000] [--keep]
//   env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test)
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import { loadavg } from "node:os";
import { sql } from "kysely";
import { startApi } from "../src/api/server.ts";
import { loadConfig } from "../src/config.ts";
import { createLogger } from "../src/log.ts";
import { migrateToLatest, openDb } from "../src/store/db.ts";
import { createKey } from "../src/store/keys.ts";

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const N = Number(arg("records", "1000000"));
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = `bench_sends_${randomBytes(4).toString("hex")}`;

const DOMAINS = ["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "gmx.de", "orange.fr", "example.com"];
const run = randomBytes(4).toString("hex");
const hourAgo = Date.now() - 3_600_000;

/** The upload, made before the clock starts: chunks of 1,000 lines. */
function body() {
  const chunks = [];
  let lines = [];
  for (let i = 0; i < N; i++) {
    lines.push(
      JSON.stringify({
        recipient: `user${i}@${DOMAINS[i % DOMAINS.length]}`,
        stream: `stream${i % 20}`,
        campaign: `campaign${i % 50}`,
        sendingIp: `192.0.2.${i % 8}`,
        messageId: `<${run}.${i}@mailer.example>`,
        sentAt: new Date(hourAgo + (i % 3600) * 1000).toISOString(),
      }),
    );
    if (lines.length === 1000) {
      chunks.push(Buffer.from(lines.join("\n") + "\n"));
      lines = [];
    }
  }
  if (lines.length) chunks.push(Buffer.from(lines.join("\n") + "\n"));
  return chunks;
}

function upload(port, token, chunks) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/v1/sends",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/x-ndjson" },
      },
      (res) => {
        const parts = [];
        res.on("data", (c) => parts.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(parts).toString()) }),
        );
      },
    );
    req.on("error", reject);
    let i = 0;
    const write = () => {
      while (i < chunks.length) if (!req.write(chunks[i++])) return req.once("drain", write);
      req.end();
    };
    write();
  });
}

/** CPU seconds (user + system) a process has used so far; 0 when it is gone. */
function cpuSecs(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}
const selfCpu = () => (process.cpuUsage().user + process.cpuUsage().system) / 1e6;

const url = `${DATABASE_URL}${DATABASE_URL.includes("?") ? "&" : "?"}application_name=${schema}`;
const handle = await openDb({ databaseUrl: url, schema, poolSize: 4 });
const backends = new Set();
const noteBackends = async () => {
  const r = await sql`select pid from pg_stat_activity where application_name = ${schema}`.execute(handle.db);
  for (const x of r.rows) backends.add(x.pid);
};
const pgCpu = () => [...backends].reduce((n, p) => n + cpuSecs(p), 0);
try {
  await migrateToLatest(handle.db);
  const config = loadConfig(
    { httpHost: "127.0.0.1", httpPort: 0, databaseSchema: schema, providerDns: "off" },
    {},
  );
  const api = await startApi({ db: handle.db, config, logger: createLogger("warn") });
  const key = await createKey(handle.db, { tenant: "bench", scopes: ["write"] });
  const chunks = body();
  const bytes = chunks.reduce((n, c) => n + c.length, 0);
  for (const label of ["new", "again (all duplicates)"]) {
    backends.clear();
    await noteBackends();
    const c0 = selfCpu();
    const p0 = pgCpu();
    const t0 = performance.now();
    const res = await upload(api.port, key.token, chunks);
    const s = (performance.now() - t0) / 1000;
    await noteBackends();
    const cpu = selfCpu() - c0;
    const pg = pgCpu() - p0;
    // A backend that closed during the phase (the pool closes idle ones) took its CPU with it.
    const gone = [...backends].some((p) => cpuSecs(p) === 0);
    const { errors, ...summary } = res.body;
    console.log(
      `${label}: ${N.toLocaleString("en")} records, ${(bytes / 1e6).toFixed(0)} MB in ${s.toFixed(2)} s ` +
        `(${Math.round(N / s).toLocaleString("en")} records/s); HTTP ${res.status} ${JSON.stringify(summary)}` +
        (errors?.length ? ` first error ${JSON.stringify(errors[0])}` : ""),
    );
    console.log(
      `  CPU: node ${cpu.toFixed(2)} s (${((cpu / N) * 1e6).toFixed(1)} µs/record), PostgreSQL backends ` +
        (gone
          ? "n/a (a backend closed during the phase)"
          : `${pg.toFixed(2)} s (${((pg / N) * 1e6).toFixed(1)} µs/record)`) +
        `; load average ${loadavg()[0].toFixed(1)}`,
    );
  }
  const rows = await sql`select count(*)::int as n, sum(sent)::int as sent from rollups`.execute(handle.db);
  console.log(`rollup rows ${rows.rows[0].n}, sent ${rows.rows[0].sent}`);
  await api.close();
} finally {
  if (!args.includes("--keep")) await sql`drop schema ${sql.id(schema)} cascade`.execute(handle.db);
  await handle.close();
}
