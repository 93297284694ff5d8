import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import type { Db } from "../../src/store/db.js";
import { dispatchPending } from "../../src/webhooks/dispatcher.js";
import { verifySignature } from "../../src/webhooks/sign.js";
import { startWebhookWorker, type WebhookWorkerOptions } from "../../src/webhooks/worker.js";
import { createEmbeddedTestDb, createTestDb, type TestDb } from "../helpers/db.js";
import { deadUrl, startReceiver, waitFor, type Receiver, signedBy } from "./receiver.js";

const logger = createLogger("silent");
/** The receivers of these tests listen on loopback: an internal network, allowed as an operator would. */
const LOOPBACK_ALLOWED = ["127.0.0.0/8"];
const fast: Partial<WebhookWorkerOptions> = {
  allowedNetworks: LOOPBACK_ALLOWED,
  pollIntervalMs: 20,
  backoffBaseMs: 20,
  backoffMaxMs: 200,
  timeoutMs: 2_000,
};

let t: TestDb;
let n = 0;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => t?.drop());

async function addWebhook(
  db: Db,
  tenant: string,
  url: string,
  events: string[],
): Promise<{ id: string; secret: string }> {
  const id = `wh_test_${++n}`;
  const secret = `whsec_test_secret_${n}`;
  await db.insertInto("webhooks").values({ id, tenant, url, secret, events }).execute();
  return { id, secret };
}

async function emit(db: Db, tenant: string, type: string, payload: Record<string, unknown>): Promise<string> {
  const row = await db
    .insertInto("outbox")
    .values({ tenant, type, payload: JSON.stringify(payload) })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

async function deliveriesOf(db: Db, webhookId: string) {
  return db
    .selectFrom("webhook_deliveries")
    .selectAll()
    .where("webhook_id", "=", webhookId)
    .orderBy("id")
    .execute();
}

describe("webhook delivery without a queue (database poll)", () => {
  let receiver: Receiver | undefined;
  afterAll(async () => receiver?.close());

  it("signs each try so the receiver can verify it, and retries a failing endpoint until it recovers", async () => {
    receiver = await startReceiver((i) => (i <= 3 ? 500 : 200));
    const hook = await addWebhook(t.db, "acme", receiver.url, ["bounce.hard", "complaint"]);
    const outboxId = await emit(t.db, "acme", "bounce.hard", {
      address: "gone@example.com",
      stream: "marketing",
      reason: "userunknown",
    });
    const worker = startWebhookWorker({ db: t.db, logger }, { ...fast, maxAttempts: 6 });
    try {
      const [d] = await waitFor(async () => {
        const rows = await deliveriesOf(t.db, hook.id);
        return rows[0]?.status === "delivered" ? rows : undefined;
      }, "the delivery to succeed");
      expect(d).toMatchObject({
        status: "delivered",
        attempts: 4,
        last_status_code: 200,
        last_error: null,
        event_type: "bounce.hard",
      });
      expect(d?.delivered_at).toBeInstanceOf(Date);
    } finally {
      await worker.stop();
    }
    expect(receiver.received).toHaveLength(4);
    const ids = new Set<string>();
    for (const [i, r] of receiver.received.entries()) {
      const header = String(r.headers["rebound-signature"]);
      expect(verifySignature(hook.secret, header, r.body, Math.floor(Date.now() / 1000))).toMatchObject({
        ok: true,
      });
      expect(
        verifySignature("whsec_someone_else", header, r.body, Math.floor(Date.now() / 1000)),
      ).toMatchObject({ ok: false });
      expect(r.headers["rebound-event"]).toBe("bounce.hard");
      expect(r.headers["rebound-attempt"]).toBe(String(i + 1));
      expect(r.headers["content-type"]).toBe("application/json");
      const body = JSON.parse(r.body);
      expect(body).toMatchObject({
        type: "bounce.hard",
        tenant: "acme",
        data: { address: "gone@example.com", reason: "userunknown" },
      });
      ids.add(body.id);
    }
    // The event id stays the same across tries: receivers dedupe on it.
    expect([...ids]).toEqual([`evt_${outboxId}`]);
  });

  it("gives up after the last try and marks the delivery dead, with the error in the log", async () => {
    const down = await startReceiver(() => 503);
    try {
      const hook = await addWebhook(t.db, "acme", down.url, ["bounce.soft"]);
      await emit(t.db, "acme", "bounce.soft", { address: "full@example.com" });
      const worker = startWebhookWorker({ db: t.db, logger }, { ...fast, maxAttempts: 3 });
      try {
        const [d] = await waitFor(async () => {
          const rows = await deliveriesOf(t.db, hook.id);
          return rows[0]?.status === "dead" ? rows : undefined;
        }, "the delivery to die");
        expect(d).toMatchObject({
          status: "dead",
          attempts: 3,
          last_status_code: 503,
          next_attempt_at: null,
        });
        expect(d?.last_error).toContain("HTTP 503");
        // Dead stays dead: further polls do not try again.
        await worker.poll();
        await worker.poll();
      } finally {
        await worker.stop();
      }
      expect(down.received).toHaveLength(3);
    } finally {
      await down.close();
    }
  });

  it("records a timeout and a refused connection as failed tries", async () => {
    const silent = await startReceiver(() => "hang");
    try {
      const hung = await addWebhook(t.db, "timeouts", silent.url, ["complaint"]);
      const refused = await addWebhook(t.db, "timeouts", await deadUrl(), ["complaint"]);
      await emit(t.db, "timeouts", "complaint", { address: "x@example.com" });
      const worker = startWebhookWorker({ db: t.db, logger }, { ...fast, timeoutMs: 200, maxAttempts: 1 });
      try {
        const dead = async (id: string) => {
          const rows = await deliveriesOf(t.db, id);
          return rows[0]?.status === "dead" ? rows[0] : undefined;
        };
        expect((await waitFor(() => dead(hung.id), "the hung delivery")).last_error).toBe(
          "no answer within 200 ms",
        );
        const r = await waitFor(() => dead(refused.id), "the refused delivery");
        expect(r.last_status_code).toBeNull();
        expect(r.last_error).toMatch(/ECONNREFUSED/);
      } finally {
        await worker.stop();
      }
    } finally {
      await silent.close();
    }
  });
});

describe("webhook destinations (server-side request forgery)", () => {
  /** The delivery of `url`'s one event by a worker with `allowedNetworks`, once finished. */
  async function deliverTo(url: string, allowedNetworks: string[]) {
    // A tenant of its own: the event goes to this endpoint only.
    const tenant = `egress-${n}`;
    const hook = await addWebhook(t.db, tenant, url, ["complaint"]);
    await emit(t.db, tenant, "complaint", { address: "x@example.com" });
    const worker = startWebhookWorker({ db: t.db, logger }, { ...fast, allowedNetworks, maxAttempts: 2 });
    try {
      return await waitFor(async () => {
        const [d] = await deliveriesOf(t.db, hook.id);
        return d?.status === "delivered" || d?.status === "dead" ? d : undefined;
      }, `the delivery to ${url}`);
    } finally {
      await worker.stop();
    }
  }

  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver(() => 200);
  });
  afterAll(async () => receiver?.close());
  const port = () => new URL(receiver.url).port;

  it("refuses a hostname that resolves to loopback when connecting, retries like any failure, and never reaches the receiver", async () => {
    receiver.received.length = 0;
    const d = await deliverTo(`http://localhost:${port()}/hooks`, []);
    expect(d).toMatchObject({ status: "dead", attempts: 2, last_status_code: null });
    expect(d.last_error).toMatch(
      /^destination localhost \(127\.0\.0\.1\) is not a public address \(loopback\); an operator may allow its network with REBOUND_WEBHOOK_ALLOWED_NETWORKS$/,
    );
    expect(receiver.received).toHaveLength(0);
  });

  it("refuses literal addresses stored before the policy, the IPv4-mapped IPv6 form of loopback too", async () => {
    receiver.received.length = 0;
    const v4 = await deliverTo(`http://127.0.0.1:${port()}/hooks`, []);
    expect(v4).toMatchObject({ status: "dead", attempts: 2, last_status_code: null });
    expect(v4.last_error).toBe(
      "destination 127.0.0.1 is not a public address (loopback); an operator may allow its network with REBOUND_WEBHOOK_ALLOWED_NETWORKS",
    );
    const mapped = await deliverTo(`http://[::ffff:127.0.0.1]:${port()}/hooks`, []);
    expect(mapped).toMatchObject({ status: "dead", last_status_code: null });
    expect(mapped.last_error).toMatch(/^destination ::ffff:7f00:1 is not a public address \(loopback\)/);
    const other = await deliverTo(`http://127.0.0.1:${port()}/hooks`, ["10.0.0.0/8"]);
    expect(other.last_error).toMatch(/^destination 127\.0\.0\.1 is not a public address/);
    expect(receiver.received).toHaveLength(0);
  });

  it("delivers to an allowed network, by address and by a name that resolves into it", async () => {
    receiver.received.length = 0;
    expect(await deliverTo(`http://127.0.0.1:${port()}/hooks`, ["127.0.0.0/8"])).toMatchObject({
      status: "delivered",
      attempts: 1,
      last_status_code: 200,
    });
    expect(await deliverTo(`http://localhost:${port()}/hooks`, ["127.0.0.1"])).toMatchObject({
      status: "delivered",
      attempts: 1,
    });
    expect(receiver.received).toHaveLength(2);
  });
});

describe("outbox dispatch", () => {
  it("makes one delivery per subscribed endpoint of the same tenant, once, with several dispatchers at once", async () => {
    const db = await createTestDb({ poolSize: 8 });
    try {
      const all = await addWebhook(db.db, "t1", "http://127.0.0.1:9/a", [
        "bounce.hard",
        "bounce.soft",
        "complaint",
      ]);
      const hardOnly = await addWebhook(db.db, "t1", "http://127.0.0.1:9/b", ["bounce.hard"]);
      const other = await addWebhook(db.db, "t2", "http://127.0.0.1:9/c", [
        "bounce.hard",
        "bounce.soft",
        "complaint",
      ]);
      const types = ["bounce.hard", "bounce.soft", "complaint"];
      await db.db
        .insertInto("outbox")
        .values(
          Array.from({ length: 300 }, (_, i) => ({
            tenant: "t1",
            type: types[i % 3] as string,
            payload: JSON.stringify({ i }),
          })),
        )
        .execute();
      await emit(db.db, "t3", "bounce.hard", { nobody: "listens" });
      const results = await Promise.all([1, 2, 3, 4].map(() => dispatchPending(db.db, () => new Date(), 7)));
      const made = results.flatMap((r) => r.deliveryIds);
      expect(new Set(made).size).toBe(made.length);
      expect(results.reduce((s, r) => s + r.taken, 0)).toBe(301);
      expect(made).toHaveLength(300 + 100);
      expect(await deliveriesOf(db.db, all.id)).toHaveLength(300);
      expect(await deliveriesOf(db.db, hardOnly.id)).toHaveLength(100);
      expect(await deliveriesOf(db.db, other.id)).toHaveLength(0);
      const left = await db.db.selectFrom("outbox").select("id").where("dispatched_at", "is", null).execute();
      expect(left).toHaveLength(0);
      // Nothing left: a second run makes nothing.
      expect(await dispatchPending(db.db, () => new Date())).toEqual({ taken: 0, deliveryIds: [] });
    } finally {
      await db.drop();
    }
  });
});

describe("webhook history retention", () => {
  it("forgets dispatched outbox rows and finished deliveries past their age, never work still to do", async () => {
    const db = await createTestDb();
    try {
      const hook = await addWebhook(db.db, "r", "http://127.0.0.1:1/r", ["bounce.hard"]);
      const old = new Date("2026-01-01T00:00:00Z");
      const recent = new Date("2026-03-01T00:00:00Z");
      const now = new Date("2026-03-02T00:00:00Z");
      const ob = (type: string, created_at: Date, dispatched_at: Date | null) => ({
        tenant: "r",
        type,
        payload: JSON.stringify({ type }),
        created_at,
        dispatched_at,
      });
      await db.db
        .insertInto("outbox")
        .values([
          ob("old-dispatched", old, old),
          ob("recent-dispatched", recent, recent),
          ob("complaint", old, null),
        ])
        .execute();
      const d = (outbox_id: number, status: string, created_at: Date) => ({
        webhook_id: hook.id,
        outbox_id,
        tenant: "r",
        event_type: "bounce.hard",
        payload: "{}",
        status,
        created_at,
      });
      await db.db
        .insertInto("webhook_deliveries")
        .values([
          d(1001, "delivered", old),
          d(1002, "dead", old),
          d(1003, "failed", old),
          d(1004, "delivered", recent),
        ])
        .execute();

      const worker = startWebhookWorker(
        { db: db.db, logger, now: () => now },
        { pollIntervalMs: 60_000, deliveryLogDays: 30, outboxDays: 2, allowedNetworks: LOOPBACK_ALLOWED },
      );
      await worker.poll();
      await worker.stop();

      const outbox = await db.db
        .selectFrom("outbox")
        .select(["type", "dispatched_at"])
        .orderBy("id")
        .execute();
      // The old undispatched row was dispatched by this poll (nobody subscribes to it), so it stays for now.
      expect(outbox).toEqual([
        { type: "recent-dispatched", dispatched_at: recent },
        { type: "complaint", dispatched_at: now },
      ]);
      const deliveries = await db.db
        .selectFrom("webhook_deliveries")
        .select(["outbox_id", "status"])
        .orderBy("id")
        .execute();
      expect(deliveries).toEqual([
        { outbox_id: "1003", status: "failed" },
        { outbox_id: "1004", status: "delivered" },
      ]);
    } finally {
      await db.drop();
    }
  });
});

describe("webhook delivery on the embedded database (PGlite)", () => {
  it("dispatches, retries and delivers the same way", async () => {
    const db = await createEmbeddedTestDb();
    const receiver = await startReceiver((i) => (i === 1 ? 500 : 200));
    const worker = startWebhookWorker({ db: db.db, logger }, { ...fast, maxAttempts: 3 });
    try {
      const hook = await addWebhook(db.db, "acme", receiver.url, ["suppression.added"]);
      await emit(db.db, "acme", "suppression.added", { address: "x@example.com", stream: "marketing" });
      const d = await waitFor(async () => {
        const rows = await deliveriesOf(db.db, hook.id);
        return rows[0]?.status === "delivered" ? rows[0] : undefined;
      }, "the delivery on PGlite");
      expect(d).toMatchObject({ attempts: 2, last_status_code: 200 });
      const r = receiver.received[1]!;
      expect(signedBy(hook.secret, r)).toBe(true);
    } finally {
      await worker.stop();
      await receiver.close();
      await db.drop();
    }
  });
});
