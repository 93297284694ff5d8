import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testHash } from "../helpers/db.js";
import type { KyselyPlugin } from "kysely";
import { testHash as hashAddress } from "../helpers/db.js";
import { insertEvent } from "../../src/store/events.js";
import { pendingOutbox } from "../../src/store/outbox.js";
import {
  expireSuppressions,
  explainSuppression,
  getSuppressions,
  removeSuppression,
  removeSuppressions,
  upsertSuppression,
} from "../../src/store/suppressions.js";
import { createTestDb, type TestDb, withHash } from "../helpers/db.js";
import { subscribeToAll } from "../helpers/webhooks.js";

const T0 = new Date("2026-03-02T10:00:00Z");
const later = (days: number) => new Date(T0.getTime() + days * 86_400_000);

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
  await subscribeToAll(t.db, "acme");
});
afterAll(async () => t?.drop());

const base = {
  tenant: "acme",
  stream: "marketing",
  reason: "userunknown",
  class: "hard",
  source: "bounce" as const,
  rule: "policy.hard <- dsn.status:5.1.1",
};

async function event(address: string, reason = "userunknown") {
  const id = await insertEvent(t.db, {
    mailId: null,
    source: "test",
    tenant: "acme",
    stream: "marketing",
    address,
    addressHash: hashAddress(address),
    addressOriginal: address,
    recipientDomain: address.split("@")[1]!,
    kind: "bounce",
    reason,
    class: "hard",
    rule: "dsn.status:5.1.1",
    parser: "dsn",
    verified: true,
    decision: { action: "suppress", rule: "policy.hard" },
    occurredAt: T0,
  });
  return id!;
}

describe("the suppression store", () => {
  it("creates a suppression once, then merges event ids and counts, and announces only the creation", async () => {
    const e1 = await event("merge@example.com");
    const e2 = await event("merge@example.com", "hostunknown");
    const a = await upsertSuppression(
      t.db,
      withHash({
        ...base,
        address: "merge@example.com",
        addressOriginal: "Merge@Example.com",
        eventIds: [e1],
        at: T0,
      }),
    );
    const b = await upsertSuppression(
      t.db,
      withHash({
        ...base,
        address: "merge@example.com",
        reason: "hostunknown",
        eventIds: [e2, e1],
        at: later(1),
      }),
    );
    expect(a.created).toBe(true);
    expect(b).toEqual({ id: a.id, created: false });
    const [row] = await getSuppressions(t.db, "acme", testHash("merge@example.com"));
    expect(row).toMatchObject({
      count: 2,
      event_ids: [e1, e2],
      first_seen: T0,
      last_seen: later(1),
      reason: "userunknown",
      address_original: "Merge@Example.com",
    });
    const outbox = (await pendingOutbox(t.db)).filter((o) => o.payload.address === "merge@example.com");
    expect(outbox.map((o) => o.type)).toEqual(["suppression.added"]);
    const log = await t.db
      .selectFrom("suppression_log")
      .select("action")
      .where("address", "=", "merge@example.com")
      .orderBy("id")
      .execute();
    expect(log.map((l) => l.action)).toEqual(["added", "updated"]);
  });

  it("lets a permanent suppression replace a temporary one, and not the other way round", async () => {
    const addr = "temp@example.com";
    await upsertSuppression(
      t.db,
      withHash({
        ...base,
        address: addr,
        reason: "mailboxfull",
        class: "soft",
        source: "soft_escalation",
        expiresAt: later(14),
        at: T0,
      }),
    );
    await upsertSuppression(t.db, withHash({ ...base, address: addr, at: later(1) }));
    let [row] = await getSuppressions(t.db, "acme", testHash(addr));
    expect(row).toMatchObject({ reason: "userunknown", source: "bounce", expires_at: null });
    await upsertSuppression(
      t.db,
      withHash({
        ...base,
        address: addr,
        reason: "mailboxfull",
        class: "soft",
        source: "soft_escalation",
        expiresAt: later(30),
        at: later(2),
      }),
    );
    [row] = await getSuppressions(t.db, "acme", testHash(addr));
    expect(row).toMatchObject({ reason: "userunknown", expires_at: null, count: 3 });
  });

  it("treats an expired suppression as gone: a new one is created again", async () => {
    const addr = "expired@example.com";
    await upsertSuppression(t.db, withHash({ ...base, address: addr, expiresAt: later(1), at: T0 }));
    const again = await upsertSuppression(
      t.db,
      withHash({
        ...base,
        address: addr,
        expiresAt: later(20),
        at: later(5),
      }),
    );
    expect(again.created).toBe(true);
    const [row] = await getSuppressions(t.db, "acme", testHash(addr));
    expect(row).toMatchObject({ count: 1, first_seen: later(5), expires_at: later(20) });
  });

  it("keeps tenants and streams apart", async () => {
    await upsertSuppression(
      t.db,
      withHash({ ...base, tenant: "other", address: "shared@example.com", at: T0 }),
    );
    await upsertSuppression(
      t.db,
      withHash({
        ...base,
        stream: "transactional",
        address: "shared@example.com",
        at: T0,
      }),
    );
    expect(
      (await getSuppressions(t.db, "acme", testHash("shared@example.com"))).map((r) => r.stream),
    ).toEqual(["transactional"]);
    expect(
      (await getSuppressions(t.db, "other", testHash("shared@example.com"))).map((r) => r.stream),
    ).toEqual(["marketing"]);
  });

  it("removes a suppression with who and why, and announces it", async () => {
    const addr = "remove@example.com";
    await upsertSuppression(t.db, withHash({ ...base, address: addr, at: T0 }));
    expect(
      await removeSuppression(
        t.db,
        withHash({
          tenant: "acme",
          stream: "marketing",
          address: addr,
          actor: "key:ops",
          note: "customer asked",
          at: later(1),
        }),
      ),
    ).toBe(true);
    expect(
      await removeSuppression(
        t.db,
        withHash({ tenant: "acme", stream: "marketing", address: addr, at: later(1) }),
      ),
    ).toBe(false);
    expect(await getSuppressions(t.db, "acme", testHash(addr))).toEqual([]);
    const log = await t.db
      .selectFrom("suppression_log")
      .selectAll()
      .where("address", "=", addr)
      .where("action", "=", "removed")
      .execute();
    expect(log).toMatchObject([{ actor: "key:ops", note: "customer asked", reason: "userunknown" }]);
    const out = (await pendingOutbox(t.db)).filter((o) => o.payload.address === addr).map((o) => o.type);
    expect(out).toEqual(["suppression.added", "suppression.removed"]);
  });

  it("removes an address from every stream in one statement of one transaction, logging and announcing each", async () => {
    const addr = "everywhere@example.com";
    for (const stream of ["marketing", "*", "billing"])
      await upsertSuppression(t.db, withHash({ ...base, stream, address: addr, at: T0 }));
    await upsertSuppression(t.db, withHash({ ...base, tenant: "other", address: addr, at: T0 }));
    // In a caller's transaction that rolls back, nothing is removed.
    await t.db
      .transaction()
      .execute(async (tx) => {
        expect(
          await removeSuppressions(tx, withHash({ tenant: "acme", address: addr, at: later(1) })),
        ).toHaveLength(3);
        throw new Error("roll back");
      })
      .catch(() => undefined);
    expect((await getSuppressions(t.db, "acme", testHash(addr))).map((r) => r.stream)).toEqual([
      "*",
      "billing",
      "marketing",
    ]);
    const removed = await removeSuppressions(
      t.db,
      withHash({
        tenant: "acme",
        address: addr,
        actor: "key:ops",
        note: "all of them",
        at: later(1),
      }),
    );
    expect(removed).toEqual(["*", "billing", "marketing"]);
    expect(await getSuppressions(t.db, "acme", testHash(addr))).toEqual([]);
    expect(await getSuppressions(t.db, "other", testHash(addr))).toHaveLength(1);
    const log = await t.db
      .selectFrom("suppression_log")
      .select(["stream", "actor", "note"])
      .where("address", "=", addr)
      .where("action", "=", "removed")
      .orderBy("stream")
      .execute();
    expect(log).toEqual(
      ["*", "billing", "marketing"].map((stream) => ({ stream, actor: "key:ops", note: "all of them" })),
    );
    const out = (await pendingOutbox(t.db))
      .filter((o) => o.payload.address === addr && o.type === "suppression.removed")
      .map((o) => o.payload.stream);
    expect(out.sort()).toEqual(["*", "billing", "marketing"]);
    expect(await removeSuppressions(t.db, withHash({ tenant: "acme", address: addr, at: later(2) }))).toEqual(
      [],
    );
  });

  it("explains an address's suppressions with their events, rules and log in one query", async () => {
    const addr = "explain@example.com";
    const e1 = await event(addr);
    await upsertSuppression(t.db, withHash({ ...base, address: addr, eventIds: [e1], at: T0 }));
    await upsertSuppression(
      t.db,
      withHash({
        ...base,
        stream: "*",
        source: "complaint",
        class: "complaint",
        reason: "feedback",
        rule: "policy.complaint.all",
        address: addr,
        at: T0,
      }),
    );
    let queries = 0;
    const counter: KyselyPlugin = {
      transformQuery: (a) => {
        queries++;
        return a.node;
      },
      transformResult: async (a) => a.result,
    };
    const explained = await explainSuppression(t.db.withPlugin(counter), "acme", testHash(addr), later(1));
    expect(queries).toBe(1);
    expect(explained.map((s) => s.stream)).toEqual(["*", "marketing"]);
    const m = explained[1]!;
    expect(m).toMatchObject({ rule: "policy.hard <- dsn.status:5.1.1", active: true, source: "bounce" });
    expect(m.events).toMatchObject([
      {
        id: e1,
        reason: "userunknown",
        rule: "dsn.status:5.1.1",
        parser: "dsn",
        verified: true,
        decision: { rule: "policy.hard" },
      },
    ]);
    expect(m.log.map((l) => l.action)).toEqual(["added"]);
    expect(await explainSuppression(t.db, "acme", testHash("nobody@example.com"))).toEqual([]);
  });

  it("deletes expired suppressions and logs them as expired", async () => {
    const addr = "sweep@example.com";
    await upsertSuppression(
      t.db,
      withHash({ ...base, tenant: "sweep", address: addr, expiresAt: later(1), at: T0 }),
    );
    expect(await expireSuppressions(t.db, later(2))).toBeGreaterThanOrEqual(1);
    expect(await getSuppressions(t.db, "sweep", testHash(addr))).toEqual([]);
    const log = await t.db
      .selectFrom("suppression_log")
      .select("action")
      .where("tenant", "=", "sweep")
      .orderBy("id")
      .execute();
    expect(log.map((l) => l.action)).toEqual(["added", "expired"]);
  });
});
