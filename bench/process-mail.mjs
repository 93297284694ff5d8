// processMail benchmark: the worker's per-mail work (classify -> attribute -> policy -> store, one transaction)
// on real PostgreSQL, without SMTP or a queue. A mix of hard, soft and block DSNs and ARF complaints to signed
// return paths, spooled first, then processed with N concurrent workers.
//
//   node --import tsx bench/process-mail.mjs [--mails 4000] [--concurrency 8]
//   env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test)
//
// Prints mails/s, p50/p99 ms per mail, and the rows written.
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";

const { loadConfig } = await import("../src/config.ts");
const { DEFAULT_POLICY } = await import("../src/core/policy-config.ts");
const { encodeVerp } = await import("../src/core/verp.ts");
const { createLogger } = await import("../src/log.ts");
const { migrateToLatest, openDb } = await import("../src/store/db.ts");
const { insertMail } = await import("../src/store/mails.ts");
const { processMail } = await import("../src/worker/process-mail.ts");
const { fixture, sha256 } = await import("../test/worker/mail-fixtures.ts");
const { sql } = await import("kysely");

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const MAILS = Number(arg("mails", "4000"));
const CONCURRENCY = Number(arg("concurrency", "8"));
const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = `bench_pm_${Date.now().toString(36)}`;

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

const deps = { db, config, policy: DEFAULT_POLICY, logger: createLogger("silent"), now: () => new Date() };
const times = [];
let next = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < ids.length) {
      const id = ids[next++];
      const s = performance.now();
      await processMail(deps, id);
      times.push(performance.now() - s);
    }
  }),
);
const secs = (performance.now() - t0) / 1000;
times.sort((a, b) => a - b);
const pct = (p) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))].toFixed(1);
const count = async (table) =>
  Number((await sql`select count(*)::int as n from ${sql.table(table)}`.execute(db)).rows[0].n);
console.log(
  `processMail: ${MAILS} mails, concurrency ${CONCURRENCY}: ${(MAILS / secs).toFixed(0)} mails/s, p50 ${pct(50)} ms, p99 ${pct(99)} ms`,
);
console.log(
  `rows: events ${await count("events")}, suppressions ${await count("suppressions")}, outbox ${await count("outbox")}`,
);
await sql`drop schema ${sql.id(schema)} cascade`.execute(db);
await handle.close();
