// IMAP backlog: how fast `rebound ingest imap` takes an old bounce mailbox into the spool. A throw-away Dovecot
// (test/helpers/dovecot.ts: Debian's dovecot-imapd, as root) gets N bounces in its INBOX (IMAP APPEND, not
// timed), then ingestImapAccount takes them all (committed to inbound_mails, then flagged $Rebound), on the real
// PostgreSQL. Prints mails/s and MB/s of the whole run; then the same once more to time a run with nothing
// left to take (the search for untaken messages).
//
//   node --import tsx bench/imap.mjs [--mails 10000]
//   env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test)
import { performance } from "node:perf_hooks";

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const N = Number(arg("mails", "10000"));
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

const { startDovecot, dovecotAvailable, DOVECOT_PASSWORD } = await import("../test/helpers/dovecot.ts");
const { e2eMail, verp } = await import("../test/e2e/fixtures.ts");
const { parseImapAccounts } = await import("../src/integrations/imap/accounts.ts");
const { ingestImapAccount } = await import("../src/integrations/imap/ingest.ts");
const { openDb, migrateToLatest } = await import("../src/store/db.ts");
const { createLogger } = await import("../src/log.ts");
const { sql } = await import("kysely");

if (!dovecotAvailable) {
  console.error("bench/imap: needs Debian's dovecot-imapd and root");
  process.exitCode = 2;
} else {
  const dovecot = await startDovecot();
  const schema = `bench_imap_${Date.now().toString(36)}`;
  const handle = await openDb({ databaseUrl: DATABASE_URL, schema, poolSize: 4 });
  try {
    await migrateToLatest(handle.db);
    const c = await dovecot.client("backlog");
    let bytes = 0;
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      const recipient = `user${i}@example.org`;
      const rp = verp(recipient);
      const m = Buffer.concat([
        Buffer.from(`Delivered-To: ${rp}\r\n`),
        e2eMail("dsn-exim-user-unknown", { recipient, returnPath: rp }),
      ]);
      bytes += m.length;
      await c.append("INBOX", m);
    }
    await c.logout();
    console.log(
      `filled INBOX with ${N} bounces (${(bytes / 1e6).toFixed(1)} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const [account] = parseImapAccounts(
      JSON.stringify([
        {
          name: "backlog",
          host: "127.0.0.1",
          port: dovecot.imapPort,
          secure: false,
          user: "backlog",
          password: DOVECOT_PASSWORD,
        },
      ]),
      () => "",
    );
    const deps = {
      db: handle.db,
      logger: createLogger("silent"),
      now: () => new Date(),
      maxMessageBytes: 10 << 20,
    };
    const cpu0 = process.cpuUsage();
    const t1 = performance.now();
    const counts = await ingestImapAccount(deps, account);
    const s = (performance.now() - t1) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const spooled = await sql`select count(*)::int as n from inbound_mails`.execute(handle.db);
    console.log(
      `took ${counts.taken} (spooled ${spooled.rows[0].n}) in ${s.toFixed(2)} s: ${(counts.taken / s).toFixed(0)} mails/s, ` +
        `${(bytes / 1e6 / s).toFixed(1)} MB/s; this process's CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s`,
    );
    const t2 = performance.now();
    const again = await ingestImapAccount(deps, account);
    console.log(`a second run takes ${again.taken} in ${((performance.now() - t2) / 1000).toFixed(2)} s`);
  } finally {
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(handle.db);
    await handle.close();
    await dovecot.stop();
  }
}
