import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testHash as hashAddress } from "../helpers/db.js";
import { getAddressState, lockHistory, saveAddressState } from "../../src/store/address-state.js";
import {
  deleteMailEvents,
  insertEvent,
  listEvents,
  softBounceTimesOf,
  type NewEvent,
} from "../../src/store/events.js";
import { emitOutbox, markOutboxDispatched, pendingOutbox } from "../../src/store/outbox.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { subscribeToAll } from "../helpers/webhooks.js";

const T0 = new Date("2026-03-02T10:00:00Z");
const day = (n: number) => new Date(T0.getTime() + n * 86_400_000);

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
  await subscribeToAll(t.db, "acme");
});
afterAll(async () => t?.drop());

const soft = (address: string, at: Date, o: Partial<NewEvent> = {}): NewEvent => ({
  mailId: null,
  source: "test",
  tenant: "acme",
  stream: "marketing",
  address,
  addressHash: hashAddress(address),
  addressOriginal: address,
  recipientDomain: "example.com",
  kind: "bounce",
  reason: "mailboxfull",
  class: "soft",
  verified: true,
  decision: { action: "retry", rule: "policy.soft.mailboxfull" },
  occurredAt: at,
  ...o,
});

describe("events and the soft-bounce history", () => {
  it("loads the soft bounces the policy acted on since the reset, within the look-back, with the stored state", async () => {
    const addr = "history@example.com";
    const key = { tenant: "acme", stream: "marketing", addressHash: hashAddress(addr) };
    await insertEvent(t.db, soft(addr, day(-20)));
    await insertEvent(t.db, soft(addr, day(-3)));
    await insertEvent(
      t.db,
      soft(addr, day(-2), { decision: { action: "record", rule: "policy.unverified" }, verified: false }),
    );
    await insertEvent(t.db, soft(addr, day(-1)));
    await insertEvent(t.db, soft(addr, day(-1), { stream: "transactional" }));
    await insertEvent(
      t.db,
      soft(addr, day(-1), { class: "hard", reason: "userunknown", decision: { action: "suppress" } }),
    );
    const h = await t.db.transaction().execute((trx) => lockHistory(trx, key, T0, 10));
    expect(h).toEqual({
      softLevel: 0,
      softResetAt: null,
      nextRetryAt: null,
      lastDeliveryAt: null,
      softBounces: [day(-3), day(-1)],
    });

    await saveAddressState(
      t.db,
      key,
      { softLevel: 1, softResetAt: day(-2), nextRetryAt: day(12), lastDeliveryAt: null },
      T0,
    );
    expect(await getAddressState(t.db, key)).toEqual({
      softLevel: 1,
      softResetAt: day(-2),
      nextRetryAt: day(12),
      lastDeliveryAt: null,
    });
    const after = await t.db.transaction().execute((trx) => lockHistory(trx, key, T0, 10));
    expect(after.softBounces).toEqual([day(-1)]);
  });

  it("keeps one event per mail, address and stream, and deletes a mail's events for re-processing", async () => {
    const mailId = "mail-events-1";
    await t.db
      .insertInto("inbound_mails")
      .values({
        id: mailId,
        mail_from: "",
        rcpt_to: ["x@b.example"],
        size: 1,
        sha256: "x",
        raw: Buffer.from("x"),
      })
      .execute();
    const a = await insertEvent(t.db, soft("uniq@example.com", T0, { mailId }));
    const b = await insertEvent(t.db, soft("uniq@example.com", T0, { mailId }));
    const c = await insertEvent(t.db, soft("uniq@example.com", T0, { mailId, stream: "other" }));
    expect(a).not.toBeNull();
    expect(b).toBeNull();
    expect(c).not.toBeNull();
    expect((await deleteMailEvents(t.db, mailId)).map((e) => e.id)).toEqual([a, c]);
    const key = { tenant: "acme", stream: "marketing", addressHash: hashAddress("uniq@example.com") };
    expect(await softBounceTimesOf(t.db, [{ ...key, since: day(-1) }])).toEqual(new Map());
  });

  it("lists an address's events newest first, by tenant only", async () => {
    const addr = "list@example.com";
    await insertEvent(t.db, soft(addr, day(-2)));
    await insertEvent(t.db, soft(addr, day(-1)));
    await insertEvent(t.db, soft(addr, day(-1), { tenant: "other" }));
    const rows = await listEvents(t.db, { tenant: "acme", addressHash: hashAddress(addr) });
    expect(rows.map((r) => r.occurred_at)).toEqual([day(-1), day(-2)]);
  });
});

describe("the outbox", () => {
  it("hands out undispatched rows in order and forgets dispatched ones", async () => {
    await emitOutbox(t.db, { tenant: "acme", type: "bounce.hard", payload: { address: "o1@example.com" } });
    await emitOutbox(t.db, { tenant: "acme", type: "complaint", payload: { address: "o2@example.com" } });
    const rows = await pendingOutbox(t.db);
    expect(rows.map((r) => [r.type, r.payload.address])).toEqual([
      ["bounce.hard", "o1@example.com"],
      ["complaint", "o2@example.com"],
    ]);
    await markOutboxDispatched(t.db, [rows[0]!.id], T0);
    expect((await pendingOutbox(t.db)).map((r) => r.type)).toEqual(["complaint"]);
  });
});
