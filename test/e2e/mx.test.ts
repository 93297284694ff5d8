// The MX end to end: mails sent over SMTP to a running intake + worker become events and suppressions, on
// PostgreSQL + Redis (BullMQ) and in the embedded mode (PGlite + the in-process queue).
import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, type Config } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { startApp, type App } from "../../src/main.js";
import { getMail } from "../../src/store/mails.js";
import { openDb } from "../../src/store/db.js";
import { TEST_DATABASE_URL, TEST_REDIS_URL, uniqueSchema } from "../helpers/db.js";
import { dropQueueKeys } from "../helpers/redis.js";
import { sendOne } from "../helpers/smtp.js";
import { until } from "../helpers/until.js";
import { BOUNCE_DOMAIN, e2eMail, FBL_DOMAIN, forgedVerp, verp, VERP_KEYS_ENV } from "./fixtures.js";

function e2eConfig(over: Partial<Record<keyof Config, unknown>>): Config {
  return loadConfig(
    {
      domains: `${BOUNCE_DOMAIN},${FBL_DOMAIN}`,
      smtpHost: "127.0.0.1",
      smtpPort: 0,
      verpKeys: VERP_KEYS_ENV,
      smtpMaxMessageBytes: 200_000,
      jobBackoffMs: 50,
      sweepIntervalMs: 200,
      logLevel: "silent",
      ...over,
    },
    {},
  );
}

const modes: [string, () => { config: Config; cleanup: () => Promise<void> }][] = [
  [
    "PostgreSQL and Redis",
    () => {
      const schema = uniqueSchema("e2e");
      const queuePrefix = `t-e2e-${randomBytes(6).toString("hex")}`;
      return {
        config: e2eConfig({
          databaseUrl: TEST_DATABASE_URL,
          databaseSchema: schema,
          redisUrl: TEST_REDIS_URL,
          queuePrefix,
        }),
        cleanup: async () => {
          const h = await openDb({ databaseUrl: TEST_DATABASE_URL });
          await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(h.db);
          await h.close();
          await dropQueueKeys(queuePrefix);
        },
      };
    },
  ],
  [
    "the embedded mode (PGlite, in-process queue)",
    () => ({ config: e2eConfig({ dataDir: ":memory:" }), cleanup: async () => {} }),
  ],
];

function mailIdOf(text: string): string {
  const m = /queued as (\w+)/.exec(text);
  if (!m) throw new Error(`no mail id in: ${text}`);
  return m[1]!;
}

describe.each(modes)("the MX on %s", (_name, make) => {
  let app: App;
  let cleanup: () => Promise<void>;
  let port: number;

  beforeAll(async () => {
    const m = make();
    cleanup = m.cleanup;
    app = await startApp(m.config, ["intake", "worker"], { logger: createLogger("silent") });
    port = app.smtpPort!;
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });

  /** Sends over SMTP, expects 250, waits until the worker is done with the mail. */
  async function deliver(raw: Buffer, rcpt: string) {
    const reply = await sendOne(port, { from: "", to: [rcpt], data: raw });
    expect(reply.code, reply.text).toBe(250);
    const id = mailIdOf(reply.text);
    const mail = await until(async () => {
      const m = await getMail(app.db, id);
      return m && (m.status === "processed" || m.status === "duplicate" || m.status === "failed")
        ? m
        : undefined;
    });
    return mail;
  }

  const suppressionsOf = (address: string) =>
    app.db.selectFrom("suppressions").selectAll().where("address", "=", address).orderBy("id").execute();
  const eventsOf = (address: string) =>
    app.db.selectFrom("events").selectAll().where("address", "=", address).orderBy("id").execute();

  it("turns a DSN sent to a signed return path into a hard suppression in its tenant and stream", async () => {
    const rcpt = `gone-${randomBytes(3).toString("hex")}@example.org`;
    const rp = verp(rcpt, "marketing", "acme");
    const mail = await deliver(e2eMail("dsn-exim-user-unknown", { recipient: rcpt, returnPath: rp }), rp);
    expect(mail).toMatchObject({ status: "processed", kind: "bounce", tenant: "acme" });
    expect(await suppressionsOf(rcpt)).toMatchObject([
      { tenant: "acme", stream: "marketing", class: "hard", reason: "userunknown", source: "bounce" },
    ]);
    expect(await eventsOf(rcpt)).toMatchObject([{ mail_id: mail.id, verified: true, class: "hard" }]);
  });

  it("turns an ARF report to the feedback-loop address into a complaint suppression", async () => {
    const rcpt = `angry-${randomBytes(3).toString("hex")}@example.org`;
    const fbl = `fbl@${FBL_DOMAIN}`;
    const mail = await deliver(
      e2eMail("arf-abuse", { recipient: rcpt, returnPath: verp(rcpt, "newsletter"), rcpt: fbl }),
      fbl,
    );
    expect(mail).toMatchObject({ status: "processed", kind: "complaint" });
    expect(await suppressionsOf(rcpt)).toMatchObject([
      { tenant: "acme", stream: "newsletter", class: "complaint", source: "complaint" },
    ]);
  });

  it("records an auto-reply and suppresses nothing", async () => {
    const rcpt = `away-${randomBytes(3).toString("hex")}@example.org`;
    const rp = verp(rcpt);
    const mail = await deliver(e2eMail("vacation-de", { recipient: rcpt, returnPath: rp }), rp);
    expect(mail).toMatchObject({ status: "processed", kind: "auto_reply" });
    expect(await suppressionsOf(rcpt)).toEqual([]);
  });

  it("refuses a bounce to a forged return path at RCPT with 550 5.1.1, storing nothing", async () => {
    const rcpt = `customer-${randomBytes(3).toString("hex")}@example.org`;
    const rp = forgedVerp(rcpt);
    const reply = await sendOne(port, {
      from: "",
      to: [rp],
      data: e2eMail("dsn-exim-user-unknown", { recipient: rcpt, returnPath: rp }),
    });
    expect(reply.text).toMatch(/^550 5\.1\.1 /);
    const rows = await app.db
      .selectFrom("inbound_mails")
      .select("id")
      .where("rcpt_to", "@>", sql<string[]>`array[${rp}]`)
      .execute();
    expect(rows).toEqual([]);
    expect(await suppressionsOf(rcpt)).toEqual([]);
  });

  it("suppresses nothing for a bounce to the postmaster whose returned original carries a forged return path", async () => {
    const rcpt = `customer-${randomBytes(3).toString("hex")}@example.org`;
    const rp = forgedVerp(rcpt);
    const mail = await deliver(
      e2eMail("dsn-exim-user-unknown", {
        recipient: rcpt,
        returnPath: rp,
        rcpt: `postmaster@${BOUNCE_DOMAIN}`,
      }),
      `postmaster@${BOUNCE_DOMAIN}`,
    );
    expect(mail.status).toBe("processed");
    expect(await suppressionsOf(rcpt)).toEqual([]);
    const events = await eventsOf(rcpt);
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => !e.verified)).toBe(true);
  });

  it("changes nothing when the same mail is delivered twice", async () => {
    const rcpt = `twice-${randomBytes(3).toString("hex")}@example.org`;
    const rp = verp(rcpt);
    const raw = e2eMail("dsn-exim-user-unknown", { recipient: rcpt, returnPath: rp });
    const first = await deliver(raw, rp);
    const before = { s: await suppressionsOf(rcpt), e: await eventsOf(rcpt) };
    const second = await deliver(raw, rp);
    expect(first.status).toBe("processed");
    expect(second).toMatchObject({ status: "duplicate", duplicate_of: first.id });
    expect(await suppressionsOf(rcpt)).toEqual(before.s);
    expect(await eventsOf(rcpt)).toEqual(before.e);
  });

  it("refuses relaying with 550 and oversized mail with 552, storing neither", async () => {
    const relay = await sendOne(port, {
      from: "x@evil.test",
      to: ["someone@gmail.com"],
      data: "Subject: x\r\n\r\nx\r\n",
    });
    expect(relay.text).toMatch(/^550 5\.7\.1 /);
    const big = await sendOne(port, {
      from: "",
      to: [`postmaster@${BOUNCE_DOMAIN}`],
      data: "Subject: big\r\n\r\n" + "y".repeat(300_000),
    });
    expect(big.text).toMatch(/^552 5\.3\.4 /);
    const rows = await app.db
      .selectFrom("inbound_mails")
      .select("id")
      .where("rcpt_to", "@>", sql<string[]>`array['someone@gmail.com']`)
      .execute();
    expect(rows).toEqual([]);
  });
});
