// processMail benchmark: the worker's per-mail work (classify -> attribute -> policy -> store, one transaction)
// on real PostgreSQL, without SMTP or a queue. A mix of hard, soft and block DSNs and ARF complaints to signed
// return paths, spooled first, then processed with N concurrent workers, each taking B mails per transaction
// (processMails: the worker's batches; --batch 1 is a transaction per mail).
//
//   node --import tsx bench/process-mail.mjs [--mails 4000] [--concurrency 2] [--batch 32]
//   env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test)
//
// Prints mails/s, p50/p99 ms per mail, and the rows written.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const { loadConfig } = await import("../src/config.ts");
const { DEFAULT_POLICY } = await import("../src/core/policy-config.ts");
const { encodeVerp } = await import("../src/core/verp.ts");
const { createLogger } = await import("../src/log.ts");
const { migrateToLatest, openDb } = await import("../src/store/db.ts");
const { insertMail } = await import("../src/store/mails.ts");
const { processMails } = await import("../src/worker/process-mail.ts");
const { createClassifyPool } = await import("../src/worker/classify-pool.ts");
const { fixture, sha256 } = await import("../test/worker/mail-fixtures.ts");
const { sql } = await import("kysely");

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const MAILS = Number(arg("mails", "4000"));
const CONCURRENCY = Number(arg("concurrency", "2"));
const BATCH = Number(arg("batch", "32"));
const schema = `bench_pm_${Date.now().toString(36)}`;
// Our connections carry the schema as their application name, so that their backends' CPU can be told apart
// from whatever else runs on the server.
const base = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const url = `${base}${base.includes("?") ? "&" : "?"}application_name=${schema}`;

const config = loadConfig({ verpKeys: "k1:bench-secret-of-sixteen", databaseUrl: url }, {});
const handle = await openDb({ databaseUrl: url, schema, poolSize: CONCURRENCY + 2 });
await migrateToLatest(handle.db);
const db = handle.db;
const kinds = ["dsn-hard", "dsn-soft-mailboxfull", "dsn-block-spamhaus", "arf-complaint"];
const ids = [];
for (let i = 0; i < MAILS; i++) {
  const kind = kinds[i % kinds.length];
  const recipient = `user${i % (MAILS / 2)}@example${i % 50}.com`;
  const returnPath = encodeVerp(
    { recipient, stream: "marketing", tenant: "bench" },
    config.verpKeys,
    "bounces.example.net",
  );
  const raw = fixture(kind, {
    recipient,
    returnPath,
    rcpt: kind === "arf-complaint" ? "fbl@fbl.example.net" : returnPath,
  });
  const id = randomUUID();
  await insertMail(db, {
    id,
    mailFrom: "",
    rcptTo: [kind === "arf-complaint" ? "fbl@fbl.example.net" : returnPath],
    raw,
    sha256: sha256(raw),
  });
  ids.push(id);
}

/** CPU seconds used so far by the PostgreSQL backends serving our connections. */
async function backendCpu() {
  const r = await sql`select pid from pg_stat_activity where application_name = ${schema}`.execute(db);
  let total = 0;
  for (const { pid } of r.rows) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      total += (Number(f[11]) + Number(f[12])) / 100;
    } catch {
      // a backend that went away
    }
  }
  return total;
}

const classifier = createClassifyPool({ timeoutMs: config.classifyTimeoutMs });
const deps = {
  db,
  config,
  policy: DEFAULT_POLICY,
  logger: createLogger("silent"),
  now: () => new Date(),
  classifier,
};
const times = [];
let next = 0;
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const pg0 = await backendCpu();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < ids.length) {
      const batch = ids.slice(next, next + BATCH);
      next += batch.length;
      const s = performance.now();
      await processMails(deps, batch);
      times.push(performance.now() - s);
    }
  }),
);
const secs = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const pgCpu = (await backendCpu()) - pg0;
times.sort((a, b) => a - b);
const pct = (p) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))].toFixed(1);
const count = async (table) =>
  Number((await sql`select count(*)::int as n from ${sql.table(table)}`.execute(db)).rows[0].n);
console.log(
  `processMails: ${MAILS} mails, ${CONCURRENCY} at once, ${BATCH} per transaction: ${(MAILS / secs).toFixed(0)} mails/s; per transaction p50 ${pct(50)} ms, p99 ${pct(99)} ms`,
);
console.log(
  `CPU per mail: node ${((cpu.user + cpu.system) / 1000 / MAILS).toFixed(2)} ms, PostgreSQL backends ${((1000 * pgCpu) / MAILS).toFixed(2)} ms (WAL writer and checkpoints not counted)`,
);
console.log(
  `rows: events ${await count("events")}, suppressions ${await count("suppressions")}, outbox ${await count("outbox")}`,
);
await sql`drop schema ${sql.id(schema)} cascade`.execute(db);
await classifier.close();
await handle.close();
