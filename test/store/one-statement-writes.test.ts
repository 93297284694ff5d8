import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashAddress } from "../../src/core/address.js";
import { insertEventWithOutbox, mailEvents, type NewEvent } from "../../src/store/events.js";
import { insertMail } from "../../src/store/mails.js";
import { pendingOutbox } from "../../src/store/outbox.js";
import { upsertSuppression } from "../../src/store/suppressions.js";
import { createTestDb, type TestDb } from "../helpers/db.js";

const T0 = new Date("2026-03-02T10:00:00Z");

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
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

const outboxOf = async (address: string) =>
  (await pendingOutbox(t.db, 10_000)).filter((o) => o.payload.address === address);

describe("writes that take one statement", () => {
  it("stores an event with its announcement, the payload naming the event, and neither twice", async () => {
    const mailId = "m-one-statement-1";
    await insertMail(t.db, {
      id: mailId,
      mailFrom: "",
      rcptTo: ["b@x"],
      raw: Buffer.from("x"),
      sha256: "s1",
    });
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
    const first = await upsertSuppression(t.db, { ...base, eventIds: ["1"] }, { then: then(1) });
    const second = await upsertSuppression(t.db, { ...base, eventIds: ["2"] }, { then: then(2) });
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
