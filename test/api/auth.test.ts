// Authentication's guards against guessing, over HTTP on a real PostgreSQL: a token without the key format
// never reaches the database, failures are limited per client IP, the key cache evicts the least recently used.
import Fastify from "fastify";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installAuth } from "../../src/api/auth.js";
import { installErrorHandling } from "../../src/api/errors.js";
import { createKey, revokeKey } from "../../src/store/keys.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { client, startTestApi, type TestApi } from "./helpers.js";

let t: TestDb;

beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => t?.drop());

const bearer = (api: TestApi, token: string, path = "/v1/suppressions?limit=1") =>
  fetch(api.url + path, { headers: { authorization: `Bearer ${token}` } });

/** A token of the key format that no key has. */
const WELL_FORMED = `rbk_${"A".repeat(43)}`;

/** Whether `p` settles within `ms`. */
const settles = (p: Promise<unknown>, ms: number) =>
  Promise.race([p.then(() => true), new Promise((r) => setTimeout(() => r(false), ms))]);

describe("API authentication", () => {
  it("refuses a token without the key format without a query, while a well-formed one is looked up", async () => {
    const api = await startTestApi(t.db, { apiAuthFailuresPerMinute: 0 });
    try {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => (locked = r));
      // The key table locked: any key lookup waits for the lock.
      const lock = t.db.transaction().execute(async (trx) => {
        await sql`lock table api_keys in access exclusive mode`.execute(trx);
        locked();
        await held;
      });
      await isLocked;
      const started = Date.now();
      for (const token of [
        "nope",
        "rbk_short",
        `${WELL_FORMED}x`,
        `xbk_${"A".repeat(43)}`,
        "rbk_" + "!".repeat(43),
      ]) {
        const res = await bearer(api, token);
        expect(res.status).toBe(401);
        expect((await res.json()).error.code).toBe("unauthorized");
      }
      expect(Date.now() - started).toBeLessThan(5_000);
      // A token of the right form goes to the database, and so waits for the lock: the test can fail.
      const pending = bearer(api, WELL_FORMED);
      expect(await settles(pending, 500)).toBe(false);
      release();
      await lock;
      expect((await pending).status).toBe(401);
    } finally {
      await api.close();
    }
  });

  it("answers 429 with Retry-After to a client IP past its failed authentications a minute", async () => {
    const api = await startTestApi(t.db, { apiAuthFailuresPerMinute: 3 });
    try {
      const good = await client(t.db, api, "acme", ["read"]);
      expect((await good.get("/v1/suppressions?limit=1")).status).toBe(200);
      for (const token of ["bad1", WELL_FORMED, "bad3"]) expect((await bearer(api, token)).status).toBe(401);
      const res = await bearer(api, `rbk_${"B".repeat(43)}`);
      expect(res.status).toBe(429);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(await res.json()).toEqual({
        error: {
          code: "rate_limited",
          message: expect.stringMatching(/^too many failed authentications from this address/),
          details: { authFailuresPerMinute: 3 },
        },
      });
      // A key never admitted before waits too: the IP cannot go on guessing with well-formed tokens.
      const fresh = await createKey(t.db, { tenant: "acme", scopes: ["read"] });
      expect((await bearer(api, fresh.token)).status).toBe(429);
      // Another API process (its own counts) takes the same key.
      const other = await startTestApi(t.db, { apiAuthFailuresPerMinute: 3 });
      try {
        expect((await bearer(other, fresh.token)).status).toBe(200);
      } finally {
        await other.close();
      }
    } finally {
      await api.close();
    }
  });

  it("keeps the most recently used keys when its cache is full, evicting the least recently used", async () => {
    const app = Fastify();
    installErrorHandling(app);
    installAuth(app, {
      db: t.db,
      defaultRateLimitPerMinute: 0,
      authFailuresPerMinute: 0,
      now: () => new Date(),
      cacheMs: 600_000,
      maxCached: 2,
    });
    app.get("/who", async (request) => ({ keyId: request.auth.keyId }));
    await app.listen({ host: "127.0.0.1", port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/who`;
    const status = async (token: string) =>
      (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status;
    try {
      const [a, b, c] = await Promise.all(
        [1, 2, 3].map(() => createKey(t.db, { tenant: "lru", scopes: ["read"] })),
      );
      expect(await status(a!.token)).toBe(200);
      expect(await status(b!.token)).toBe(200);
      expect(await status(a!.token)).toBe(200); // a is now the most recently used
      for (const k of [a!, b!, c!]) await revokeKey(t.db, k.id);
      // c's (revoked) entry takes the place of b, the least recently used; a stays cached, b is read again.
      expect(await status(c!.token)).toBe(401);
      expect(await status(a!.token)).toBe(200);
      expect(await status(b!.token)).toBe(401);
    } finally {
      await app.close();
    }
  });
});
