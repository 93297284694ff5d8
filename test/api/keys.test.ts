import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listKeys } from "../../src/store/keys.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { client, startTestApi, type Client, type TestApi } from "./helpers.js";

let t: TestDb;
let api: TestApi;
let admin: Client;
beforeAll(async () => {
  t = await createTestDb();
  api = await startTestApi(t.db);
  admin = await client(t.db, api, "ops", ["admin"]);
});
afterAll(async () => {
  await api?.close();
  await t?.drop();
});

describe("POST /v1/keys", () => {
  it("makes a key for another tenant whose token then reads that tenant's data", async () => {
    const res = await admin.send("POST", "/v1/keys", {
      tenant: "acme",
      scopes: ["read", "write"],
      name: "mailer",
      rateLimitPerMinute: 600,
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      tenant: "acme",
      name: "mailer",
      scopes: ["read", "write"],
      rateLimitPerMinute: 600,
    });
    expect(body.id).toMatch(/^key_/);
    expect(body.token).toMatch(/^rbk_/);
    expect(new Date(body.createdAt as string).toISOString()).toBe(body.createdAt);

    const stored = await listKeys(t.db, { tenant: "acme" });
    expect(stored.map((k) => [k.id, k.name, k.scopes])).toEqual([[body.id, "mailer", ["read", "write"]]]);

    const auth = { authorization: `Bearer ${String(body.token)}` };
    const put = await fetch(`${api.url}/v1/suppressions/made@example.com`, {
      method: "PUT",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({}),
    });
    expect(put.status).toBe(201);
    const look = await fetch(`${api.url}/v1/suppressions/made@example.com`, { headers: auth });
    expect(look.status).toBe(200);
    expect(((await look.json()) as { suppressed: boolean }).suppressed).toBe(true);
    // The admin's own tenant does not see acme's data.
    const other = await admin.get("/v1/suppressions/made@example.com");
    expect(((await other.json()) as { suppressed: boolean }).suppressed).toBe(false);
  });

  it("binds the key to the caller's tenant when none is given", async () => {
    const res = await admin.send("POST", "/v1/keys", { scopes: ["read"] });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({
      tenant: "ops",
      scopes: ["read"],
      name: null,
      rateLimitPerMinute: null,
    });
  });

  it("refuses a key without the admin scope with 403 and makes nothing", async () => {
    const writer = await client(t.db, api, "acme2", ["read", "write"]);
    const res = await writer.send("POST", "/v1/keys", { tenant: "acme2", scopes: ["admin"] });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("forbidden");
    expect((await listKeys(t.db, { tenant: "acme2" })).map((k) => k.id)).toEqual([writer.keyId]);
  });

  it("refuses unknown scopes, unknown fields and a missing scopes list with 400", async () => {
    for (const body of [
      { scopes: ["root"] },
      { scopes: ["read"], owner: "x" },
      { tenant: "acme" },
      { scopes: [] },
      { scopes: ["read"], tenant: "Not A Tenant" },
    ]) {
      const res = await admin.send("POST", "/v1/keys", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBeTypeOf("string");
    }
  });
});
