// Rollups written by the worker beside the events they count, with providers from a real DNS server and events
// tied to their sends by the returned original's Message-ID.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { DEFAULT_POLICY } from "../../src/core/policy-config.js";
import { encodeVerp } from "../../src/core/verp.js";
import { createLogger } from "../../src/log.js";
import { ProviderResolver } from "../../src/monitor/provider-resolver.js";
import { openDb } from "../../src/store/db.js";
import { mailEvents } from "../../src/store/events.js";
import { insertMail } from "../../src/store/mails.js";
import { insertSends } from "../../src/store/sends.js";
import { processMail, processMails, type ProcessDeps } from "../../src/worker/process-mail.js";
import { recordDelivery } from "../../src/worker/record-delivery.js";
import { testClassifier } from "../helpers/classifier.js";
import { createTestDb, TEST_DATABASE_URL, type TestDb, testHash } from "../helpers/db.js";
import { fixture, sha256, type Fixture } from "../worker/mail-fixtures.js";
import { startDns, type TestDns } from "./dns-server.js";

const KEYS = [{ id: "k1", secret: "rollup-test-secret-0001" }];
const config = loadConfig({ verpKeys: "k1:rollup-test-secret-0001", domains: "bounces.example.net" }, {});
const T0 = new Date("2026-03-02T10:20:00Z");
const H = 3_600_000;

let t: TestDb;
let dns: TestDns;
let providers: ProviderResolver;
const deps = (db = t.db): ProcessDeps => ({
  db,
  config,
  policy: DEFAULT_POLICY,
  hashAddress: testHash,
  logger: createLogger("silent"),
  now: () => T0,
  providers,
  classifier: testClassifier(),
});

beforeAll(async () => {
  t = await createTestDb();
  dns = await startDns({
    mx: { "workspace.io": ["aspmx.l.google.com"], "m365.io": ["m365-io.mail.protection.outlook.com"] },
  });
  providers = new ProviderResolver({ servers: [dns.address], timeoutMs: 500 });
});
afterAll(async () => {
  providers?.close();
  await dns?.close();
  await t?.drop();
});

async function spool(name: Fixture, recipient: string, o: { id?: string; signed?: boolean; at?: Date } = {}) {
  const returnPath =
    o.signed === false
      ? "bounces@bounces.example.net"
      : encodeVerp({ recipient, stream: "marketing", tenant: "acme" }, KEYS, "bounces.example.net");
  const raw = fixture(name, { recipient, returnPath, id: o.id });
  const id = randomUUID();
  await insertMail(t.db, {
    id,
    mailFrom: "",
    rcptTo: [returnPath],
    raw,
    sha256: sha256(raw),
    receivedAt: o.at ?? T0,
  });
  return id;
}

async function rollups(where: { campaign?: string; provider?: string } = {}) {
  let q = t.db.selectFrom("rollups").selectAll().where("tenant", "=", "acme");
  if (where.campaign !== undefined) q = q.where("campaign", "=", where.campaign);
  if (where.provider !== undefined) q = q.where("provider", "=", where.provider);
  const rows = await q.orderBy("hour").orderBy("provider").orderBy("campaign").execute();
  return rows.map((r) => ({
    hour: new Date(r.hour).toISOString(),
    stream: r.stream,
    provider: r.provider,
    campaign: r.campaign,
    sendingIp: r.sending_ip,
    sent: Number(r.sent),
    delivered: Number(r.delivered),
    hard: Number(r.hard),
    soft: Number(r.soft),
    block: Number(r.block),
    complaint: Number(r.complaint),
    autoReply: Number(r.auto_reply),
    unverified: Number(r.unverified),
  }));
}

const zero = { sent: 0, delivered: 0, hard: 0, soft: 0, block: 0, complaint: 0, autoReply: 0, unverified: 0 };

describe("rollups beside the events", () => {
  it("counts a bounce at a Google Workspace domain under google, in the hour it arrived, with the event's provider", async () => {
    const id = await spool("dsn-hard", "a@workspace.io");
    await processMail(deps(), id);
    const [ev] = await mailEvents(t.db, id);
    expect(ev).toMatchObject({ provider: "google", campaign: null, sending_ip: null, sent_at: null });
    expect(await rollups({ provider: "google" })).toEqual([
      {
        ...zero,
        hour: "2026-03-02T10:00:00.000Z",
        stream: "marketing",
        provider: "google",
        campaign: "",
        sendingIp: "",
        hard: 1,
      },
    ]);
  });

  it("ties a bounce to its send by the original's Message-ID: the send's campaign, sending IP and hour", async () => {
    const mid = randomUUID();
    const sentAt = new Date(T0.getTime() - 5 * H);
    await insertSends(t.db, "acme", [
      {
        messageId: `orig-${mid}@sender.example`,
        stream: "marketing",
        campaign: "spring",
        sendingIp: "192.0.2.10",
        recipientDomain: "m365.io",
        provider: "microsoft",
        sentAt,
      },
    ]);
    const id = await spool("dsn-block-spamhaus", "b@m365.io", { id: mid });
    await processMail(deps(), id);
    const [ev] = await mailEvents(t.db, id);
    expect(ev).toMatchObject({ provider: "microsoft", campaign: "spring", sending_ip: "192.0.2.10" });
    expect(new Date(ev!.sent_at!).toISOString()).toBe(sentAt.toISOString());
    expect(await rollups({ campaign: "spring" })).toEqual([
      {
        ...zero,
        hour: "2026-03-02T05:00:00.000Z",
        stream: "marketing",
        provider: "microsoft",
        campaign: "spring",
        sendingIp: "192.0.2.10",
        sent: 1,
        block: 1,
      },
    ]);
  });

  it("counts an unsigned bounce only as unverified, and a reported delivery as delivered", async () => {
    const id = await spool("dsn-hard", "c@m365.io", { signed: false });
    await processMail(deps(), id);
    await recordDelivery(
      { db: t.db, policy: DEFAULT_POLICY, hashAddress: testHash, now: () => T0 },
      { tenant: "acme", stream: "marketing", address: "d@gmail.com", occurredAt: T0 },
    );
    const rows = await t.db
      .selectFrom("rollups")
      .select(["tenant", "provider", "hard", "unverified", "delivered"])
      .where("campaign", "=", "")
      .where("provider", "in", ["microsoft", "google"])
      .execute();
    const sum = (tenant: string, provider: string, k: "hard" | "unverified" | "delivered") =>
      rows
        .filter((r) => r.tenant === tenant && r.provider === provider)
        .reduce((n, r) => n + Number(r[k]), 0);
    expect(sum(config.defaultTenant, "microsoft", "unverified")).toBe(1);
    expect(sum(config.defaultTenant, "microsoft", "hard")).toBe(0);
    expect(sum("acme", "google", "delivered")).toBe(1);
  });

  it("leaves the rollups as they were when a mail is re-processed (its old events are taken out)", async () => {
    const before = await rollups();
    const id = await spool("dsn-soft-mailboxfull", "e@workspace.io");
    await processMail(deps(), id);
    const once = await rollups({ provider: "google" });
    await processMail(deps(), id, { reprocess: true });
    expect(await rollups({ provider: "google" })).toEqual(once);
    expect((await rollups()).length).toBeGreaterThanOrEqual(before.length);
  });

  it("adds up across several worker processes writing the same rows at once", async () => {
    const other = await openDb({ databaseUrl: TEST_DATABASE_URL, schema: t.schema, poolSize: 4 });
    try {
      const at = new Date(T0.getTime() + 2 * H);
      const ids: string[] = [];
      for (let i = 0; i < 60; i++) ids.push(await spool("dsn-hard", `p${i}@workspace.io`, { at }));
      const halves = [ids.filter((_, i) => i % 2 === 0), ids.filter((_, i) => i % 2 === 1)];
      const run = async (db: typeof t.db, mine: string[]) => {
        for (let i = 0; i < mine.length; i += 5) await processMails(deps(db), mine.slice(i, i + 5));
      };
      await Promise.all([run(t.db, halves[0]!), run(other.db, halves[1]!), run(other.db, [])]);
      const rows = await rollups({ provider: "google" });
      expect(rows.find((r) => r.hour === "2026-03-02T12:00:00.000Z")).toMatchObject({ hard: 60 });
    } finally {
      await other.close();
    }
  });
});
