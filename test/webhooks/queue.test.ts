import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import { createBullQueue } from "../../src/queue/bullmq.js";
import type { Queue } from "../../src/queue/types.js";
import { emitOutbox } from "../../src/store/outbox.js";
import { startWebhookWorker } from "../../src/webhooks/worker.js";
import { createTestDb, TEST_REDIS_URL, type TestDb } from "../helpers/db.js";
import { dropQueueKeys } from "../helpers/redis.js";
import { deadUrl, startReceiver, waitFor, signedBy } from "./receiver.js";

const logger = createLogger("silent");
/** The receivers listen on loopback: an internal network, allowed as an operator would. */
const allowedNetworks = ["127.0.0.0/8"];
let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => t?.drop());

async function deliveryOf(webhookId: string) {
  return t.db
    .selectFrom("webhook_deliveries")
    .selectAll()
    .where("webhook_id", "=", webhookId)
    .executeTakeFirst();
}

describe("webhook delivery through the queue", () => {
  it("retries with delayed BullMQ jobs until the endpoint recovers (the poll never steps in)", async () => {
    const receiver = await startReceiver((n) => (n <= 2 ? 503 : 200));
    const prefix = `test-wh-${randomBytes(4).toString("hex")}`;
    const queue = createBullQueue({ redisUrl: TEST_REDIS_URL, prefix });
    // A grace far longer than the test: only the queue can make the tries after the first.
    const worker = startWebhookWorker(
      { db: t.db, queue, logger },
      {
        pollIntervalMs: 50,
        queueGraceMs: 600_000,
        backoffBaseMs: 50,
        backoffMaxMs: 200,
        maxAttempts: 5,
        allowedNetworks,
      },
    );
    try {
      await t.db
        .insertInto("webhooks")
        .values({
          id: "wh_q1",
          tenant: "acme",
          url: receiver.url,
          secret: "whsec_q1",
          events: ["bounce.hard"],
        })
        .execute();
      await emitOutbox(t.db, { tenant: "acme", type: "bounce.hard", payload: { address: "q@example.com" } });
      const d = await waitFor(async () => {
        const row = await deliveryOf("wh_q1");
        return row?.status === "delivered" ? row : undefined;
      }, "delivery through the queue");
      expect(d).toMatchObject({ attempts: 3, last_status_code: 200 });
      expect(receiver.received).toHaveLength(3);
      for (const r of receiver.received) expect(signedBy("whsec_q1", r)).toBe(true);
    } finally {
      await worker.stop();
      await queue.close();
      await receiver.close();
      await dropQueueKeys(prefix);
    }
  });

  it("loses nothing while Redis is unreachable: the database poll delivers", async () => {
    const receiver = await startReceiver(() => 200);
    // A port where nothing listens: Redis "down".
    const redisUrl = `redis://${new URL(await deadUrl()).host}`;
    const queue: Queue = createBullQueue({
      redisUrl,
      prefix: "test-wh-down",
      addTimeoutMs: 200,
      stalledMs: 500,
    });
    await expect(queue.ping()).rejects.toThrow();
    const worker = startWebhookWorker(
      { db: t.db, queue, logger },
      { pollIntervalMs: 50, queueGraceMs: 100, maxAttempts: 3, allowedNetworks },
    );
    try {
      await t.db
        .insertInto("webhooks")
        .values({ id: "wh_q2", tenant: "acme", url: receiver.url, secret: "whsec_q2", events: ["complaint"] })
        .execute();
      await emitOutbox(t.db, { tenant: "acme", type: "complaint", payload: { address: "c@example.com" } });
      const d = await waitFor(async () => {
        const row = await deliveryOf("wh_q2");
        return row?.status === "delivered" ? row : undefined;
      }, "delivery by the poll");
      expect(d).toMatchObject({ attempts: 1, last_status_code: 200 });
      expect(receiver.received).toHaveLength(1);
    } finally {
      await worker.stop();
      await queue.close();
      await receiver.close();
    }
  });
});
