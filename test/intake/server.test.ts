import { randomBytes } from "node:crypto";
import { connect as netConnect } from "node:net";
import { Writable } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, type Config } from "../../src/config.js";
import { createIntake, type Intake } from "../../src/intake/server.js";
import { selfSignedTls, type TlsMaterial } from "../../src/intake/tls.js";
import { createLogger } from "../../src/log.js";
import { createBullQueue } from "../../src/queue/bullmq.js";
import type { Queue } from "../../src/queue/types.js";
import { openDb } from "../../src/store/db.js";
import { getMail } from "../../src/store/mails.js";
import { createTestDb, TEST_REDIS_URL, type TestDb } from "../helpers/db.js";
import { dropQueueKeys } from "../helpers/redis.js";
import { sendOne, SmtpClient } from "../helpers/smtp.js";
import { until } from "../helpers/until.js";

const DOMAIN = "bounces.example.com";

function message(subject = "hello") {
  return `From: MAILER-DAEMON@mx.example.net\r\nTo: b@${DOMAIN}\r\nSubject: ${subject}\r\nMessage-ID: <${randomBytes(6).toString("hex")}@mx>\r\n\r\nbody line\r\n.leading dot\r\n`;
}

function testConfig(over: Partial<Record<keyof Config, unknown>> = {}): Config {
  return loadConfig(
    {
      domains: `${DOMAIN},fbl.example.com`,
      smtpHost: "127.0.0.1",
      smtpPort: 0,
      smtpShutdownTimeoutMs: 5000,
      // These tests are about storing what was accepted: every local part is taken (test/intake/edge.test.ts
      // covers the recipient checks).
      smtpLocalParts: "*",
      // Every client here is 127.0.0.1; edge.test.ts covers the per-client limit.
      smtpMaxConnectionsPerIp: 0,
      ...over,
    },
    {},
  );
}

/** Log lines written by the intake, parsed. */
function captureLogs() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split("\n").filter(Boolean))
        lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, logger: createLogger("info", stream) };
}

let t: TestDb;
let tls: TlsMaterial;
let queue: Queue;
const queuePrefix = `t-intake-${randomBytes(6).toString("hex")}`;
const jobs: string[] = [];
/** The mail ids of each process-mails job. */
const batchJobs: string[][] = [];
const logs = captureLogs();
let intake: Intake;
let port: number;

async function start(over: Partial<Record<keyof Config, unknown>> = {}, deps: { db?: TestDb["db"] } = {}) {
  const i = createIntake({ config: testConfig(over), db: deps.db ?? t.db, queue, logger: logs.logger, tls });
  const addr = await i.listen();
  return { intake: i, port: addr.port };
}

beforeAll(async () => {
  t = await createTestDb();
  tls = await selfSignedTls("mx.test");
  queue = createBullQueue({ redisUrl: TEST_REDIS_URL, prefix: queuePrefix });
  // The intake enqueues the group commits of a few ms as one process-mails job; the sweeper, one process-mail job
  // per mail.
  queue.process(
    "process-mails",
    async (p) => {
      batchJobs.push(p.mailIds);
      jobs.push(...p.mailIds);
    },
    { concurrency: 4 },
  );
  queue.process("process-mail", async (p) => void jobs.push(p.mailId), { concurrency: 4 });
  ({ intake, port } = await start());
});

afterAll(async () => {
  await intake?.close();
  await queue?.close();
  await dropQueueKeys(queuePrefix);
  await t?.drop();
});

function mailIdOf(text: string): string {
  const m = /queued as (\w+)/.exec(text);
  if (!m) throw new Error(`no mail id in ${text}`);
  return m[1]!;
}

describe("the SMTP intake", () => {
  it("answers 250 only with the raw mail stored as a pending row, then enqueues a job with the mail id", async () => {
    const data = message("stored");
    const reply = await sendOne(port, { from: "", to: [`anything+x@${DOMAIN}`], data });
    expect(reply.code).toBe(250);
    expect(reply.text).toMatch(/^250 2\.0\.0 /);
    const id = mailIdOf(reply.text);
    const row = await getMail(t.db, id);
    expect(row).toMatchObject({
      mail_from: "",
      rcpt_to: [`anything+x@${DOMAIN}`],
      remote_ip: "127.0.0.1",
      helo: "client.test",
    });
    expect(row!.raw!.toString()).toBe(data);
    await until(() => jobs.includes(id));
    await until(async () => (await getMail(t.db, id))?.enqueued_at != null);
  });

  it("with REBOUND_SMTP_LOCAL_PARTS=*, accepts any local part of every configured domain, case-insensitively", async () => {
    const reply = await sendOne(port, {
      from: "x@y.example",
      to: [`A.B@FBL.Example.COM`, `z@${DOMAIN}`],
      data: message(),
    });
    expect(reply.code).toBe(250);
    const row = await getMail(t.db, mailIdOf(reply.text));
    expect(row!.rcpt_to).toEqual(["A.B@FBL.Example.COM", `z@${DOMAIN}`]);
  });

  it("refuses to relay to any other domain with 550 5.7.1 and stores nothing", async () => {
    const before = await t.db
      .selectFrom("inbound_mails")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .executeTakeFirstOrThrow();
    const { client } = await SmtpClient.connect(port);
    await client.command("EHLO relay.test");
    const { final, rcpt } = await client.send({
      from: "spammer@evil.test",
      to: ["victim@gmail.com", `x@sub.${DOMAIN}`],
      data: message(),
    });
    expect(rcpt.map((r) => r.text.slice(0, 9))).toEqual(["550 5.7.1", "550 5.7.1"]);
    expect(final.code).toBe(550);
    // A mixed envelope: only the local recipient is taken.
    const mixed = await client.send({ from: "", to: ["victim@gmail.com", `ok@${DOMAIN}`], data: message() });
    expect(mixed.rcpt.map((r) => r.code)).toEqual([550, 250]);
    expect(mixed.final.code).toBe(250);
    expect((await getMail(t.db, mailIdOf(mixed.final.text)))!.rcpt_to).toEqual([`ok@${DOMAIN}`]);
    await client.quit();
    const after = await t.db
      .selectFrom("inbound_mails")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .executeTakeFirstOrThrow();
    expect(Number(after.n) - Number(before.n)).toBe(1);
  });

  it("offers no AUTH and refuses it", async () => {
    const { client } = await SmtpClient.connect(port);
    const ehlo = await client.command("EHLO c.test");
    expect(ehlo.text).not.toMatch(/AUTH/);
    expect(ehlo.text).toMatch(/STARTTLS/);
    expect(ehlo.text).toMatch(/SMTPUTF8/);
    expect(ehlo.text).toMatch(/8BITMIME/);
    expect(ehlo.text).toMatch(/SIZE 10485760/);
    const auth = await client.command("AUTH PLAIN AHVzZXIAcGFzcw==");
    expect(auth.code).toBeGreaterThanOrEqual(500);
    await client.quit();
  });

  it("takes SMTPUTF8 envelopes and 8-bit bodies unchanged", async () => {
    const { client } = await SmtpClient.connect(port);
    await client.command("EHLO c.test");
    const body = Buffer.from(`Subject: caf\u00e9\r\n\r\nd\u00e9j\u00e0 vu \u2603\r\n`, "utf8");
    const mail = await client.command(`MAIL FROM:<j\u00f6rg@example.de> SMTPUTF8 BODY=8BITMIME`);
    expect(mail.code).toBe(250);
    expect((await client.command(`RCPT TO:<\u00fc@${DOMAIN}>`)).code).toBe(250);
    expect((await client.command("DATA")).code).toBe(354);
    client.socket.write(Buffer.concat([body, Buffer.from(".\r\n")]));
    const final = await client.read();
    expect(final.code).toBe(250);
    const row = await getMail(t.db, mailIdOf(final.text));
    expect(row!.raw!.equals(body)).toBe(true);
    expect(row!.mail_from).toBe("j\u00f6rg@example.de");
    await client.quit();
  });

  it("refuses a message over the size limit with 552 5.3.4 and stores nothing", async () => {
    const small = await start({ smtpMaxMessageBytes: 2000 });
    const stored = async () =>
      Number(
        (
          await t.db
            .selectFrom("inbound_mails")
            .select((eb) => eb.fn.countAll<string>().as("n"))
            .executeTakeFirstOrThrow()
        ).n,
      );
    try {
      const before = await stored();
      const big = message() + "x".repeat(3000) + "\r\n";
      const reply = await sendOne(small.port, { from: "", to: [`a@${DOMAIN}`], data: big });
      expect(reply.text).toMatch(/^552 5\.3\.4 /);
      expect(await stored()).toBe(before);
      const ok = await sendOne(small.port, { from: "", to: [`a@${DOMAIN}`], data: message() });
      expect(ok.code).toBe(250);
      // The one that fits is stored: the count above can move.
      expect(await stored()).toBe(before + 1);
    } finally {
      await small.intake.close();
    }
    const line = logs.lines.find((l) => l.code === 552);
    expect(line).toMatchObject({ msg: "smtp transaction refused: too big" });
  });

  it("limits recipients per message with 452 4.5.3", async () => {
    const few = await start({ smtpMaxRecipients: 2 });
    try {
      const { client } = await SmtpClient.connect(few.port);
      await client.command("EHLO c.test");
      const { rcpt, final } = await client.send({
        from: "",
        to: [`a@${DOMAIN}`, `b@${DOMAIN}`, `c@${DOMAIN}`],
        data: message(),
      });
      expect(rcpt.map((r) => r.text.slice(0, 9))).toEqual(["250 Accep", "250 Accep", "452 4.5.3"]);
      expect(final.code).toBe(250);
      await client.quit();
    } finally {
      await few.intake.close();
    }
  });

  it("refuses connections over the per-IP rate with 421 4.7.0", async () => {
    const limited = await start({ smtpRateLimitPerMinute: 2 });
    try {
      const greetings = [];
      for (let i = 0; i < 3; i++) {
        const { client, greeting } = await SmtpClient.connect(limited.port);
        greetings.push(greeting.text.slice(0, 9));
        client.destroy();
      }
      expect(greetings.map((g) => g.slice(0, 4))).toEqual(["220 ", "220 ", "421 "]);
      expect(greetings[2]).toBe("421 4.7.0");
    } finally {
      await limited.intake.close();
    }
  });

  it("refuses connections over the connection limit with 421 4.7.0", async () => {
    const limited = await start({ smtpMaxConnections: 2 });
    try {
      const a = await SmtpClient.connect(limited.port);
      const b = await SmtpClient.connect(limited.port);
      const c = await SmtpClient.connect(limited.port);
      expect([a.greeting.code, b.greeting.code]).toEqual([220, 220]);
      expect(c.greeting.text).toMatch(/^421 4\.7\.0 /);
      a.client.destroy();
      b.client.destroy();
      c.client.destroy();
    } finally {
      await limited.intake.close();
    }
  });

  it("greets at once by default, and with a greeting delay refuses a client that talks before the greeting", async () => {
    /** Connects and sends EHLO at once, without waiting for the greeting; resolves with all the server said. */
    const talkAtOnce = (p: number) =>
      new Promise<string>((resolve, reject) => {
        let said = "";
        const socket = netConnect(p, "127.0.0.1", () => socket.write("EHLO early.example\r\n"));
        socket.on("data", (d: Buffer) => {
          said += d.toString();
          // Done at the EHLO's last line, or when the server hangs up.
          if (/^250 /m.test(said) && !socket.writableEnded) socket.end("QUIT\r\n");
        });
        socket.on("close", () => resolve(said));
        socket.on("error", reject);
      });
    expect(await talkAtOnce(port)).toMatch(/^220 [^\r]*\r\n250-/);
    const patient = await start({ smtpGreetingDelayMs: 300 });
    try {
      expect(await talkAtOnce(patient.port)).toMatch(/^421 .*talk too soon/m);
      // A client that waits for the greeting is served as usual.
      const c = await SmtpClient.connect(patient.port);
      expect(c.greeting.code).toBe(220);
      c.client.destroy();
    } finally {
      await patient.intake.close();
    }
  });

  it("upgrades to TLS 1.2+ with STARTTLS and refuses older protocol versions", async () => {
    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port,
      secure: false,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
    });
    const info = await transport.sendMail({
      envelope: { from: "", to: [`tls@${DOMAIN}`] },
      raw: message("over tls"),
    });
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: queued as/);
    transport.close();

    const { client } = await SmtpClient.connect(port);
    await client.command("EHLO c.test");
    expect((await client.command("STARTTLS")).code).toBe(220);
    const err = await new Promise<Error | undefined>((resolve) => {
      const s = tlsConnect({
        socket: client.socket,
        rejectUnauthorized: false,
        maxVersion: "TLSv1.1",
        minVersion: "TLSv1",
      });
      s.once("secureConnect", () => resolve(undefined));
      s.once("error", resolve);
    });
    // The server's refusal (a protocol_version alert), not the client's own.
    expect((err as NodeJS.ErrnoException | undefined)?.code).toBe("ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION");
    client.destroy();
  });

  it("reads the client address from a PROXY protocol header when configured", async () => {
    const proxied = await start({ smtpProxyFrom: "127.0.0.0/8" });
    try {
      const { client, greeting } = await SmtpClient.connect(proxied.port, {
        preface: "PROXY TCP4 203.0.113.7 10.0.0.1 40000 25\r\n",
      });
      expect(greeting.code).toBe(220);
      await client.command("EHLO c.test");
      const { final } = await client.send({ from: "", to: [`p@${DOMAIN}`], data: message() });
      expect(final.code).toBe(250);
      expect((await getMail(t.db, mailIdOf(final.text)))!.remote_ip).toBe("203.0.113.7");
      await client.quit();
    } finally {
      await proxied.intake.close();
    }
  });

  it("answers 451 4.3.0 when PostgreSQL is unreachable, so the sender retries", async () => {
    const dead = await openDb({ databaseUrl: "postgres://postgres@127.0.0.1:1/test" });
    const down = await start({}, { db: dead.db });
    try {
      const reply = await sendOne(down.port, { from: "", to: [`a@${DOMAIN}`], data: message() });
      expect(reply.text).toMatch(/^451 4\.3\.0 /);
    } finally {
      await down.intake.close();
      await dead.close();
    }
  });

  it("commits mails from many concurrent sessions, each acknowledged once stored, and enqueues them in batches", async () => {
    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        sendOne(port, { from: "", to: [`c${i}@${DOMAIN}`], data: message(`concurrent ${i}`) }),
      ),
    );
    expect(replies.every((r) => r.code === 250)).toBe(true);
    const ids = replies.map((r) => mailIdOf(r.text));
    const rows = await t.db
      .selectFrom("inbound_mails")
      .select(["id", "rcpt_to"])
      .where("id", "in", ids)
      .execute();
    expect(rows).toHaveLength(60);
    await until(() => ids.every((id) => jobs.includes(id)));
    // Mails committed together are enqueued together: fewer jobs than mails, each mail in one of them.
    const mine = batchJobs.filter((b) => b.some((id) => ids.includes(id)));
    expect(mine.length).toBeLessThan(60);
    expect(
      mine
        .flat()
        .filter((id) => ids.includes(id))
        .sort(),
    ).toEqual([...ids].sort());
  });

  it("logs one line per transaction with its ids and no mail content", async () => {
    const reply = await sendOne(port, {
      from: "",
      to: [`log@${DOMAIN}`],
      data: message("secret-subject-text"),
    });
    const id = mailIdOf(reply.text);
    const mine = logs.lines.filter((l) => l.mailId === id);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ msg: "smtp transaction accepted", code: 250, ip: "127.0.0.1", rcpts: 1 });
    expect(typeof mine[0]!.sid).toBe("string");
    expect(JSON.stringify(logs.lines)).not.toContain("secret-subject-text");
  });

  it("finishes the sessions in flight on shutdown and takes no new ones", async () => {
    const s = await start();
    const { client } = await SmtpClient.connect(s.port);
    await client.command("EHLO c.test");
    await client.command("MAIL FROM:<>");
    await client.command(`RCPT TO:<late@${DOMAIN}>`);
    expect((await client.command("DATA")).code).toBe(354);
    client.socket.write("Subject: half\r\n\r\n");
    const closing = s.intake.close();
    await new Promise((r) => setTimeout(r, 100));
    const refused = await SmtpClient.connect(s.port).then(
      () => "connected",
      () => "refused",
    );
    expect(refused).toBe("refused");
    client.socket.write("rest of the body\r\n.\r\n");
    const final = await client.read();
    expect(final.code).toBe(250);
    expect(await getMail(t.db, mailIdOf(final.text))).toBeDefined();
    await client.quit();
    await closing;
  });
});
