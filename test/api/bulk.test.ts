import { request } from "node:http";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upsertSuppression } from "../../src/store/suppressions.js";
import { createTestDb, type TestDb, withHash } from "../helpers/db.js";
import { until } from "../helpers/until.js";
import { client, enc, startTestApi, type Client, type TestApi } from "./helpers.js";

let t: TestDb;
let api: TestApi;
let acme: Client;
let other: Client;

beforeAll(async () => {
  t = await createTestDb();
  const at = new Date("2026-01-01T00:00:00Z");
  const add = (tenant: string, stream: string, address: string, reason = "userunknown", cls = "hard") =>
    upsertSuppression(
      t.db,
      withHash({
        tenant,
        stream,
        address,
        reason,
        class: cls,
        source: "bounce",
        rule: "hard.default",
        at,
      }),
    );
  await add("acme", "marketing", "hard@example.com");
  await add("acme", "*", "complained@example.com", "feedback", "complaint");
  await add("acme", "transactional", "tx@example.com");
  await add("other", "marketing", "theirs@example.com");
  api = await startTestApi(t.db);
  acme = await client(t.db, api, "acme");
  other = await client(t.db, api, "other");
});

afterAll(async () => {
  await api?.close();
  await t?.drop();
});

const LIST = [
  "id,Email,name",
  '1,fine@example.com,"Smith, Ann"',
  "2,HARD@example.com,Bob",
  '3,complained@example.com,"multi',
  'line"',
  "4,theirs@example.com,Eve",
  "5,not an address,Zed",
  "6,tx@example.com,Tom",
].join("\r\n");

describe("list cleaning", () => {
  it("removes the suppressed addresses of a CSV list and keeps the other columns as written", async () => {
    const res = await acme.send("POST", "/v1/clean?stream=marketing", LIST, { "content-type": "text/csv" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(await res.text()).toBe(
      [
        "id,Email,name",
        '1,fine@example.com,"Smith, Ann"',
        "4,theirs@example.com,Eve",
        "5,not an address,Zed",
        "6,tx@example.com,Tom",
        "",
      ].join("\n"),
    );
  });

  it("adds a status column in status mode", async () => {
    const res = await acme.send("POST", "/v1/clean?stream=marketing&mode=status", LIST, {
      "content-type": "text/csv",
    });
    expect(await res.text()).toBe(
      [
        "id,Email,name,rebound_status,rebound_reason",
        '1,fine@example.com,"Smith, Ann",ok,',
        "2,HARD@example.com,Bob,suppressed,userunknown",
        '3,complained@example.com,"multi\r\nline",suppressed,feedback',
        "4,theirs@example.com,Eve,ok,",
        "5,not an address,Zed,invalid,no_at_sign",
        "6,tx@example.com,Tom,ok,",
        "",
      ].join("\n"),
    );
  });

  it("cleans NDJSON, keeping each object's fields", async () => {
    const body = [
      JSON.stringify({ email: "hard@example.com", n: 1 }),
      JSON.stringify({ email: "ok@example.com", n: 2 }),
      "not json",
    ].join("\n");
    const removed = await acme.send("POST", "/v1/clean?stream=marketing", body, {
      "content-type": "application/x-ndjson",
    });
    expect((await removed.text()).trim().split("\n")).toEqual([
      JSON.stringify({ email: "ok@example.com", n: 2 }),
      "not json",
    ]);
    const status = await acme.send("POST", "/v1/clean?stream=marketing&mode=status", body, {
      "content-type": "application/x-ndjson",
    });
    const objs = (await status.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(objs[0]).toEqual({
      email: "hard@example.com",
      n: 1,
      rebound_status: "suppressed",
      rebound_reason: "userunknown",
    });
    expect(objs[1]).toEqual({ email: "ok@example.com", n: 2, rebound_status: "ok", rebound_reason: null });
    expect(objs[2]).toMatchObject({ line: 3, rebound_status: "invalid", rebound_reason: "unreadable" });
  });

  it("answers 400 when the CSV header names no address column, and 415 for other content types", async () => {
    const res = await acme.send("POST", "/v1/clean", "a,b\n1,2\n", { "content-type": "text/csv" });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe("validation_failed");
    expect((await acme.send("POST", "/v1/clean", "x", { "content-type": "text/plain" })).status).toBe(415);
  });

  it("cleans a list much larger than the JSON body limit", async () => {
    const rows = ["email"];
    for (let i = 0; i < 60_000; i++) rows.push(`user${i}@example.com`);
    rows.push("hard@example.com");
    const res = await acme.send("POST", "/v1/clean?stream=marketing", rows.join("\n"), {
      "content-type": "text/csv",
    });
    expect(res.status).toBe(200);
    const out = (await res.text()).trim().split("\n");
    expect(out.length).toBe(60_001);
    expect(out).not.toContain("hard@example.com");
  });
});

describe("exports", () => {
  it("exports a tenant's suppressions as CSV with a header, only theirs", async () => {
    const res = await acme.get("/v1/exports/suppressions?format=csv");
    expect(res.status).toBe(200);
    const lines = (await res.text()).trim().split("\n");
    expect(lines[0]).toBe("address,stream,reason,class,source,firstSeen,lastSeen,expiresAt,count,rule,note");
    expect(
      lines
        .slice(1)
        .map((l) => l.split(",")[0])
        .sort(),
    ).toEqual(["complained@example.com", "hard@example.com", "tx@example.com"]);
    expect(lines[1]).toBe(
      "hard@example.com,marketing,userunknown,hard,bounce,2026-01-01T00:00:00.000Z,2026-01-01T00:00:00.000Z,,1,hard.default,",
    );
  });

  it("exports NDJSON, hashed, with filters", async () => {
    const res = await acme.get("/v1/exports/suppressions?format=ndjson&hashed=true&stream=marketing");
    const objs = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(objs).toHaveLength(1);
    expect(objs[0]).toMatchObject({
      addressHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      stream: "marketing",
      expiresAt: null,
    });
    expect(objs[0].address).toBeUndefined();
  });

  it("quotes CSV fields that need it", async () => {
    await acme.send("PUT", `/v1/suppressions/${enc("quoted@example.com")}`, {
      stream: "notes",
      note: 'said "no", twice',
    });
    const text = await (await acme.get("/v1/exports/suppressions?stream=notes")).text();
    expect(text.trim().split("\n")[1]).toMatch(/,"said ""no"", twice"$/);
  });
});

describe("imports", () => {
  it("imports valid rows, reports invalid ones by line, and keeps what is in force", async () => {
    const csv = [
      "Email Address,reason,stream,expires_at,note",
      "new1@example.com,userunknown,marketing,,from SES",
      "New2@Example.com,,,,",
      "broken,userunknown,marketing,,",
      "new3@example.com,nonsense,marketing,,",
      "hard@example.com,userunknown,marketing,,",
      "new1@example.com,userunknown,marketing,,again",
      "temp@example.com,mailboxfull,marketing,2099-01-01T00:00:00Z,",
    ].join("\n");
    const res = await acme.send(
      "POST",
      `/v1/suppressions/import?column=${enc("Email Address")}&reason=hasmoved`,
      csv,
      { "content-type": "text/csv" },
    );
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ received: 7, imported: 3, unchanged: 1, duplicates: 1, invalid: 2 });
    expect(body.errors).toEqual([
      { line: 4, code: "no_at_sign", message: expect.any(String) },
      { line: 5, code: "bad_reason", message: expect.any(String) },
    ]);
    const look = await (await acme.get(`/v1/suppressions/${enc("new2@example.com")}?stream=anything`)).json();
    expect(look).toMatchObject({
      suppressed: true,
      reason: "hasmoved",
      class: "hard",
      suppressions: [{ stream: "*", source: "import", createdBy: acme.keyId }],
    });
    const temp = await (
      await acme.get(`/v1/suppressions/${enc("temp@example.com")}?stream=marketing`)
    ).json();
    expect(temp).toMatchObject({ suppressed: true, class: "soft", expiresAt: "2099-01-01T00:00:00.000Z" });
    const logged = await t.db
      .selectFrom("suppression_log")
      .select("actor")
      .where("address", "=", "new1@example.com")
      .execute();
    expect(logged).toEqual([{ actor: acme.keyId }]);
    expect((await (await other.get(`/v1/suppressions/${enc("new1@example.com")}`)).json()).suppressed).toBe(
      false,
    );
  });

  it("imports NDJSON and needs a write key", async () => {
    const body = [JSON.stringify({ address: "nd@example.com", stream: "marketing" }), "{oops"].join("\n");
    const reader = await client(t.db, api, "acme", ["read"]);
    expect(
      (await reader.send("POST", "/v1/suppressions/import", body, { "content-type": "application/x-ndjson" }))
        .status,
    ).toBe(403);
    const res = await acme.send("POST", "/v1/suppressions/import", body, {
      "content-type": "application/x-ndjson",
    });
    expect(await res.json()).toMatchObject({
      received: 2,
      imported: 1,
      invalid: 1,
      errors: [{ line: 2, code: "unreadable" }],
    });
  });

  it("imports many rows in batches", async () => {
    const rows = ["email"];
    for (let i = 0; i < 5_000; i++) rows.push(`bulk${i}@example.com`);
    const res = await acme.send("POST", "/v1/suppressions/import?stream=bulk", rows.join("\n"), {
      "content-type": "text/csv",
    });
    expect(await res.json()).toMatchObject({ received: 5_000, imported: 5_000, invalid: 0 });
    const check = await (
      await acme.send("POST", "/v1/suppressions/check", {
        stream: "bulk",
        addresses: ["bulk0@example.com", "bulk4999@example.com", "bulk5000@example.com"],
      })
    ).json();
    expect(check.results.map((r: { suppressed: boolean }) => r.suppressed)).toEqual([true, true, false]);
  });
});

describe("limits of bulk bodies", () => {
  let small: TestApi;
  let c: Client;

  beforeAll(async () => {
    small = await startTestApi(t.db, {
      apiBulkMaxBytes: 4_000,
      apiBulkMaxRecordChars: 300,
      apiMaxBulkRequests: 1,
    });
    c = await client(t.db, small, "acme");
  });
  afterAll(async () => small?.close());

  const csvType = { "content-type": "text/csv" };

  it("answers 413 naming the line of a record longer than the limit, and imports nothing of the body", async () => {
    const body = [
      "email",
      "long1@example.com",
      `long2@example.com,${"x".repeat(400)}`,
      "long3@example.com",
    ].join("\n");
    for (const path of ["/v1/suppressions/import", "/v1/clean"]) {
      const res = await c.send("POST", path, body, csvType);
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({
        error: {
          code: "payload_too_large",
          message: "line 3: a record longer than 300 characters (REBOUND_API_BULK_MAX_RECORD_CHARS)",
          details: { line: 3, maxRecordChars: 300 },
        },
      });
    }
    const nd = await c.send(
      "POST",
      "/v1/suppressions/import",
      `{"email":"${"y".repeat(400)}@example.com"}\n`,
      {
        "content-type": "application/x-ndjson",
      },
    );
    expect(nd.status).toBe(413);
    expect((await nd.json()).error.details).toEqual({ line: 1, maxRecordChars: 300 });
    const stored = await t.db
      .selectFrom("suppressions")
      .select("address")
      .where("address", "like", "long%")
      .execute();
    expect(stored).toEqual([]);
  });

  it("answers 413 to a body over the byte limit, announced or streamed", async () => {
    const body = "email\n" + Array.from({ length: 400 }, (_, i) => `big${i}@example.com`).join("\n");
    const announced = await c.send("POST", "/v1/clean", body, csvType);
    expect(announced.status).toBe(413);
    expect((await announced.json()).error).toMatchObject({
      code: "payload_too_large",
      details: { maxBytes: 4_000 },
    });
    // Chunked (no Content-Length): refused once the limit is passed.
    const chunks = Readable.from([Buffer.from(body.slice(0, 3_000)), Buffer.from(body.slice(3_000))]);
    const streamed = await fetch(`${small.url}/v1/suppressions/import`, {
      method: "POST",
      headers: { authorization: `Bearer ${c.token}`, ...csvType },
      body: chunks as unknown as ReadableStream,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect((await streamed.json()).error.details).toEqual({ maxBytes: 4_000 });
  });

  it("answers 429 with Retry-After to a bulk request beyond the cap, and takes one again once it is free", async () => {
    // A list cleaning whose body never ends holds the one place (made again should a polling request have
    // taken the place first, and the held one been refused).
    const url = new URL(`${small.url}/v1/clean`);
    const hold = () => {
      const req = request({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        headers: { authorization: `Bearer ${c.token}`, "content-type": "text/csv" },
      });
      const h = { req, answered: false };
      req.on("error", () => undefined);
      req.on("response", (r) => {
        h.answered = true;
        r.resume();
      });
      req.write("email\nheld@example.com\n");
      return h;
    };
    let held = hold();
    const refused = await until(
      async () => {
        if (held.answered) held = hold();
        const r = await c.send("POST", "/v1/suppressions/import", "email\nq@example.com\n", csvType);
        return r.status === 429 && !held.answered ? r : (await r.body?.cancel(), undefined);
      },
      { ms: 10_000, what: "the held request to take the place" },
    );
    expect(refused.headers.get("retry-after")).toBe("5");
    expect((await refused.json()).error).toMatchObject({
      code: "too_many_bulk_requests",
      details: { maxBulkRequests: 1 },
    });
    held.req.destroy();
    const again = await until(
      async () => {
        const r = await c.send("POST", "/v1/clean", "email\nok@example.com\n", csvType);
        return r.status === 200 ? r : (await r.body?.cancel(), undefined);
      },
      { ms: 10_000, what: "the place to be free" },
    );
    expect(await again.text()).toBe("email\nok@example.com\n");
  });
});
