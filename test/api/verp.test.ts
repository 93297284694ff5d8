import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeVerp } from "../../src/core/verp.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { verpConfig, verpOverrides } from "./bounce-helper.js";
import { client, startTestApi, type Client, type TestApi } from "./helpers.js";

let t: TestDb;
let api: TestApi;
let noKeys: TestApi;
let acme: Client;

beforeAll(async () => {
  t = await createTestDb();
  api = await startTestApi(t.db, verpOverrides);
  noKeys = await startTestApi(t.db);
  acme = await client(t.db, api, "acme", ["read", "write"]);
});

afterAll(async () => {
  await api?.close();
  await noKeys?.close();
  await t?.drop();
});

describe("POST /v1/verp", () => {
  it("mints a return path that decodes to the recipient, the key's tenant and the stream", async () => {
    const res = await acme.send("POST", "/v1/verp", {
      recipient: "Jane.Doe@Example.COM",
      stream: "Marketing",
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({
      form: "inline",
      tenant: "acme",
      stream: "marketing",
      domain: "bounces.example.net",
    });
    expect(body.returnPath).toMatch(/@bounces\.example\.net$/);
    expect(decodeVerp(body.returnPath, verpConfig.verpKeys)).toMatchObject({
      ok: true,
      recipient: "Jane.Doe@example.com",
      tenant: "acme",
      stream: "marketing",
    });
  });

  it("uses another of the MX's domains when asked, and the hashed form for a long address", async () => {
    const long = `${"a".repeat(60)}@${"sub.".repeat(10)}example.com`;
    const res = await acme.send("POST", "/v1/verp", {
      recipient: long,
      stream: "news",
      domain: "FBL.example.net",
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.form).toBe("hashed");
    expect(body.domain).toBe("fbl.example.net");
    expect(body.returnPath.split("@")[0].length).toBeLessThanOrEqual(64);
    expect(decodeVerp(body.returnPath, verpConfig.verpKeys, { candidates: [long] })).toMatchObject({
      ok: true,
      recipient: long,
    });
  });

  it("leaves the tenant out of the return path for the default tenant", async () => {
    const dflt = await client(t.db, api, "default", ["write"]);
    const body = await (
      await dflt.send("POST", "/v1/verp", { recipient: "x@example.com", stream: "news" })
    ).json();
    expect(decodeVerp(body.returnPath, verpConfig.verpKeys)).toMatchObject({ ok: true, tenant: null });
  });

  it("refuses an invalid recipient, a foreign domain, a bad stream, a tenant name VERP cannot carry, and no keys", async () => {
    const cases: [Client, unknown, number, string][] = [
      [acme, { recipient: "nobody" }, 400, "invalid_address"],
      [acme, { recipient: "x@example.com", domain: "evil.example.org" }, 400, "validation_failed"],
      [acme, { recipient: "x@example.com", stream: "no spaces" }, 400, "validation_failed"],
      [acme, { recipient: "x@example.com", extra: 1 }, 400, "validation_failed"],
      [await client(t.db, api, "Big Corp", ["write"]), { recipient: "x@example.com" }, 400, "bad_request"],
      [await client(t.db, api, "acme", ["read"]), { recipient: "x@example.com" }, 403, "forbidden"],
      [await client(t.db, noKeys, "acme", ["write"]), { recipient: "x@example.com" }, 503, "not_ready"],
    ];
    for (const [c, body, status, code] of cases) {
      const res = await c.send("POST", "/v1/verp", body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect((await res.json()).error.code, JSON.stringify(body)).toBe(code);
    }
  });
});
