import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { DEFAULT_POLICY, parsePolicy, type Policy } from "../../src/core/policy-config.js";
import { encodeVerp } from "../../src/core/verp.js";
import { createLogger } from "../../src/log.js";
import { getAddressState } from "../../src/store/address-state.js";
import { blockCounts, mailEvents } from "../../src/store/events.js";
import { getMail, insertMail } from "../../src/store/mails.js";
import { explainSuppression, getSuppressions, upsertSuppression } from "../../src/store/suppressions.js";
import { testHash as hashAddress, testHash } from "../helpers/db.js";
import { markFailed, processMail, processMails, type ProcessDeps } from "../../src/worker/process-mail.js";
import { recordDelivery } from "../../src/worker/record-delivery.js";
import { createEmbeddedTestDb, createTestDb, type TestDb, withHash } from "../helpers/db.js";
import { subscribeToAll } from "../helpers/webhooks.js";
import { withPoisonedAddress } from "../helpers/poison.js";
import { fixture, sha256, type Fixture } from "./mail-fixtures.js";
import { testClassifier } from "../helpers/classifier.js";

const KEYS = [{ id: "k1", secret: "worker-test-secret-0001" }];
const config = loadConfig(
  { verpKeys: "k1:worker-test-secret-0001", domains: "bounces.example.net,fbl.example.net" },
  {},
);
const T0 = new Date("2026-03-02T10:00:00Z");
const day = (n: number, h = 0) => new Date(T0.getTime() + n * 86_400_000 + h * 3_600_000);

let t: TestDb;
let clock = T0;
const deps = (policy: Policy = DEFAULT_POLICY): ProcessDeps => ({
  db: t.db,
  config,
  policy,
  hashAddress: testHash,
  logger: createLogger("silent"),
  now: () => clock,
  classifier: testClassifier(),
});

beforeAll(async () => {
  t = await createTestDb();
  await subscribeToAll(t.db, "acme");
  await subscribeToAll(t.db, config.defaultTenant);
});
afterAll(async () => t?.drop());

const verp = (recipient: string, stream = "marketing", tenant: string | null = "acme") =>
  encodeVerp({ recipient, stream, tenant }, KEYS, "bounces.example.net");

/** Spool a fixture as the intake would; returns the mail id. */
async function spool(
  name: Fixture,
  o: { recipient: string; returnPath: string; rcpt?: string; at?: Date; raw?: Buffer; db?: TestDb["db"] },
) {
  const raw = o.raw ?? fixture(name, o);
  const id = randomUUID();
  await insertMail(o.db ?? t.db, {
    id,
    mailFrom: "",
    rcptTo: [o.rcpt ?? o.returnPath],
    raw,
    sha256: sha256(raw),
    receivedAt: o.at ?? clock,
  });
  return id;
}

async function outboxOf(address: string) {
  const rows = await t.db.selectFrom("outbox").selectAll().orderBy("id").execute();
  // Suppressions announce their `address`; bounces and complaints their failed `recipient`.
  return rows.filter((r) => (r.payload.address ?? r.payload.recipient) === address).map((r) => r.type);
}

describe("processing one mail", () => {
  it("turns a hard bounce to a signed return path into a verified event, a suppression in its stream and webhooks", async () => {
    const rcpt = "hard@example.com";
    const id = await spool("dsn-hard", { recipient: rcpt, returnPath: verp(rcpt) });
    const out = await processMail(deps(), id);
    expect(out).toMatchObject({
      status: "processed",
      kind: "bounce",
      tenant: "acme",
      events: 1,
      suppressed: 1,
    });

    const [ev] = await mailEvents(t.db, id);
    expect(ev).toMatchObject({
      tenant: "acme",
      stream: "marketing",
      address: rcpt,
      class: "hard",
      reason: "userunknown",
      permanent: true,
      verified: true,
      verp_key_id: "k1",
      parser: expect.any(String),
    });
    expect(ev!.rule).toBeTruthy();
    expect(ev!.classifier_version).toBeTruthy();
    expect(ev!.decision).toMatchObject({ action: "suppress", rule: "policy.hard", verification: "verified" });

    const [s] = await getSuppressions(t.db, "acme", testHash(rcpt));
    expect(s).toMatchObject({
      stream: "marketing",
      source: "bounce",
      reason: "userunknown",
      class: "hard",
      expires_at: null,
      event_ids: [ev!.id],
    });
    expect(s!.rule).toBe(`policy.hard <- ${ev!.rule}`);
    expect(await outboxOf(rcpt)).toEqual(["suppression.added", "bounce.hard"]);
    expect(await getMail(t.db, id)).toMatchObject({
      status: "processed",
      kind: "bounce",
      tenant: "acme",
      error: null,
    });

    const [explained] = await explainSuppression(t.db, "acme", testHash(rcpt));
    expect(explained!.events.map((e) => e.id)).toEqual([ev!.id]);
  });

  it("is idempotent: processing the same mail again changes nothing, re-processing yields the same events once", async () => {
    const rcpt = "again@example.com";
    const id = await spool("dsn-hard", { recipient: rcpt, returnPath: verp(rcpt) });
    await processMail(deps(), id);
    const [first] = await getSuppressions(t.db, "acme", testHash(rcpt));
    expect(await processMail(deps(), id)).toEqual({ status: "already_processed", mailId: id });
    const re = await processMail(deps(), id, { reprocess: true });
    expect(re).toMatchObject({ status: "processed", events: 1, reprocessed: true });
    const events = await mailEvents(t.db, id);
    expect(events).toHaveLength(1);
    const sups = await getSuppressions(t.db, "acme", testHash(rcpt));
    expect(sups).toHaveLength(1);
    expect(sups[0]!.event_ids).toEqual([events[0]!.id]);
    // the same suppression, not a new one: its id, first sighting and count are kept
    expect(sups[0]).toMatchObject({ id: first!.id, first_seen: first!.first_seen, count: 1 });
    await processMail(deps(), id, { reprocess: true });
    expect((await getSuppressions(t.db, "acme", testHash(rcpt)))[0]).toMatchObject({
      id: first!.id,
      count: 1,
    });
    // nothing announced twice
    expect(await outboxOf(rcpt)).toEqual(["suppression.added", "bounce.hard"]);
  });

  it("re-processes one of two mails behind a suppression without inflating its count", async () => {
    const rcpt = "twice@example.com";
    const a = await spool("dsn-hard", { recipient: rcpt, returnPath: verp(rcpt) });
    const b = await spool("dsn-hard", { recipient: rcpt, returnPath: verp(rcpt) });
    await processMail(deps(), a);
    await processMail(deps(), b);
    const [before] = await getSuppressions(t.db, "acme", testHash(rcpt));
    expect(before).toMatchObject({ count: 2 });
    await processMail(deps(), a, { reprocess: true });
    const [after] = await getSuppressions(t.db, "acme", testHash(rcpt));
    const ids = [...(await mailEvents(t.db, a)), ...(await mailEvents(t.db, b))].map((e) => e.id).sort();
    expect(after).toMatchObject({ id: before!.id, count: 2 });
    expect([...after!.event_ids].sort()).toEqual(ids);
  });

  it("marks a duplicate delivery of the same bytes as duplicate and changes nothing", async () => {
    const rcpt = "dup@example.com";
    const raw = fixture("dsn-hard", { recipient: rcpt, returnPath: verp(rcpt) });
    const first = await spool("dsn-hard", { recipient: rcpt, returnPath: verp(rcpt), raw });
    const second = await spool("dsn-hard", { recipient: rcpt, returnPath: verp(rcpt), raw });
    await processMail(deps(), first);
    const before = await getSuppressions(t.db, "acme", testHash(rcpt));
    expect(await processMail(deps(), second)).toEqual({
      status: "duplicate",
      mailId: second,
      duplicateOf: first,
    });
    expect(await mailEvents(t.db, second)).toEqual([]);
    expect(await getSuppressions(t.db, "acme", testHash(rcpt))).toEqual(before);
    expect(await getMail(t.db, second)).toMatchObject({ status: "duplicate", duplicate_of: first });
    expect(await outboxOf(rcpt)).toEqual(["suppression.added", "bounce.hard"]);
  });

  it("processes the same bytes delivered five times at once exactly once", async () => {
    const rcpt = "race@example.com";
    const raw = fixture("dsn-hard", { recipient: rcpt, returnPath: verp(rcpt) });
    const ids = [];
    for (let i = 0; i < 5; i++)
      ids.push(await spool("dsn-hard", { recipient: rcpt, returnPath: verp(rcpt), raw }));
    const outs = await Promise.all(ids.map((id) => processMail(deps(), id)));
    expect(outs.filter((o) => o.status === "processed")).toHaveLength(1);
    expect(outs.filter((o) => o.status === "duplicate")).toHaveLength(4);
    const events = await t.db.selectFrom("events").select("id").where("address", "=", rcpt).execute();
    expect(events).toHaveLength(1);
    expect(await outboxOf(rcpt)).toEqual(["suppression.added", "bounce.hard"]);
  });

  it("decides soft bounces of one address processed at once one after the other, and escalates once", async () => {
    const rcpt = "soft-race@example.com";
    const ids = [];
    for (const at of [day(0), day(2), day(4)])
      ids.push(await spool("dsn-soft-mailboxfull", { recipient: rcpt, returnPath: verp(rcpt), at }));
    const outs = await Promise.all(ids.map((id) => processMail(deps(), id)));
    expect(outs.map((o) => (o.status === "processed" ? o.suppressed : -1)).sort()).toEqual([0, 0, 1]);
    expect(await getSuppressions(t.db, "acme", testHash(rcpt))).toMatchObject([
      { source: "soft_escalation", count: 1 },
    ]);
  });

  it("suppresses nothing for a forged return path, and records the event as unverified", async () => {
    const rcpt = "victim@example.com";
    const genuine = verp("someone-else@example.com");
    const forged = genuine.replace("someone-else", "victim");
    const id = await spool("dsn-hard", { recipient: rcpt, returnPath: forged });
    const out = await processMail(deps(), id);
    expect(out).toMatchObject({ status: "processed", events: 1, suppressed: 0, unverified: 1 });
    const [ev] = await mailEvents(t.db, id);
    expect(ev).toMatchObject({
      address: rcpt,
      verified: false,
      class: "hard",
      tenant: config.defaultTenant,
      decision: { action: "record", rule: "policy.unverified", verification: "invalid" },
    });
    expect(await getSuppressions(t.db, config.defaultTenant, testHash(rcpt))).toEqual([]);
    expect(await getSuppressions(t.db, "acme", testHash(rcpt))).toEqual([]);
    expect(await outboxOf(rcpt)).toEqual([]);
  });

  it("suppresses nothing for a bounce to a plain address under the default policy, and does when the policy allows plain addresses", async () => {
    const rcpt = "plain@example.com";
    const id = await spool("dsn-hard", { recipient: rcpt, returnPath: "bounces@bounces.example.net" });
    expect(await processMail(deps(), id)).toMatchObject({ suppressed: 0, unverified: 1 });
    expect((await mailEvents(t.db, id))[0]).toMatchObject({
      verified: false,
      decision: { verification: "absent", rule: "policy.unverified" },
    });
    expect(await getSuppressions(t.db, config.defaultTenant, testHash(rcpt))).toEqual([]);

    const plain = parsePolicy({ verification: { mode: "plain", allowUnverified: true } });
    const id2 = await spool("dsn-hard", { recipient: rcpt, returnPath: "bounces@bounces.example.net" });
    expect(await processMail(deps(plain), id2)).toMatchObject({ suppressed: 1 });
    expect(await getSuppressions(t.db, config.defaultTenant, testHash(rcpt))).toMatchObject([
      { stream: config.defaultStream, source: "bounce" },
    ]);
  });

  it("re-derives a mail under a new policy: a suppression it alone caused is removed and the removal announced", async () => {
    const rcpt = "rederive@example.com";
    const id = await spool("dsn-hard", { recipient: rcpt, returnPath: "bounces@bounces.example.net" });
    await processMail(deps(parsePolicy({ verification: { mode: "plain", allowUnverified: true } })), id);
    expect(await getSuppressions(t.db, config.defaultTenant, testHash(rcpt))).toHaveLength(1);
    // a manual suppression in another stream is never touched by re-processing
    await upsertSuppression(
      t.db,
      withHash({
        tenant: config.defaultTenant,
        stream: "other",
        address: rcpt,
        reason: "manual",
        class: "hard",
        source: "manual",
        at: T0,
      }),
    );
    const out = await processMail(deps(DEFAULT_POLICY), id, { reprocess: true });
    expect(out).toMatchObject({ status: "processed", events: 1, suppressed: 0 });
    expect((await getSuppressions(t.db, config.defaultTenant, testHash(rcpt))).map((s) => s.stream)).toEqual([
      "other",
    ]);
    expect(await outboxOf(rcpt)).toEqual([
      "suppression.added",
      "bounce.hard",
      "suppression.added",
      "suppression.removed",
    ]);
    const log = await t.db
      .selectFrom("suppression_log")
      .select(["action", "actor"])
      .where("address", "=", rcpt)
      .where("stream", "=", config.defaultStream)
      .orderBy("id")
      .execute();
    expect(log).toEqual([
      { action: "added", actor: "rebound" },
      { action: "removed", actor: "reprocess" },
    ]);
  });

  it("suppresses a complaint in its stream, identified by the signed return path of the returned original", async () => {
    const rcpt = "complainer@example.com";
    const id = await spool("arf-complaint", {
      recipient: rcpt,
      returnPath: verp(rcpt, "newsletter"),
      rcpt: "fbl@fbl.example.net",
    });
    const out = await processMail(deps(), id);
    expect(out).toMatchObject({ status: "processed", kind: "complaint", tenant: "acme", suppressed: 1 });
    expect(await getSuppressions(t.db, "acme", testHash(rcpt))).toMatchObject([
      { stream: "newsletter", source: "complaint", class: "complaint", reason: "feedback" },
    ]);
    expect((await mailEvents(t.db, id))[0]).toMatchObject({ verified: true, feedback_type: "abuse" });
    expect(await outboxOf(rcpt)).toEqual(["suppression.added", "complaint"]);
  });

  it("records an authentication failure report with its DKIM/SPF/DMARC details and never suppresses, whatever the mode", async () => {
    for (const [i, policy] of [
      DEFAULT_POLICY,
      parsePolicy({ verification: { mode: "plain", allowUnverified: true } }),
    ].entries()) {
      const rcpt = `spoofed-${i}@example.com`;
      const id = await spool("arf-auth-failure", {
        recipient: rcpt,
        returnPath: verp(rcpt, "newsletter"),
        rcpt: "fbl@fbl.example.net",
      });
      const out = await processMail(deps(policy), id);
      expect(out).toMatchObject({ status: "processed", kind: "complaint", suppressed: 0 });
      expect((await mailEvents(t.db, id))[0]).toMatchObject({
        verified: true,
        feedback_type: "auth-failure",
        permanent: null,
        decision: {
          action: "record",
          rule: "policy.auth-failure",
          authentication: {
            "auth-failure": "signature",
            "dkim-domain": "sender.example",
            "dkim-selector": "s2026",
            dkim: "fail",
            spf: "pass",
            "source-ip": "198.51.100.7",
          },
        },
      });
      expect(await getSuppressions(t.db, "acme", testHash(rcpt))).toEqual([]);
      expect(await outboxOf(rcpt)).toEqual([]);
    }
  });

  it("suppresses a complaint in every stream when the policy says so", async () => {
    const rcpt = "complainer-all@example.com";
    const id = await spool("arf-complaint", {
      recipient: rcpt,
      returnPath: verp(rcpt, "newsletter"),
      rcpt: "fbl@fbl.example.net",
    });
    await processMail(deps(parsePolicy({ complaint: { scope: "all" } })), id);
    expect(await getSuppressions(t.db, "acme", testHash(rcpt))).toMatchObject([
      { stream: "*", source: "complaint" },
    ]);
  });

  it("escalates soft bounces on 3 distinct days to a temporary suppression", async () => {
    const rcpt = "full@example.com";
    const results = [];
    for (const at of [day(0), day(0, 3), day(2), day(4)]) {
      clock = at;
      const id = await spool("dsn-soft-mailboxfull", { recipient: rcpt, returnPath: verp(rcpt), at });
      results.push(await processMail(deps(), id));
    }
    clock = T0;
    expect(results.map((r) => (r.status === "processed" ? r.suppressed : -1))).toEqual([0, 0, 0, 1]);
    const [s] = await getSuppressions(t.db, "acme", testHash(rcpt));
    expect(s).toMatchObject({
      source: "soft_escalation",
      reason: "mailboxfull",
      class: "soft",
      expires_at: day(4 + 14),
    });
    expect(s!.rule).toMatch(/^policy\.soft\.mailboxfull\.escalate <- /);
    expect(
      await getAddressState(t.db, { tenant: "acme", stream: "marketing", addressHash: hashAddress(rcpt) }),
    ).toMatchObject({ softLevel: 1, softResetAt: day(4) });
    const types = await outboxOf(rcpt);
    expect(types.filter((x) => x === "bounce.soft")).toHaveLength(4);
    expect(types.filter((x) => x === "suppression.added")).toHaveLength(1);

    // Re-processing the escalating mail derives the same escalation: the soft state it set is rolled back
    // first (level 1, not 2), the suppression is kept, nothing is announced again.
    const last = results[3]!.mailId;
    expect(await processMail(deps(), last, { reprocess: true })).toMatchObject({ suppressed: 1 });
    expect(await getSuppressions(t.db, "acme", testHash(rcpt))).toMatchObject([
      { source: "soft_escalation", expires_at: day(18) },
    ]);
    expect(
      await getAddressState(t.db, { tenant: "acme", stream: "marketing", addressHash: hashAddress(rcpt) }),
    ).toMatchObject({ softLevel: 1, softResetAt: day(4) });
    expect(await outboxOf(rcpt)).toEqual(types);
  });

  it("resets soft counts on a reported delivery", async () => {
    const rcpt = "reset@example.com";
    const soft = async (at: Date) => {
      clock = at;
      const id = await spool("dsn-soft-mailboxfull", { recipient: rcpt, returnPath: verp(rcpt), at });
      return processMail(deps(), id);
    };
    await soft(day(0));
    await soft(day(1));
    const delivered = await recordDelivery(
      { db: t.db, policy: DEFAULT_POLICY, hashAddress: testHash, now: () => day(1, 6) },
      { tenant: "acme", stream: "marketing", address: "Reset@Example.com", occurredAt: day(1, 6) },
    );
    expect(delivered.decision).toMatchObject({ action: "reset", rule: "policy.delivered" });
    await soft(day(2));
    const last = await soft(day(3));
    clock = T0;
    expect(last).toMatchObject({ suppressed: 0 });
    expect(await getSuppressions(t.db, "acme", testHash(rcpt))).toEqual([]);
    expect(
      await getAddressState(t.db, { tenant: "acme", stream: "marketing", addressHash: hashAddress(rcpt) }),
    ).toMatchObject({ softLevel: 0, lastDeliveryAt: day(1, 6) });
  });

  it("counts a block per stream and provider and suppresses nothing", async () => {
    const rcpt = "blocked@gmail.com";
    const id = await spool("dsn-block-spamhaus", {
      recipient: rcpt,
      returnPath: verp(rcpt, "transactional"),
    });
    const out = await processMail(deps(), id);
    expect(out).toMatchObject({
      status: "processed",
      suppressed: 0,
      blocks: [{ tenant: "acme", stream: "transactional", provider: "google" }],
    });
    expect((await mailEvents(t.db, id))[0]).toMatchObject({
      class: "block",
      decision: { action: "count", count: { provider: "google" } },
      // The returned original's From: the domain the blocklist and authentication rules scope by.
      sending_domain: "sender.example",
    });
    expect(await getSuppressions(t.db, "acme", testHash(rcpt))).toEqual([]);
    expect(await outboxOf(rcpt)).toEqual(["bounce.block"]);
    expect(await blockCounts(t.db, { tenant: "acme", since: T0 })).toEqual([
      {
        tenant: "acme",
        stream: "transactional",
        provider: "google",
        reason: out.status === "processed" ? out.blocks[0]!.reason : "",
        count: 1,
      },
    ]);
  });

  it("records an auto-reply and does nothing else", async () => {
    const rcpt = "away@example.com";
    const id = await spool("autoreply", { recipient: rcpt, returnPath: verp(rcpt) });
    expect(await processMail(deps(), id)).toMatchObject({ kind: "auto_reply", events: 1, suppressed: 0 });
    expect((await mailEvents(t.db, id))[0]).toMatchObject({
      class: "auto_reply",
      decision: { action: "record" },
    });
    expect(await getSuppressions(t.db, "acme", testHash(rcpt))).toEqual([]);
    expect(await outboxOf(rcpt)).toEqual([]);
  });

  it("identifies the recipient from the signature alone when the mail says nothing useful", async () => {
    const rcpt = "silent@example.com";
    const id = await spool("unreadable-bounce", { recipient: rcpt, returnPath: verp(rcpt) });
    expect(await processMail(deps(), id)).toMatchObject({ events: 1, suppressed: 0 });
    expect((await mailEvents(t.db, id))[0]).toMatchObject({
      address: rcpt,
      verified: true,
      class: "undetermined",
      rule: "verp.recipient",
    });
  });

  it("verifies a long address through the hashed return path and the recipient the bounce names", async () => {
    const rcpt = "a.rather.long.local.part.for.this.test@subdomain.long-example-domain.org";
    const rp = verp(rcpt);
    expect(rp.startsWith("h=")).toBe(true);
    const id = await spool("dsn-hard", { recipient: rcpt, returnPath: rp });
    expect(await processMail(deps(), id)).toMatchObject({ suppressed: 1 });
    expect((await mailEvents(t.db, id))[0]).toMatchObject({ verified: true, verp_key_id: "k1" });
  });

  it("keeps a mail that failed with its error, and processes it when re-processed", async () => {
    const rcpt = "failed@example.com";
    const id = await spool("dsn-hard", { recipient: rcpt, returnPath: verp(rcpt) });
    await markFailed({ db: t.db, logger: createLogger("silent") }, id, new Error("database went away"));
    expect(await getMail(t.db, id)).toMatchObject({ status: "failed", error: "database went away" });
    expect(await processMail(deps(), id, { reprocess: true })).toMatchObject({
      status: "processed",
      suppressed: 1,
    });
    expect(await getMail(t.db, id)).toMatchObject({ status: "processed", error: null });
  });

  it("throws on a transient database error so the queue retries, leaving the mail pending", async () => {
    const rcpt = "transient@example.com";
    const id = await spool("dsn-hard", { recipient: rcpt, returnPath: verp(rcpt) });
    const broken = await createTestDb();
    await broken.drop(); // a closed pool: every query fails
    await expect(processMail({ ...deps(), db: broken.db }, id)).rejects.toThrow();
    expect(await getMail(t.db, id)).toMatchObject({ status: "pending" });
  });

  it("reports a missing mail without throwing", async () => {
    expect(await processMail(deps(), "no-such-mail")).toEqual({ status: "missing", mailId: "no-such-mail" });
  });
});

describe("processing mails in a batch", () => {
  it("gives every mail of a batch the outcome it would get alone, and marks them all in one transaction", async () => {
    const [hard, soft, fbl] = ["b-hard@example.com", "b-soft@example.com", "b-fbl@example.com"];
    const raw = fixture("dsn-hard", { recipient: hard, returnPath: verp(hard) });
    const a = await spool("dsn-hard", { recipient: hard, returnPath: verp(hard), raw });
    const twin = await spool("dsn-hard", { recipient: hard, returnPath: verp(hard), raw });
    const b = await spool("dsn-soft-mailboxfull", { recipient: soft, returnPath: verp(soft) });
    const c = await spool("arf-complaint", {
      recipient: fbl,
      returnPath: verp(fbl),
      rcpt: "fbl@fbl.example.net",
    });
    const done = await spool("autoreply", { recipient: "b-auto@example.com", returnPath: verp("x@y.z") });
    await processMail(deps(), done);
    const missing = randomUUID();

    const outs = await processMails(deps(), [a, twin, b, c, done, missing]);
    expect(outs.map((o) => o.status)).toEqual([
      "processed",
      "duplicate",
      "processed",
      "processed",
      "already_processed",
      "missing",
    ]);
    expect(outs[0]).toMatchObject({ mailId: a, kind: "bounce", suppressed: 1, events: 1 });
    expect(outs[1]).toEqual({ status: "duplicate", mailId: twin, duplicateOf: a });
    expect(outs[2]).toMatchObject({ mailId: b, kind: "bounce", suppressed: 0, events: 1 });
    expect(outs[3]).toMatchObject({ mailId: c, kind: "complaint", suppressed: 1 });
    expect(await getSuppressions(t.db, "acme", testHash(hard))).toMatchObject([{ reason: "userunknown" }]);
    expect(await getSuppressions(t.db, "acme", testHash(fbl))).toMatchObject([{ class: "complaint" }]);
    expect(await getSuppressions(t.db, "acme", testHash(soft))).toEqual([]);
    for (const [id, kind] of [
      [a, "bounce"],
      [b, "bounce"],
      [c, "complaint"],
    ] as const)
      expect(await getMail(t.db, id)).toMatchObject({
        status: "processed",
        kind,
        tenant: "acme",
        classifier_version: expect.any(String),
        error: null,
        processed_at: clock,
      });
    expect(await getMail(t.db, twin)).toMatchObject({ status: "duplicate", duplicate_of: a });
    expect(await mailEvents(t.db, twin)).toEqual([]);
  });

  it("decides the soft bounces and deliveries of a batch as it would one mail after the other: the same events, decisions, states, suppressions and announcements", async () => {
    // The same mails into two fresh databases: all in one batch, and one by one in the same order.
    const script: [Fixture, string, Date][] = [
      ["dsn-soft-mailboxfull", "eq-a@example.com", day(0)],
      ["dsn-soft-mailboxfull", "eq-b@example.com", day(0)],
      ["dsn-soft-mailboxfull", "eq-a@example.com", day(0, 3)],
      ["dsn-delivered", "eq-b@example.com", day(1)],
      ["dsn-soft-mailboxfull", "eq-a@example.com", day(2)],
      ["dsn-soft-mailboxfull", "eq-c@example.com", day(2)],
      ["dsn-soft-mailboxfull", "eq-b@example.com", day(2)],
      ["dsn-soft-mailboxfull", "eq-a@example.com", day(4)], // a escalates (3 distinct days)
      ["dsn-hard", "eq-c@example.com", day(3)],
      ["dsn-soft-mailboxfull", "eq-b@example.com", day(3)],
      ["dsn-soft-mailboxfull", "eq-a@example.com", day(5)],
      ["dsn-soft-mailboxfull", "eq-b@example.com", day(4)], // b: 3 days since its delivery reset
      ["dsn-delivered", "eq-a@example.com", day(6)],
      ["dsn-soft-mailboxfull", "eq-a@example.com", day(7)],
    ];
    const run = async (batch: boolean) => {
      const db = await createTestDb();
      await subscribeToAll(db.db, "acme");
      try {
        const ids: string[] = [];
        for (const [name, rcpt, at] of script)
          ids.push(await spool(name, { recipient: rcpt, returnPath: verp(rcpt), at, db: db.db }));
        const d = { ...deps(), db: db.db };
        const outcomes = batch ? await processMails(d, ids) : [];
        if (!batch) for (const id of ids) outcomes.push(await processMail(d, id));
        const events = await db.db
          .selectFrom("events")
          .select(["mail_id", "address", "class", "reason", "decision", "occurred_at"])
          .orderBy("address")
          .orderBy("id")
          .execute();
        const states = await db.db
          .selectFrom("address_state")
          .select([
            "address_hash",
            "soft_level",
            "soft_reset_at",
            "next_retry_at",
            "last_delivery_at",
            "updated_at",
          ])
          .orderBy("address_hash")
          .execute();
        const suppressions = (
          await db.db.selectFrom("suppressions").selectAll().orderBy("address").orderBy("stream").execute()
        ).map((r) => ({
          address: r.address,
          stream: r.stream,
          reason: r.reason,
          class: r.class,
          source: r.source,
          rule: r.rule,
          expires_at: r.expires_at,
          count: r.count,
          events: r.event_ids.length,
        }));
        // Announcements: in order for each address (the batch writes those of hard bounces first).
        const outbox = (await db.db.selectFrom("outbox").selectAll().orderBy("id").execute()).map((r) => {
          // Ids differ between the runs (the batch writes the events of hard bounces first): left out.
          const {
            eventId: _e,
            eventIds: _es,
            id: _i,
            mailId,
            ...payload
          } = r.payload as Record<string, unknown>;
          return {
            type: r.type,
            payload: { ...payload, mail: ids.indexOf(String(mailId)) } as Record<string, unknown>,
          };
        });
        const byAddress = (xs: typeof outbox) =>
          [...new Set(xs.map((x) => String(x.payload.address ?? x.payload.recipient)))]
            .sort()
            .map((a) =>
              xs
                .filter((x) => (x.payload.address ?? x.payload.recipient) === a)
                .sort((x, y) => Number(x.payload.mail) - Number(y.payload.mail)),
            );
        return {
          outcomes: outcomes.map((o) => (o.status === "processed" ? { ...o, mailId: undefined } : o.status)),
          events: events
            .map((e) => ({ ...e, mail_id: ids.indexOf(e.mail_id!) }))
            .sort((x, y) =>
              x.address === y.address ? x.mail_id - y.mail_id : x.address < y.address ? -1 : 1,
            ),
          states,
          suppressions,
          outbox: byAddress(outbox),
        };
      } finally {
        await db.drop();
      }
    };
    const batched = await run(true);
    const alone = await run(false);
    expect(batched).toEqual(alone);
    // And the script did what it says: a escalated, b escalated after its reset, c was suppressed hard.
    expect(batched.suppressions.map((s) => [s.address, s.source])).toEqual([
      ["eq-a@example.com", "soft_escalation"],
      ["eq-b@example.com", "soft_escalation"],
      ["eq-c@example.com", "bounce"],
    ]);
    expect(batched.events.filter((e) => e.class === "delivered")).toHaveLength(2);
  });

  it("merges the hard bounces of one address in several mails of a batch into one suppression, and into one that existed", async () => {
    const twice = "b-twice@example.com";
    const known = "b-known@example.com";
    await upsertSuppression(
      t.db,
      withHash({
        tenant: "acme",
        stream: "marketing",
        address: known,
        reason: "userunknown",
        class: "hard",
        source: "manual",
        note: "added by hand",
        at: day(-1),
      }),
    );
    const ids = [
      await spool("dsn-hard", { recipient: twice, returnPath: verp(twice) }),
      await spool("dsn-hard", { recipient: known, returnPath: verp(known) }),
      await spool("dsn-hard", { recipient: twice, returnPath: verp(twice) }),
      await spool("dsn-block-spamhaus", { recipient: twice, returnPath: verp(twice) }),
    ];
    const outs = await processMails(deps(), ids);
    expect(outs.map((o) => (o.status === "processed" ? [o.events, o.suppressed] : o.status))).toEqual([
      [1, 1],
      [1, 1],
      [1, 1],
      [1, 0],
    ]);
    expect(outs[3]).toMatchObject({ blocks: [{ tenant: "acme", stream: "marketing", reason: "blocked" }] });
    const [s] = await getSuppressions(t.db, "acme", testHash(twice));
    expect(s).toMatchObject({ count: 2, source: "bounce", reason: "userunknown" });
    const events = await t.db
      .selectFrom("events")
      .select(["id", "mail_id"])
      .where("address", "=", twice)
      .where("class", "=", "hard")
      .orderBy("id")
      .execute();
    expect(events.map((e) => e.mail_id)).toEqual([ids[0], ids[2]]);
    expect([...s!.event_ids].map(String).sort()).toEqual(events.map((e) => e.id).sort());
    expect(await outboxOf(twice)).toEqual([
      "suppression.added",
      "bounce.hard",
      "bounce.hard",
      "bounce.block",
    ]);

    const [k] = await getSuppressions(t.db, "acme", testHash(known));
    expect(k).toMatchObject({ count: 2, source: "manual", note: "added by hand" });
    expect(await outboxOf(known)).toEqual(["suppression.added", "bounce.hard"]);
  });

  it("commits nothing of a batch when one of its mails fails", async () => {
    const good = "batch-good@example.com";
    const bad = "batch-poison@example.com";
    const g = await spool("dsn-hard", { recipient: good, returnPath: verp(good) });
    const p = await spool("dsn-hard", { recipient: bad, returnPath: verp(bad) });
    // A real failure inside the transaction: the database refuses the poisoned address's event.
    await withPoisonedAddress(t.db, bad, async () => {
      await expect(processMails(deps(), [g, p])).rejects.toThrow(/poisoned event/);
      expect(await getMail(t.db, g)).toMatchObject({ status: "pending" });
      expect(await mailEvents(t.db, g)).toEqual([]);
      expect(await getSuppressions(t.db, "acme", testHash(good))).toEqual([]);
      expect(await processMail(deps(), g)).toMatchObject({ status: "processed", suppressed: 1 });
    });
  });
});

describe("processing one mail on the embedded database (PGlite)", () => {
  it("suppresses a verified hard bounce, marks a duplicate and escalates a batch of soft bounces, as on PostgreSQL", async () => {
    const e = await createEmbeddedTestDb();
    try {
      const d: ProcessDeps = {
        db: e.db,
        config,
        policy: DEFAULT_POLICY,
        hashAddress: testHash,
        logger: createLogger("silent"),
        now: () => T0,
        classifier: testClassifier(),
      };
      const rcpt = "embedded@example.com";
      const raw = fixture("dsn-hard", { recipient: rcpt, returnPath: verp(rcpt) });
      const ids = [randomUUID(), randomUUID()];
      for (const id of ids)
        await insertMail(e.db, {
          id,
          mailFrom: "",
          rcptTo: [verp(rcpt)],
          raw,
          sha256: sha256(raw),
          receivedAt: T0,
        });
      expect(await processMail(d, ids[0]!)).toMatchObject({ status: "processed", suppressed: 1 });
      expect(await processMail(d, ids[1]!)).toMatchObject({ status: "duplicate", duplicateOf: ids[0] });
      expect(await getSuppressions(e.db, "acme", testHash(rcpt))).toMatchObject([
        { stream: "marketing", source: "bounce" },
      ]);

      // Soft bounces of one address on three days, in one batch: decided one after the other, escalated once.
      const soft = "embedded-soft@example.com";
      const softIds: string[] = [];
      for (const at of [day(0), day(2), day(4)])
        softIds.push(
          await spool("dsn-soft-mailboxfull", { recipient: soft, returnPath: verp(soft), at, db: e.db }),
        );
      const outs = await processMails(d, softIds);
      expect(outs.map((o) => (o.status === "processed" ? o.suppressed : -1))).toEqual([0, 0, 1]);
      expect(await getSuppressions(e.db, "acme", testHash(soft))).toMatchObject([
        { source: "soft_escalation", expires_at: day(18) },
      ]);
    } finally {
      await e.drop();
    }
  });
});
