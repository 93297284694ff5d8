// Postfix log ingestion: N lines of a made-up but realistic relay log (per mail: smtpd, cleanup, qmgr, one
// smtp line per recipient, removed; 90% delivered, 7% deferred, 3% bounced), then
//   (a) the reader alone (src/core/postfix-log.ts): lines/s on one core
//   (b) the whole `ingest postfix-log` of the file into PostgreSQL (events through the policy): lines/s
//
// With --recipients N, the mails go to N recipients in turn (user0 .. user{N-1}; 10007 is a prime, so that a
// recipient's outcomes vary): a service's users, or a list, mailed again and again, as a relay's log repeats its
// recipients. Without it every mail has its own recipient (no repeats at all: the worst case for whatever keeps
// what it learnt of a recipient).
//
//   node --import tsx bench/postfix-log.mjs [--lines 1000000] [--recipients N] [--skip-db] [--skip-reader]
//   env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const LINES = Number(arg("lines", "1000000"));
const RECIPIENTS = Number(arg("recipients", "0"));
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

function makeLog(n) {
  const out = [];
  for (let m = 0; out.length < n; m++) {
    const id = (0x10000000 + m).toString(16).toUpperCase();
    const t = `Dec  7 ${String(Math.floor(m / 3600) % 24).padStart(2, "0")}:${String(Math.floor(m / 60) % 60).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
    const u = RECIPIENTS > 0 ? m % RECIPIENTS : m;
    const to = `user${u}@example${u % 50}.org`;
    const r = m % 100;
    out.push(`${t} relay postfix/smtpd[2101]: ${id}: client=app.internal[10.0.0.5]`);
    out.push(`${t} relay postfix/cleanup[2102]: ${id}: message-id=<${m}.newsletter@shop.example>`);
    out.push(
      `${t} relay postfix/qmgr[2103]: ${id}: from=<news@shop.example>, size=5120, nrcpt=1 (queue active)`,
    );
    if (r < 90)
      out.push(
        `${t} relay postfix/smtp[2104]: ${id}: to=<${to}>, relay=mx.example${m % 50}.org[192.0.2.${m % 250}]:25, delay=0.4, delays=0.01/0/0.2/0.19, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as ABC${m})`,
      );
    else if (r < 97)
      out.push(
        `${t} relay postfix/smtp[2104]: ${id}: to=<${to}>, relay=mx.example${m % 50}.org[192.0.2.${m % 250}]:25, delay=5, delays=0/0/5/0, dsn=4.2.2, status=deferred (host mx.example${m % 50}.org[192.0.2.${m % 250}] said: 452 4.2.2 Mailbox full (in reply to RCPT TO command))`,
      );
    else
      out.push(
        `${t} relay postfix/smtp[2104]: ${id}: to=<${to}>, relay=mx.example${m % 50}.org[192.0.2.${m % 250}]:25, delay=0.3, delays=0/0/0.2/0, dsn=5.1.1, status=bounced (host mx.example${m % 50}.org[192.0.2.${m % 250}] said: 550 5.1.1 <${to}>: Recipient address rejected: User unknown (in reply to RCPT TO command))`,
      );
    out.push(`${t} relay postfix/qmgr[2103]: ${id}: removed`);
  }
  return out.slice(0, n);
}

/**
 * CPU seconds (user + system) of each PostgreSQL backend serving the bench's pool, by pid, from /proc (the server
 * runs on this machine): what the database spent for the command, apart from what other clients cost it.
 */
async function backendCpu(db) {
  const { sql } = await import("kysely");
  const { pgPoolOf } = await import("../src/store/db.ts");
  const ports = (pgPoolOf(db)?._clients ?? []).map((c) => c.connection?.stream?.localPort).filter(Boolean);
  const { rows } =
    await sql`select pid from pg_stat_activity where client_port = any(${ports}::int[])`.execute(db);
  const out = new Map();
  for (const { pid } of rows) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      out.set(pid, (Number(f[11]) + Number(f[12])) / 100); // utime, stime in clock ticks (100 a second)
    } catch {
      // a backend gone, or another machine's
    }
  }
  return out;
}

// Split from one text, as the command's file reader gives them (not the generator's concatenations: V8 keeps
// those as ropes, flattened on first reading, a cost the command's lines do not have).
const lines = makeLog(LINES).join("\n").split("\n");
const { PostfixLogReader } = await import("../src/core/postfix-log.ts");
const now = new Date("2026-12-07T23:59:59Z");
for (let round = 0; round < (args.includes("--skip-reader") ? 0 : 2); round++) {
  const reader = new PostfixLogReader();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let records = 0;
  for (const l of lines) records += reader.push(l, now).length;
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `(a) reader ${round ? "" : "(first round, cold) "}: ${lines.length} lines, ${records} records in ${secs.toFixed(2)} s: ` +
      `${Math.round(lines.length / secs).toLocaleString("en")} lines/s (${Math.round(lines.length / ((cpu.user + cpu.system) / 1e6)).toLocaleString("en")} per CPU-second)`,
  );
}

if (!args.includes("--skip-db")) {
  const { openDb, migrateToLatest } = await import("../src/store/db.ts");
  const { ingestPostfixLog } = await import("../src/integrations/postfix/log-ingest.ts");
  const { DEFAULT_POLICY } = await import("../src/core/policy-config.ts");
  const { createLogger } = await import("../src/log.ts");
  const { sql } = await import("kysely");
  const schema = `bench_log_${Date.now().toString(36)}`;
  const h = await openDb({ databaseUrl: DATABASE_URL, schema, poolSize: 4 });
  await migrateToLatest(h.db);
  // The address key of this schema (made in the database on first use), as the CLI would read it.
  const { resolveAddressKey } = await import("../src/address-key.ts");
  const { loadConfig } = await import("../src/config.ts");
  const { hashAddress } = await resolveAddressKey(
    h.db,
    loadConfig({ databaseUrl: DATABASE_URL, databaseSchema: schema }, {}),
  );
  const dir = mkdtempSync(join(tmpdir(), "rebound-bench-log-"));
  const file = join(dir, "mail.log");
  writeFileSync(file, lines.join("\n") + "\n");
  lines.length = 0; // not kept beside the command's own memory
  // --trace: the time of each statement (its text's start), through a Kysely that logs, on the same pool
  const statements = new Map();
  let db = h.db;
  if (args.includes("--trace")) {
    const { Kysely, PostgresDialect } = await import("kysely");
    const { pgPoolOf } = await import("../src/store/db.ts");
    db = new Kysely({
      dialect: new PostgresDialect({ pool: pgPoolOf(h.db) }),
      log: (e) => {
        const k = e.query.sql
          .replace(/\s+/g, " ")
          .replace(/^\/\*.*?\*\/ ?/, "")
          .slice(0, 70);
        const t = statements.get(k) ?? { n: 0, ms: 0 };
        t.n++;
        t.ms += e.queryDurationMillis;
        statements.set(k, t);
      },
    });
  }
  const pg0 = await backendCpu(h.db);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const counts = await ingestPostfixLog(
    { db, policy: DEFAULT_POLICY, hashAddress, logger: createLogger("warn"), now: () => now },
    { path: file },
    {
      attribution: {
        verpKeys: [],
        senderStreams: new Map([["shop.example", "newsletter"]]),
        tenant: "default",
        defaultTenant: "default",
        defaultStream: "default",
        caseSensitiveLocalPart: false,
      },
    },
  );
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSecs = (cpu.user + cpu.system) / 1e6;
  const pg1 = await backendCpu(h.db);
  let pgSecs = 0;
  for (const [pid, t] of pg1) pgSecs += t - (pg0.get(pid) ?? 0);
  console.log(
    `(b) ingest into PostgreSQL: ${counts.lines} lines, ${counts.events} events in ${secs.toFixed(2)} s: ` +
      `${Math.round(counts.lines / secs).toLocaleString("en")} lines/s, ${Math.round(counts.events / secs).toLocaleString("en")} events/s; ` +
      `Node CPU ${cpuSecs.toFixed(2)} s (${Math.round(counts.lines / cpuSecs).toLocaleString("en")} lines per CPU-second), ` +
      `PostgreSQL backends' CPU ${pgSecs.toFixed(2)} s`,
  );
  if (globalThis.__T) console.log("T", globalThis.__T.map((x) => x.toFixed(0)).join(" "));
  for (const [k, t] of [...statements].sort((a, b) => b[1].ms - a[1].ms))
    console.log(`${t.ms.toFixed(0).padStart(7)} ms ${String(t.n).padStart(5)}x  ${k}`);
  if (args.includes("--keep")) console.log(`schema ${schema} kept`);
  else await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(h.db);
  await h.close();
  rmSync(dir, { recursive: true, force: true });
}
