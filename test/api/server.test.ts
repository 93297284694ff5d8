import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { revokeKey } from "../../src/store/keys.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { client, enc, startTestApi, type Client, type TestApi } from "./helpers.js";
import { until } from "../helpers/until.js";

let t: TestDb;
let api: TestApi;
let acme: Client;

beforeAll(async () => {
  t = await createTestDb();
  api = await startTestApi(t.db, { apiBodyLimitBytes: 64 * 1024 });
  acme = await client(t.db, api, "acme");
});

afterAll(async () => {
  await api?.close();
  await t?.drop();
});

const ERROR_SHAPE = { error: { code: expect.any(String), message: expect.any(String) } };

describe("authentication", () => {
  it("refuses a request without a key, with a wrong key, and with a revoked key (401)", async () => {
    const none = await fetch(`${api.url}/v1/suppressions`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: "unauthorized" } });
    const wrong = await fetch(`${api.url}/v1/suppressions`, {
      headers: { authorization: "Bearer rbk_nope" },
    });
    expect(wrong.status).toBe(401);
    const k = await client(t.db, api, "acme", ["read"]);
    expect((await k.get("/v1/suppressions")).status).toBe(200);
    await revokeKey(t.db, k.keyId);
    // Keys are remembered for at most a second: polled until the revocation shows.
    expect(await until(async () => (await k.get("/v1/suppressions")).status === 401, 10_000)).toBe(true);
  });

  it("refuses a revoked key soon even while it is in constant use", async () => {
    const k = await client(t.db, api, "acme", ["read"]);
    const busy = async (ms: number) => {
      const statuses = new Set<number>();
      for (const end = Date.now() + ms; Date.now() < end;) {
        statuses.add((await k.get(`/v1/suppressions/${enc("busy@example.com")}`)).status);
        await new Promise((r) => setTimeout(r, 10));
      }
      return statuses;
    };
    expect(await busy(700)).toEqual(new Set([200]));
    await revokeKey(t.db, k.keyId);
    // In constant use (a request every 10 ms), until the revocation shows.
    await until(async () => (await k.get(`/v1/suppressions/${enc("busy@example.com")}`)).status === 401, {
      ms: 10_000,
      everyMs: 10,
    });
  });

  it("answers 429 with Retry-After once a key's rate limit is spent", async () => {
    const k = await client(t.db, api, "acme", ["read"], 3);
    const statuses: number[] = [];
    let last!: Response;
    for (let i = 0; i < 4; i++) {
      last = await k.get(`/v1/suppressions/${enc("a@example.com")}`);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(last.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await last.json()).toMatchObject({ error: { code: "rate_limited" } });
  });
});

describe("one error shape", () => {
  it("answers malformed JSON with 400 malformed_json", async () => {
    const res = await acme.send("POST", "/v1/suppressions/check", '{"addresses": [', {
      "content-type": "application/json",
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "malformed_json" } });
  });

  it("answers a wrong content type with 415", async () => {
    const res = await acme.send("POST", "/v1/suppressions/check", "addresses=a@example.com", {
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ error: { code: "unsupported_media_type" } });
  });

  it("answers a body over the limit with 413", async () => {
    const res = await acme.send("PUT", `/v1/suppressions/${enc("a@example.com")}`, {
      note: "x".repeat(100_000),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: "payload_too_large" } });
  });

  it("refuses unknown fields in bodies and query strings", async () => {
    const body = await acme.send("POST", "/v1/suppressions/check", {
      addresses: ["a@example.com"],
      strem: "x",
    });
    expect(body.status).toBe(400);
    expect(await body.json()).toMatchObject({
      error: { code: "validation_failed", details: [{ field: "strem" }] },
    });
    const query = await acme.get(`/v1/suppressions?colour=red`);
    expect(query.status).toBe(400);
    expect(await query.json()).toMatchObject({ error: { code: "validation_failed" } });
  });

  it("answers unknown routes with 404 in the same shape", async () => {
    const res = await acme.get("/v1/nothing-here");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject(ERROR_SHAPE);
  });
});

describe("description and health", () => {
  it("serves an OpenAPI 3 document naming the routes, and a docs page", async () => {
    const spec = await (await fetch(`${api.url}/v1/openapi.json`)).json();
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        "/v1/suppressions/{address}",
        "/v1/suppressions/check",
        "/v1/suppressions",
        "/healthz",
        "/readyz",
      ]),
    );
    expect(spec.components.schemas.Error).toBeDefined();
    const docs = await fetch(`${api.url}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain("swagger");
  });

  it("answers /healthz and /readyz when the database answers", async () => {
    expect(await (await fetch(`${api.url}/healthz`)).json()).toEqual({ status: "ok" });
    const ready = await fetch(`${api.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { database: "up", queue: "none" } });
  });
});
