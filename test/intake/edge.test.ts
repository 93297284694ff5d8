// The SMTP edge under hostile clients (issue 11, section 3): recipients checked at RCPT time, the bounds that
// hold under a flood (per client, per connection, bytes in memory, a hung PostgreSQL), PROXY headers only from
// the proxies' networks, IDN domains in either spelling. Over real SMTP on loopback, on real PostgreSQL.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig, type Config } from "../../src/config.js";
import { encodeVerp } from "../../src/core/verp.js";
import { SMTP_SERVER_VERSION } from "../../src/intake/greeting.js";
import { createIntake, MAX_REFUSED_RECIPIENTS, type Intake } from "../../src/intake/server.js";
import { selfSignedTls, type TlsMaterial } from "../../src/intake/tls.js";
import { createLogger } from "../../src/log.js";
import { createMemoryQueue } from "../../src/queue/memory.js";
import type { Queue } from "../../src/queue/types.js";
import { copyOut } from "../../src/store/copy.js";
import { openDb, pgPoolOf, type Db } from "../../src/store/db.js";
import { getMail } from "../../src/store/mails.js";
import { createTestDb, TEST_DATABASE_URL, type TestDb } from "../helpers/db.js";
import { sendOne, SmtpClient, type Reply } from "../helpers/smtp.js";
import { until } from "../e2e/until.js";

const DOMAIN = "bounces.example.com";
const KEY = { id: "k1", secret: "edge-test-secret-0001" };
const OLD_KEY = { id: "k0", secret: "edge-test-secret-0000" };
const KEYS_ENV = `${KEY.id}:${KEY.secret},${OLD_KEY.id}:${OLD_KEY.secret}`;
const DAY = 86_400_000;

let t: TestDb;
let tls: TlsMaterial;
let queue: Queue;
const open: Intake[] = [];

function config(over: Partial<Record<keyof Config, unknown>> = {}): Config {
  return loadConfig(
    {
      domains: `${DOMAIN},fbl.example.com`,
      smtpHost: "127.0.0.1",
      smtpPort: 0,
      smtpShutdownTimeoutMs: 2000,
      smtpRateLimitPerMinute: 0,
      verpKeys: KEYS_ENV,
      ...over,
    },
    {},
  );
}

async function start(over: Partial<Record<keyof Config, unknown>> = {}, db: Db = t.db) {
  const intake = createIntake({
    config: config(over),
    db,
    queue,
    logger: createLogger("silent"),
    tls,
  });
  open.push(intake);
  const addr = await intake.listen();
  return { intake, port: addr.port };
}

beforeAll(async () => {
  t = await createTestDb();
  tls = await selfSignedTls("mx.test");
  queue = createMemoryQueue();
});

afterAll(async () => {
  for (const i of open) await i.close().catch(() => undefined);
  await queue?.close();
  await t?.drop();
});

function message(tag: string, size = 0): string {
  return `From: MAILER-DAEMON@mx.example.net\r\nTo: x@${DOMAIN}\r\nSubject: ${tag}\r\n\r\nbody ${tag}\r\n${"z".repeat(size)}\r\n`;
}

const rowsTo = async (rcpt: string) =>
  t.db
    .selectFrom("inbound_mails")
    .select(["id"])
    .where("rcpt_to", "@>", sql<string[]>`array[${rcpt}]`)
    .execute();

const mailIdOf = (r: Reply) => /queued as (\w+)/.exec(r.text)?.[1] ?? "";

/** RCPT replies (first 9 characters) of one transaction, then RSET. */
async function rcptReplies(port: number, to: string[]): Promise<string[]> {
  const { client } = await SmtpClient.connect(port);
  await client.command("EHLO c.test");
  await client.command("MAIL FROM:<>");
  const out: string[] = [];
  for (const r of to) out.push((await client.command(`RCPT TO:<${r}>`)).text.slice(0, 9));
  await client.quit();
  return out;
}

describe("recipients checked at RCPT time", () => {
  const verp = (recipient: string, issuedAt?: Date, keys = [KEY]) =>
    encodeVerp({ recipient, stream: "marketing", tenant: "acme" }, keys, DOMAIN, { issuedAt });
  /** The same return path with its MAC's last character changed. */
  const forge = (rp: string) => {
    const at = rp.lastIndexOf("@");
    return `${rp.slice(0, at - 1)}${rp[at - 1] === "a" ? "b" : "a"}${rp.slice(at)}`;
  };

  it("takes return paths that verify and the listed local parts; refuses forged, unknown-key and unlisted ones with 550 5.1.1, storing nothing of them", async () => {
    const { port } = await start();
    const good = verp("jane@example.org", new Date());
    const forged = forge(verp("john@example.org", new Date()));
    const unknownKey = verp("jim@example.org", new Date(), [{ id: "k9", secret: "not-a-configured-key" }]);
    const replies = await rcptReplies(port, [
      good,
      forged,
      unknownKey,
      `postmaster@${DOMAIN}`,
      `Abuse@${DOMAIN}`,
      `fbl+yahoo@fbl.example.com`,
      `random-user@${DOMAIN}`,
      `r=not-really-verp@${DOMAIN}`,
    ]);
    expect(replies).toEqual([
      "250 Accep",
      "550 5.1.1",
      "550 5.1.1",
      "250 Accep",
      "250 Accep",
      "250 Accep",
      "550 5.1.1",
      "550 5.1.1",
    ]);
    // A whole transaction to a forged return path: refused before DATA, nothing spooled.
    const reply = await sendOne(port, { from: "", to: [forged], data: message("forged") });
    expect(reply.text).toMatch(/^550 5\.1\.1 /);
    expect(await rowsTo(forged)).toEqual([]);
    const ok = await sendOne(port, { from: "", to: [good], data: message("good") });
    expect(ok.code).toBe(250);
    expect((await getMail(t.db, mailIdOf(ok)))!.rcpt_to).toEqual([good]);
  });

  it("takes a hashed return path of a configured key at RCPT (its MAC binds a recipient only the bounce names)", async () => {
    const { port } = await start();
    const hashed = verp(`${"long.local.part.".repeat(3)}x@mail.some-long-domain.example`, new Date());
    expect(hashed.startsWith("h=")).toBe(true);
    const wrongKey = hashed.replace("=k1.", "=k9.");
    expect(await rcptReplies(port, [hashed, wrongKey])).toEqual(["250 Accep", "550 5.1.1"]);
  });

  it("refuses a dated return path older than REBOUND_VERP_MAX_AGE_DAYS, and still takes undated ones of a configured key (rotation)", async () => {
    const { port } = await start({ verpMaxAgeDays: 30 });
    const fresh = verp("a@example.org", new Date(Date.now() - 10 * DAY));
    const old = verp("b@example.org", new Date(Date.now() - 60 * DAY));
    const undated = verp("c@example.org", undefined, [OLD_KEY]);
    expect(await rcptReplies(port, [fresh, old, undated])).toEqual(["250 Accep", "550 5.1.1", "250 Accep"]);
    // Without the setting the same old path is taken.
    const lenient = await start();
    expect(await rcptReplies(lenient.port, [old])).toEqual(["250 Accep"]);
  });

  it("with REBOUND_SMTP_LOCAL_PARTS=*, takes every plain local part but still refuses forged return paths", async () => {
    const { port } = await start({ smtpLocalParts: "*" });
    const forged = forge(verp("x@example.org", new Date()));
    expect(await rcptReplies(port, [`anyone@${DOMAIN}`, forged])).toEqual(["250 Accep", "550 5.1.1"]);
  });

  it("with no VERP key, a VERP-shaped local part is a plain one: refused unless REBOUND_SMTP_LOCAL_PARTS takes it", async () => {
    const rp = verp("x@example.org", new Date());
    const strict = await start({ verpKeys: "" });
    expect(await rcptReplies(strict.port, [rp, `postmaster@${DOMAIN}`])).toEqual(["550 5.1.1", "250 Accep"]);
    const all = await start({ verpKeys: "", smtpLocalParts: "*" });
    expect(await rcptReplies(all.port, [rp])).toEqual(["250 Accep"]);
  });

  it(`closes a connection after ${MAX_REFUSED_RECIPIENTS} refused recipients with 421 4.7.0`, async () => {
    const { port } = await start();
    const { client } = await SmtpClient.connect(port);
    await client.command("EHLO c.test");
    await client.command("MAIL FROM:<>");
    const codes: number[] = [];
    for (let i = 0; i <= MAX_REFUSED_RECIPIENTS; i++)
      codes.push((await client.command(`RCPT TO:<guess${i}@${DOMAIN}>`)).code);
    expect(codes.slice(0, MAX_REFUSED_RECIPIENTS).every((c) => c === 550)).toBe(true);
    expect(codes[MAX_REFUSED_RECIPIENTS]).toBe(421);
    await client.waitClosed();
    expect(client.closed).toBe(true);
  });
});

describe("IDN bounce domains", () => {
  it("takes either spelling in RCPT whichever spelling REBOUND_DOMAINS has", async () => {
    for (const configured of ["bünce.example", "xn--bnce-0ra.example"]) {
      const { port } = await start({ domains: configured });
      const { client } = await SmtpClient.connect(port);
      await client.command("EHLO c.test");
      await client.command("MAIL FROM:<> SMTPUTF8");
      const u = await client.command("RCPT TO:<postmaster@BÜNCE.example>");
      const a = await client.command("RCPT TO:<postmaster@xn--bnce-0ra.example>");
      const other = await client.command("RCPT TO:<postmaster@bunce.example>");
      expect([u.code, a.code, other.text.slice(0, 9)]).toEqual([250, 250, "550 5.7.1"]);
      await client.quit();
    }
    expect(loadConfig({ domains: "Bünce.Example.,xn--bnce-0ra.example" }, {}).domains).toEqual([
      "xn--bnce-0ra.example",
    ]);
  });
});

describe("limits under a flood", () => {
  it("refuses a client's connections beyond REBOUND_SMTP_MAX_CONNECTIONS_PER_IP with 421 4.7.0, and takes it again once one closes", async () => {
    const { port } = await start({ smtpMaxConnectionsPerIp: 2 });
    const a = await SmtpClient.connect(port);
    const b = await SmtpClient.connect(port);
    const c = await SmtpClient.connect(port);
    expect([a.greeting.code, b.greeting.code]).toEqual([220, 220]);
    expect(c.greeting.text).toMatch(/^421 4\.7\.0 Too many concurrent connections/);
    await a.client.quit();
    await until(async () => {
      const d = await SmtpClient.connect(port);
      d.client.destroy();
      return d.greeting.code === 220;
    });
    b.client.destroy();
  });

  it("closes a connection after REBOUND_SMTP_MAX_TRANSACTIONS_PER_CONNECTION transactions with 421 4.7.0", async () => {
    const { port } = await start({ smtpMaxTransactionsPerConnection: 2 });
    const { client } = await SmtpClient.connect(port);
    await client.command("EHLO c.test");
    const first = await client.send({ from: "", to: [`postmaster@${DOMAIN}`], data: message("tx1") });
    const second = await client.send({ from: "", to: [`postmaster@${DOMAIN}`], data: message("tx2") });
    const third = await client.command("MAIL FROM:<>");
    expect([first.final.code, second.final.code]).toEqual([250, 250]);
    expect(third.text).toMatch(/^421 4\.7\.0 Too many mail transactions/);
    await client.waitClosed();
  });

  it("refuses a message beyond REBOUND_SMTP_MAX_RECEIVING_BYTES with 452 4.3.1 and stores nothing, then takes mail again", async () => {
    const { port } = await start({ smtpMaxReceivingBytes: 20_000 });
    const rcpt = `postmaster+budget${randomBytes(3).toString("hex")}@${DOMAIN}`;
    const big = await sendOne(port, { from: "", to: [rcpt], data: message("big", 30_000) });
    expect(big.text).toMatch(/^452 4\.3\.1 /);
    // A declared SIZE beyond the budget is refused at MAIL FROM.
    const { client } = await SmtpClient.connect(port);
    await client.command("EHLO c.test");
    expect((await client.command("MAIL FROM:<> SIZE=50000")).text).toMatch(/^452 4\.3\.1 /);
    await client.quit();
    expect(await rowsTo(rcpt)).toEqual([]);
    // A client that goes away in the middle of a message gives its bytes back too.
    const gone = await SmtpClient.connect(port);
    await gone.client.command("EHLO c.test");
    await gone.client.command("MAIL FROM:<>");
    await gone.client.command(`RCPT TO:<${rcpt}>`);
    await gone.client.command("DATA");
    gone.client.socket.write(`Subject: half\r\n\r\n${"h".repeat(15_000)}`);
    await new Promise((r) => setTimeout(r, 100));
    gone.client.destroy();
    // The bytes of the refused and abandoned messages were given back.
    await until(async () => {
      const first = await sendOne(port, { from: "", to: [rcpt], data: message("small0", 15_000) });
      return first.code === 250;
    });
    for (let i = 1; i < 3; i++) {
      const ok = await sendOne(port, { from: "", to: [rcpt], data: message(`small${i}`, 15_000) });
      expect(ok.code).toBe(250);
    }
    expect(await rowsTo(rcpt)).toHaveLength(3);
  });
});

describe("a hung PostgreSQL", () => {
  /** Holds an ACCESS EXCLUSIVE lock on this file's inbound_mails from a connection of its own: INSERTs wait. */
  async function lockMails(): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await c.connect();
    await c.query("begin");
    await c.query(`lock table ${t.schema}.inbound_mails in access exclusive mode`);
    return c;
  }

  it("answers 451 within the spool timeout, refuses beyond the queue bound at once with 451 4.3.2, and loses nothing that got 250", async () => {
    const db = await openDb({ databaseUrl: TEST_DATABASE_URL, schema: t.schema, poolSize: 4 });
    try {
      const { port } = await start(
        { smtpLocalParts: "*", smtpSpoolTimeoutMs: 1500, smtpMaxQueuedMails: 3, smtpMaxConnectionsPerIp: 0 },
        db.db,
      );
      const tag = randomBytes(3).toString("hex");
      const before = await sendOne(port, { from: "", to: [`before-${tag}@${DOMAIN}`], data: message("b") });
      expect(before.code).toBe(250);

      const lock = await lockMails();
      let replies: Reply[];
      try {
        // One mail's INSERT waits on the lock; 3 wait for the next batch; the other 4 are refused at once.
        replies = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            sendOne(port, { from: "", to: [`hung${i}-${tag}@${DOMAIN}`], data: message(`h${i}`) }),
          ),
        );
      } finally {
        await lock.query("rollback");
        await lock.end();
      }
      const kinds = replies.map((r) => r.text.slice(0, 9)).sort();
      expect(kinds).toEqual([...Array(4).fill("451 4.3.0"), ...Array(4).fill("451 4.3.2")]);

      const after = await sendOne(port, { from: "", to: [`after-${tag}@${DOMAIN}`], data: message("a") });
      expect(after.code).toBe(250);
      // Every 250 is a stored row.
      for (const r of [before, after]) expect(await getMail(t.db, mailIdOf(r))).toBeDefined();
      // Of the 451s, only the mail whose INSERT was already running when the lock went may have been stored (its
      // sender's retry is a duplicate the worker recognises); the queued ones were taken out, never written.
      const hung = await t.db
        .selectFrom("inbound_mails")
        .select("rcpt_to")
        .where(sql<boolean>`rcpt_to[1] like ${`hung%-${tag}@%`}`)
        .execute();
      expect(hung.length).toBeLessThanOrEqual(1);
    } finally {
      await db.close();
    }
  });

  it("sets statement_timeout on every pooled connection, so a statement stuck on a lock errs (the session gets 451 4.3.0)", async () => {
    const db = await openDb({
      databaseUrl: TEST_DATABASE_URL,
      schema: t.schema,
      poolSize: 1,
      statementTimeoutMs: 300,
    });
    try {
      const { rows } = await sql<{ statement_timeout: string }>`show statement_timeout`.execute(db.db);
      expect(rows[0]!.statement_timeout).toBe("300ms");
      // No spool timeout: the 451 comes from PostgreSQL cancelling the INSERT.
      const { port } = await start({ smtpLocalParts: "*", smtpSpoolTimeoutMs: 0 }, db.db);
      const lock = await lockMails();
      let reply: Reply;
      try {
        reply = await sendOne(port, { from: "", to: [`stuck@${DOMAIN}`], data: message("stuck") });
      } finally {
        await lock.query("rollback");
        await lock.end();
      }
      expect(reply.text).toMatch(/^451 4\.3\.0 /);
      expect((await sendOne(port, { from: "", to: [`free@${DOMAIN}`], data: message("free") })).code).toBe(
        250,
      );
    } finally {
      await db.close();
    }
  });

  it("runs COPY streams without statement_timeout and gives the connection back with it restored", async () => {
    const db = await openDb({ databaseUrl: TEST_DATABASE_URL, poolSize: 1, statementTimeoutMs: 300 });
    try {
      const stream = await copyOut(
        pgPoolOf(db.db)!,
        "copy (select current_setting('statement_timeout')) to stdout",
      );
      let out = "";
      for await (const chunk of stream) out += String(chunk);
      expect(out).toBe("0\n");
      const { rows } = await sql<{ statement_timeout: string }>`show statement_timeout`.execute(db.db);
      expect(rows[0]!.statement_timeout).toBe("300ms");
    } finally {
      await db.close();
    }
  });
});

describe("PROXY protocol", () => {
  it("ignores a PROXY header from a peer outside REBOUND_SMTP_PROXY_FROM: the peer's own address counts", async () => {
    const { port } = await start({ smtpProxyFrom: "10.0.0.0/8,fd00::/8", smtpLocalParts: "*" });
    const { client, greeting } = await SmtpClient.connect(port);
    // Not expected from 127.0.0.1: the session greets at once and the header is a bad command.
    expect(greeting.code).toBe(220);
    const proxyLine = await client.command("PROXY TCP4 203.0.113.7 10.0.0.1 40000 25");
    expect(proxyLine.code).toBeGreaterThanOrEqual(500);
    await client.command("EHLO c.test");
    const { final } = await client.send({ from: "", to: [`p@${DOMAIN}`], data: message("proxy") });
    expect(final.code).toBe(250);
    expect((await getMail(t.db, mailIdOf(final)))!.remote_ip).toBe("127.0.0.1");
    await client.quit();
  });

  it("refuses REBOUND_SMTP_PROXY_PROTOCOL=true without REBOUND_SMTP_PROXY_FROM, and networks it cannot read", () => {
    expect(() => loadConfig({ smtpProxyProtocol: "true" }, {})).toThrow(/REBOUND_SMTP_PROXY_FROM/);
    expect(() => loadConfig({}, { REBOUND_SMTP_PROXY_FROM: "10.0.0.0/33" })).toThrow(
      /REBOUND_SMTP_PROXY_FROM: "10.0.0.0\/33" is not a network/,
    );
  });
});

describe("settings", () => {
  it("names the variable of a bad value", () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ REBOUND_SMTP_LOCAL_PARTS: "postmaster,a@b" }, /REBOUND_SMTP_LOCAL_PARTS: "a@b" is not a local part/],
      [{ REBOUND_VERP_MAX_AGE_DAYS: "-1" }, /REBOUND_VERP_MAX_AGE_DAYS/],
      [{ REBOUND_SMTP_MAX_CONNECTIONS_PER_IP: "many" }, /REBOUND_SMTP_MAX_CONNECTIONS_PER_IP/],
      [{ REBOUND_DATABASE_STATEMENT_TIMEOUT_MS: "1.5" }, /REBOUND_DATABASE_STATEMENT_TIMEOUT_MS/],
      [{ REBOUND_DOMAINS: "ok.example,bad domain" }, /REBOUND_DOMAINS: "bad domain" is not a domain name/],
    ];
    for (const [env, message] of bad) {
      expect(() => loadConfig({}, env)).toThrow(ConfigError);
      expect(() => loadConfig({}, env)).toThrow(message);
    }
    expect(loadConfig({}, {}).smtpLocalParts).toEqual([
      "postmaster",
      "abuse",
      "fbl",
      "feedback",
      "complaints",
      "arf",
      "bounce",
      "bounces",
      "dmarc",
      "dmarc-reports",
      "tlsrpt",
    ]);
  });

  it("runs on the exact smtp-server release its greeting and PROXY code were written against, pinned in package.json", () => {
    const installed = JSON.parse(
      readFileSync(new URL("../../node_modules/smtp-server/package.json", import.meta.url), "utf8"),
    ) as { version: string };
    const ours = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      dependencies: Record<string, string>;
    };
    expect(installed.version).toBe(SMTP_SERVER_VERSION);
    expect(ours.dependencies["smtp-server"]).toBe(SMTP_SERVER_VERSION);
  });
});
