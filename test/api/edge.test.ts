// What every request goes through before a handler: control characters refused, no type coercion of bodies,
// typed query strings, long path parameters, unknown methods, framework errors in the one error shape, and
// errors that say what to send instead.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { client, enc, startTestApi, type Client, type TestApi } from "./helpers.js";

let t: TestDb;
let api: TestApi;
let acme: Client;

beforeAll(async () => {
  t = await createTestDb();
  api = await startTestApi(t.db);
  acme = await client(t.db, api, "acme", ["read", "write", "admin"]);
});

afterAll(async () => {
  await api?.close();
  await t?.drop();
});

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = await res.json();
  expect(body).toMatchObject({ error: { code, message: expect.any(String) } });
  return body.error as { code: string; message: string; details?: unknown };
}

describe("control characters", () => {
  it("refuses NUL and control characters in the path, the query and JSON bodies with a 400, and stores nothing", async () => {
    await expectError(await acme.get(`/v1/suppressions/a%00b@example.com`), 400, "bad_request");
    await expectError(await acme.get(`/v1/events?stream=a%00b`), 400, "bad_request");
    await expectError(await acme.get(`/v1/exports/suppressions?stream=a%01b`), 400, "bad_request");
    await expectError(await acme.get(`/v1/suppressions?cursor=%7F`), 400, "bad_request");
    const note = await expectError(
      await acme.send("PUT", `/v1/suppressions/${enc("nul@example.com")}`, { note: "a\u0000b" }),
      400,
      "validation_failed",
    );
    expect(note.message).toContain("control character");
    expect(note.details).toEqual([expect.objectContaining({ in: "body", path: "/note" })]);
    await expectError(
      await acme.send("POST", "/v1/webhooks", { url: "https://hooks.example.com/x", description: "\u0001" }),
      400,
      "validation_failed",
    );
    // A line break in free text is text, not a control character to refuse.
    const ok = await acme.send("PUT", `/v1/suppressions/${enc("nl@example.com")}`, { note: "two\nlines" });
    expect(ok.status).toBe(201);
    expect((await t.db.selectFrom("suppressions").select("address").execute()).map((r) => r.address)).toEqual(
      ["nl@example.com"],
    );
  });

  it("reports a control character in a list as the record's own error (list cleaning)", async () => {
    const csv = "email\nfine@example.com\nx\u0001y@example.com\n";
    const res = await acme.send("POST", "/v1/clean?mode=status", csv, { "content-type": "text/csv" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(
      "email,rebound_status,rebound_reason\nfine@example.com,ok,\nx\u0001y@example.com,invalid,control_character\n",
    );
  });

  it("imports the valid rows of a list and reports a row with NUL as an error of its own (NDJSON and CSV)", async () => {
    const ndjson = [
      JSON.stringify({ email: "keep1@example.com" }),
      JSON.stringify({ email: "bad\u0000@example.com" }),
      JSON.stringify({ email: "keep2@example.com", note: "n\u0000ul" }),
      JSON.stringify({ email: "keep3@example.com" }),
    ].join("\n");
    const res = await acme.send("POST", "/v1/suppressions/import?stream=imp", ndjson, {
      "content-type": "application/x-ndjson",
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      received: 4,
      imported: 2,
      invalid: 2,
      errors: [
        { line: 2, code: "control_character" },
        { line: 3, code: "control_character" },
      ],
    });
    const csv = "email,note\nkeep4@example.com,x\nbad@example.com,a\u0000b\nkeep5@example.com,y\n";
    const res2 = await acme.send("POST", "/v1/suppressions/import?stream=imp", csv, {
      "content-type": "text/csv",
    });
    expect(await res2.json()).toMatchObject({
      imported: 2,
      invalid: 1,
      errors: [{ line: 3, code: "control_character" }],
    });
    const stored = await t.db
      .selectFrom("suppressions")
      .select("address")
      .where("stream", "=", "imp")
      .orderBy("address")
      .execute();
    expect(stored.map((r) => r.address)).toEqual([
      "keep1@example.com",
      "keep3@example.com",
      "keep4@example.com",
      "keep5@example.com",
    ]);
  });
});

describe("strict validation", () => {
  it("refuses a body of the wrong type instead of coercing it", async () => {
    for (const body of [{ addresses: "a@b.c" }, { addresses: 0.0 }, { addresses: null }, { addresses: [1] }])
      await expectError(await acme.send("POST", "/v1/suppressions/check", body), 400, "validation_failed");
    await expectError(
      await acme.send("POST", "/v1/suppressions/check", "null", { "content-type": "application/json" }),
      400,
      "validation_failed",
    );
    await expectError(
      await acme.send("POST", "/v1/deliveries", { recipient: "a@example.com", stream: 5 }),
      400,
      "validation_failed",
    );
  });

  it("types query strings: plain integers and booleans pass, anything else is refused", async () => {
    expect((await acme.get(`/v1/suppressions?limit=10`)).status).toBe(200);
    expect((await acme.get(`/v1/exports/suppressions?hashed=true`)).status).toBe(200);
    for (const q of [
      "limit=abc",
      "limit=1.5",
      "limit=",
      "limit=1e2",
      "limit=0x10",
      "limit=1&limit=2",
      "limit=1001",
    ])
      await expectError(await acme.get(`/v1/suppressions?${q}`), 400, "validation_failed");
    await expectError(await acme.get(`/v1/exports/suppressions?hashed=yes`), 400, "validation_failed");
    await expectError(await acme.get(`/v1/alerts/blocks?threshold=99999999999`), 400, "validation_failed");
  });

  it("lists the allowed values of an enum in its error", async () => {
    const e = await expectError(await acme.get(`/v1/suppressions?state=gone`), 400, "validation_failed");
    expect(e.message).toContain("must be one of: active, expired, all");
    expect(e.details).toEqual([expect.objectContaining({ allowed: ["active", "expired", "all"] })]);
  });
});

describe("paths and methods", () => {
  it("looks up, suppresses and erases an address of 254 characters through the path", async () => {
    const long = `${"l".repeat(64)}@${"d".repeat(60)}.${"e".repeat(60)}.${"f".repeat(60)}.example.com`;
    expect(long.length).toBeGreaterThanOrEqual(254);
    const put = await acme.send("PUT", `/v1/suppressions/${enc(long)}`, {});
    expect(put.status).toBe(201);
    const get = await acme.get(`/v1/suppressions/${enc(long)}`);
    expect(get.status).toBe(200);
    expect(await get.json()).toMatchObject({ address: long, suppressed: true });
    expect((await acme.send("DELETE", `/v1/addresses/${enc(long)}`)).status).toBe(200);
  });

  it("answers a path parameter over the limit with 414 in our shape, a URL over Node's limit with 431", async () => {
    await expectError(await fetch(`${api.url}/v1/suppressions/${"x".repeat(2_000)}`), 414, "uri_too_long");
    await expectError(await acme.get(`/v1/suppressions/${"x".repeat(400)}`), 400, "validation_failed");
    await expectError(await acme.get(`/v1/suppressions/${"x".repeat(20_000)}`), 431, "headers_too_large");
  });

  it("answers a method a path does not take with 405 and Allow, an unknown path with 404", async () => {
    const res = await acme.send("PATCH", `/v1/suppressions/${enc("a@example.com")}`, {});
    const e = await expectError(res, 405, "method_not_allowed");
    expect(res.headers.get("allow")).toBe("DELETE, GET, HEAD, PUT");
    expect(e.message).toContain("DELETE, GET, HEAD, PUT");
    const post = await acme.send("POST", "/v1/events", {});
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    await expectError(await acme.get("/v1/nothing"), 404, "not_found");
  });

  it("answers a URL it cannot decode with 400 in our shape", async () => {
    await expectError(await acme.get("/v1/suppressions/%E0%A4%A"), 400, "bad_request");
  });
});

describe("errors that teach", () => {
  it("names the content types a route takes in its 415", async () => {
    const json = await acme.send("POST", "/v1/suppressions/check", "a=b", { "content-type": "text/plain" });
    const e = await expectError(json, 415, "unsupported_media_type");
    expect(e.message).toContain('"text/plain"');
    expect(e.message).toContain("application/json");
    const bulk = await acme.send("POST", "/v1/clean", "a=b", { "content-type": "text/plain" });
    const b = await expectError(bulk, 415, "unsupported_media_type");
    expect(b.message).toContain("text/csv");
    expect(b.message).toContain("application/x-ndjson");
    const bulkJson = await acme.send("POST", "/v1/clean", { email: "a@example.com" });
    expect((await expectError(bulkJson, 415, "unsupported_media_type")).message).toContain("text/csv");
  });

  it("points GET / to the console and the docs", async () => {
    const res = await fetch(`${api.url}/`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      console: "/console",
      docs: "/docs",
      openapi: "/v1/openapi.json",
    });
  });
});
