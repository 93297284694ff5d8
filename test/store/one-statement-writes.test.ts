import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testHash as hashAddress } from "../helpers/db.js";
import { insertEvents, insertEventWithOutbox, mailEvents, type NewEvent } from "../../src/store/events.js";
import { getMail, insertMail, insertMails } from "../../src/store/mails.js";
import { pendingOutbox } from "../../src/store/outbox.js";
import {
  deferred,
  insertSuppressionRows,
  noteCreated,
  upsertSuppression,
  writeDeferred,
} from "../../src/store/suppressions.js";
import { createTestDb, type TestDb, withHash } from "../helpers/db.js";
import { subscribeToAll } from "../helpers/webhooks.js";

const T0 = new Date("2026-03-02T10:00:00Z");

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
  await subscribeToAll(t.db, "acme");
});
afterAll(async () => t?.drop());

const event = (mailId: string, address: string): NewEvent => ({
  mailId,
  tenant: "acme",
  stream: "marketing",
  address,
  addressHash: hashAddress(address),
  addressOriginal: address,
  recipientDomain: "example.com",
  kind: "bounce",
  reason: "blocklisted",
  class: "block",
  verified: true,
  occurredAt: T0,
});

/** A spooled mail for events to point at. */
const spoolMail = (id: string, sha256: string) =>
  insertMail(t.db, { id, mailFrom: "", rcptTo: ["b@x"], raw: Buffer.from("x"), sha256 });

const outboxOf = async (address: string) =>
  (await pendingOutbox(t.db, 10_000)).filter((o) => o.payload.address === address);

describe("writes that take one statement", () => {
  it("stores an event with its announcement, the payload naming the event, and neither twice", async () => {
    const mailId = "m-one-statement-1";
    await spoolMail(mailId, "s1");
    const ann = {
      tenant: "acme",
      type: "bounce.block" as const,
      payload: { mailId, address: "a@example.com", class: "block" },
    };
    const id = await insertEventWithOutbox(t.db, event(mailId, "a@example.com"), ann);
    expect(id).not.toBeNull();
    const again = await insertEventWithOutbox(t.db, event(mailId, "a@example.com"), ann);
    expect(again).toBeNull();
    expect((await mailEvents(t.db, mailId)).map((e) => e.id)).toEqual([id]);
    const rows = await outboxOf("a@example.com");
    expect(rows.map((o) => [o.type, o.payload.eventId, o.payload.mailId])).toEqual([
      ["bounce.block", id, mailId],
    ]);
  });

  it("announces a new suppression before the announcement it is given, and that one also on a merge", async () => {
    const base = {
      tenant: "acme",
      stream: "marketing",
      address: "b@example.com",
      reason: "user_unknown",
      class: "hard",
      source: "bounce" as const,
      at: T0,
    };
    const then = (n: number) => ({
      tenant: "acme",
      type: "bounce.hard" as const,
      payload: { address: "b@example.com", n },
    });
    const first = await upsertSuppression(t.db, withHash({ ...base, eventIds: ["1"] }), { then: then(1) });
    const second = await upsertSuppression(t.db, withHash({ ...base, eventIds: ["2"] }), { then: then(2) });
    expect([first.created, second.created]).toEqual([true, false]);
    const rows = await outboxOf("b@example.com");
    expect(rows.map((o) => [o.type, o.payload.n ?? o.payload.id])).toEqual([
      ["suppression.added", first.id],
      ["bounce.hard", 1],
      ["bounce.hard", 2],
    ]);
    const log = await t.db
      .selectFrom("suppression_log")
      .select("action")
      .where("address", "=", "b@example.com")
      .orderBy("id")
      .execute();
    expect(log.map((l) => l.action)).toEqual(["added", "updated"]);
  });
});

describe("writes of many rows in one statement", () => {
  it("stores a batch of mails with every column, in one INSERT whatever its size", async () => {
    const at = new Date("2026-03-02T10:00:00.123Z");
    const mails = [1, 2, 3].map((i) => ({
      id: `m-many-${i}`,
      mailFrom: i === 1 ? "" : `from${i}@example.org`,
      rcptTo: [`r${i}@bounces.example`, `s${i}@bounces.example`],
      remoteIp: i === 2 ? null : "192.0.2.1",
      helo: i === 3 ? null : "mx.example.org",
      raw: Buffer.from(`raw ${i}\r\n\u00e9\u0000`),
      sha256: `sha-many-${i}`,
      receivedAt: at,
      enqueuedAt: i === 1 ? null : at,
    }));
    await insertMails(t.db, mails);
    await insertMails(t.db, [{ ...mails[0]!, id: "m-many-4" }]);
    for (const m of [...mails, { ...mails[0]!, id: "m-many-4" }]) {
      const row = await getMail(t.db, m.id);
      expect(row).toMatchObject({
        mail_from: m.mailFrom,
        rcpt_to: m.rcptTo,
        remote_ip: m.remoteIp,
        helo: m.helo,
        size: m.raw.length,
        sha256: m.sha256,
        status: "pending",
        received_at: at,
        enqueued_at: m.enqueuedAt,
      });
      expect(Buffer.from(row!.raw!)).toEqual(m.raw);
    }
  });

  it("stores events with every column, ids in list order, and none twice for a mail, address and stream", async () => {
    const mailId = "m-many-events";
    await spoolMail(mailId, "s-me");
    const full: NewEvent = {
      ...event(mailId, "c@example.com"),
      source: "mail",
      status: "5.7.1",
      smtpCode: 554,
      action: "failed",
      diagnostic: 'smtp; 554 "quoted" \\ back\u00e9',
      remoteMta: "mx.example.com",
      reportingMta: "mta.example.net",
      feedbackType: null,
      parser: "dsn",
      rule: "dsn.block",
      verpKeyId: "k1",
      classifierVersion: "v9",
      decision: { action: "suppress", nested: { at: "2026-03-02T10:00:00.000Z", n: 1 } },
    };
    const ids = await insertEvents(t.db, [
      full,
      event(mailId, "d@example.com"),
      event(mailId, "c@example.com"), // the same as the first: not written
      { ...event(mailId, "c@example.com"), stream: "other" },
    ]);
    expect(ids[2]).toBeNull();
    const written = ids.filter((id): id is string => id !== null);
    expect(written.map(BigInt)).toEqual([...written.map(BigInt)].sort((a, b) => (a < b ? -1 : 1)));
    const rows = await mailEvents(t.db, mailId);
    expect(rows.map((r) => [r.id, r.address, r.stream])).toEqual([
      [ids[0], "c@example.com", "marketing"],
      [ids[1], "d@example.com", "marketing"],
      [ids[3], "c@example.com", "other"],
    ]);
    expect(rows[0]).toMatchObject({
      source: "mail",
      tenant: "acme",
      address_hash: hashAddress("c@example.com"),
      address_original: "c@example.com",
      recipient_domain: "example.com",
      kind: "bounce",
      reason: "blocklisted",
      class: "block",
      status: "5.7.1",
      smtp_code: 554,
      action: "failed",
      diagnostic: 'smtp; 554 "quoted" \\ back\u00e9',
      remote_mta: "mx.example.com",
      reporting_mta: "mta.example.net",
      feedback_type: null,
      parser: "dsn",
      rule: "dsn.block",
      verified: true,
      verp_key_id: "k1",
      classifier_version: "v9",
      decision: { action: "suppress", nested: { at: "2026-03-02T10:00:00.000Z", n: 1 } },
      occurred_at: T0,
    });
    expect(rows[1]).toMatchObject({ status: null, smtp_code: null, decision: null, source: "mail" });
    expect(await insertEvents(t.db, [full])).toEqual([null]);
  });

  it("makes the new suppressions of a batch, then their log lines and announcements in order", async () => {
    const s = (address: string, eventIds: string[]) => ({
      tenant: "acme",
      stream: "*",
      address,
      addressHash: hashAddress(address),
      reason: "user_unknown",
      class: "hard",
      source: "bounce" as const,
      rule: "policy.hard",
      eventIds,
      expiresAt: address.startsWith("t") ? new Date("2026-04-01T00:00:00Z") : null,
      actor: "rebound",
      at: T0,
    });
    const existing = await upsertSuppression(t.db, s("e@example.com", ["7"]));
    const inputs = [
      s("n1@example.com", ["11", "12"]),
      s("e@example.com", ["8"]),
      s("t2@example.com", ["13"]),
    ];
    const made = await insertSuppressionRows(t.db, inputs);
    expect(made[1]).toBeNull();
    expect(made[0]).not.toBeNull();
    expect(BigInt(made[2]!)).toBeGreaterThan(BigInt(made[0]!));
    const rows = await t.db
      .selectFrom("suppressions")
      .selectAll()
      .where("id", "in", [made[0]!, made[2]!, existing.id])
      .orderBy("id")
      .execute();
    expect(rows.map((r) => [r.address, r.event_ids.map(String), r.count, r.expires_at])).toEqual([
      ["e@example.com", ["7"], 1, null],
      ["n1@example.com", ["11", "12"], 1, null],
      ["t2@example.com", ["13"], 1, new Date("2026-04-01T00:00:00Z")],
    ]);
    expect(rows[1]).toMatchObject({
      tenant: "acme",
      stream: "*",
      address_hash: hashAddress("n1@example.com"),
      address_original: "n1@example.com",
      reason: "user_unknown",
      class: "hard",
      source: "bounce",
      rule: "policy.hard",
      first_seen: T0,
      last_seen: T0,
      note: null,
      created_by: "rebound",
      created_at: T0,
      updated_at: T0,
    });

    const out = deferred();
    const then = (n: number) => ({
      tenant: "acme",
      type: "bounce.hard" as const,
      payload: { batch: "many", n },
    });
    noteCreated(out, made[0]!, inputs[0]!, then(1));
    out.announce.push(then(2));
    noteCreated(out, made[2]!, inputs[2]!, then(3));
    await writeDeferred(t.db, out);
    const announced = (await pendingOutbox(t.db, 10_000)).filter(
      (o) =>
        o.payload.batch === "many" ||
        ["n1@example.com", "t2@example.com"].includes(o.payload.address as string),
    );
    expect(announced.map((o) => [o.type, o.payload.n ?? o.payload.address])).toEqual([
      ["suppression.added", "n1@example.com"],
      ["bounce.hard", 1],
      ["bounce.hard", 2],
      ["suppression.added", "t2@example.com"],
      ["bounce.hard", 3],
    ]);
    expect(announced[0]!.payload).toMatchObject({ id: made[0], eventIds: ["11", "12"], expiresAt: null });
    const log = await t.db
      .selectFrom("suppression_log")
      .select(["address", "action", "event_ids", "at", "actor"])
      .where("address", "in", ["n1@example.com", "t2@example.com"])
      .orderBy("id")
      .execute();
    expect(log.map((l) => [l.address, l.action, l.event_ids.map(String), l.at, l.actor])).toEqual([
      ["n1@example.com", "added", ["11", "12"], T0, "rebound"],
      ["t2@example.com", "added", ["13"], T0, "rebound"],
    ]);
  });
});
