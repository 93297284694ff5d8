import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi } from "../../src/api/server.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { openDb } from "../../src/store/db.js";
import { createBullQueue } from "../../src/queue/bullmq.js";
import type { Queue } from "../../src/queue/types.js";
import { createTestDb, TEST_REDIS_URL, type TestDb, testHash } from "../helpers/db.js";
import { dropQueueKeys } from "../helpers/redis.js";

let t: TestDb;

beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => t?.drop());

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function readyz(queue: Queue) {
  const api = await startApi({
    db: t.db,
    config: loadConfig({ httpHost: "127.0.0.1", httpPort: 0 }, {}),
    hashAddress: testHash,
    logger: createLogger("silent"),
    queue,
  });
  try {
    const res = await fetch(`http://127.0.0.1:${api.port}/readyz`);
    return { status: res.status, body: await res.json() };
  } finally {
    await api.close();
    await queue.close();
  }
}

describe("readiness", () => {
  it("names the database as down, without its error text, when PostgreSQL does not answer", async () => {
    const dead = await openDb({ databaseUrl: `postgres://nobody:secret@127.0.0.1:${await freePort()}/x` });
    const api = await startApi({
      db: dead.db,
      config: loadConfig({ httpHost: "127.0.0.1", httpPort: 0 }, {}),
      hashAddress: testHash,
      logger: createLogger("silent"),
    });
    try {
      const res = await fetch(`http://127.0.0.1:${api.port}/readyz`);
      const body = await res.json();
      expect(res.status).toBe(503);
      expect(body).toEqual({
        error: {
          code: "not_ready",
          message: "not ready: database down",
          details: { database: "down", queue: "none" },
        },
      });
      expect(JSON.stringify(body)).not.toMatch(/nobody|secret|ECONN/);
    } finally {
      await api.close();
      await dead.close();
    }
  });

  it("is ready when PostgreSQL and Redis answer", async () => {
    const prefix = `t-${randomBytes(4).toString("hex")}`;
    const r = await readyz(createBullQueue({ redisUrl: TEST_REDIS_URL, prefix }));
    await dropQueueKeys(prefix);
    expect(r).toEqual({ status: 200, body: { status: "ready", checks: { database: "up", queue: "up" } } });
  });

  it("answers 503 in the error shape, naming the queue, when Redis does not answer", async () => {
    const r = await readyz(
      createBullQueue({ redisUrl: `redis://127.0.0.1:${await freePort()}`, prefix: "t-dead" }),
    );
    expect(r.status).toBe(503);
    expect(r.body).toEqual({
      error: {
        code: "not_ready",
        message: "not ready: queue down",
        details: { database: "up", queue: "down" },
      },
    });
    // The driver's error (ECONNREFUSED 127.0.0.1:port) is not in the answer.
    expect(JSON.stringify(r.body)).not.toMatch(/ECONN|127\.0\.0\.1/);
  });
});
