// Mailbox backlog: how fast `rebound ingest imap` or `rebound ingest pop3` takes an old bounce mailbox into the
// spool. A throw-away Dovecot (test/helpers/dovecot.ts: Debian's dovecot-imapd and dovecot-pop3d, as root) gets N
// bounces in its INBOX (IMAP APPEND, not timed), then the protocol's ingest takes them all (committed to
// inbound_mails, then flagged $Rebound over IMAP, or DELE and QUIT over POP3 with the UIDLs committed), on the
// real PostgreSQL. Prints mails/s and MB/s of the whole run; then the same once more to time a run with nothing
// left to take.
//
//   node --import tsx bench/mailbox.mjs [--protocol imap|pop3] [--mails 10000]
//   env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test)
import { performance } from "node:perf_hooks";

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const N = Number(arg("mails", "10000"));
const PROTOCOL = arg("protocol", "imap");
if (PROTOCOL !== "imap" && PROTOCOL !== "pop3") throw new Error("--protocol is imap or pop3");
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

const { startDovecot, dovecotAvailable, DOVECOT_PASSWORD } = await import("../test/helpers/dovecot.ts");
const { e2eMail, verp } = await import("../test/e2e/fixtures.ts");
const { parse, ingest } =
  PROTOCOL === "imap"
    ? {
        parse: (await import("../src/integrations/imap/accounts.ts")).parseImapAccounts,
        ingest: (await import("../src/integrations/imap/ingest.ts")).ingestImapAccount,
      }
    : {
        parse: (await import("../src/integrations/pop3/accounts.ts")).parsePop3Accounts,
        ingest: (await import("../src/integrations/pop3/ingest.ts")).ingestPop3Account,
      };
const { openDb, migrateToLatest } = await import("../src/store/db.ts");
const { createLogger } = await import("../src/log.ts");
const { sql } = await import("kysely");

if (!dovecotAvailable) {
  console.error("bench/mailbox: needs Debian's dovecot-imapd, dovecot-pop3d and root");
  process.exitCode = 2;
} else {
  const dovecot = await startDovecot();
  const schema = `bench_${PROTOCOL}_${Date.now().toString(36)}`;
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
    const [account] = parse(
      JSON.stringify([
        {
          name: "backlog",
          host: "127.0.0.1",
          port: PROTOCOL === "imap" ? dovecot.imapPort : dovecot.pop3Port,
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
    const counts = await ingest(deps, account);
    const s = (performance.now() - t1) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const spooled = await sql`select count(*)::int as n from inbound_mails`.execute(handle.db);
    console.log(
      `took ${counts.taken} (spooled ${spooled.rows[0].n}) in ${s.toFixed(2)} s: ${(counts.taken / s).toFixed(0)} mails/s, ` +
        `${(bytes / 1e6 / s).toFixed(1)} MB/s; this process's CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s`,
    );
    const t2 = performance.now();
    const again = await ingest(deps, account);
    console.log(`a second run takes ${again.taken} in ${((performance.now() - t2) / 1000).toFixed(2)} s`);
  } finally {
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(handle.db);
    await handle.close();
    await dovecot.stop();
  }
}
