import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upsertSuppression } from "../../src/store/suppressions.js";
import { createTestDb, testHash as hashAddress, type TestDb, withHash } from "../helpers/db.js";
import { client, enc, startTestApi, type Client, type TestApi } from "./helpers.js";

let t: TestDb;
let api: TestApi;
let acme: Client;
let other: Client;

beforeAll(async () => {
  t = await createTestDb();
  const at = new Date("2026-01-01T00:00:00Z");
  await upsertSuppression(
    t.db,
    withHash({
      tenant: "acme",
      stream: "marketing",
      address: "hard@example.com",
      reason: "userunknown",
      class: "hard",
      source: "bounce",
      rule: "hard.default",
      at,
    }),
  );
  await upsertSuppression(
    t.db,
    withHash({
      tenant: "acme",
      stream: "*",
      address: "everywhere@example.com",
      reason: "feedback",
      class: "complaint",
      source: "complaint",
      rule: "complaint.all",
      at,
    }),
  );
  await upsertSuppression(
    t.db,
    withHash({
      tenant: "acme",
      stream: "transactional",
      address: "gone@example.com",
      reason: "mailboxfull",
      class: "soft",
      source: "soft_escalation",
      expiresAt: new Date("2026-01-02T00:00:00Z"),
      at,
    }),
  );
  await upsertSuppression(
    t.db,
    withHash({
      tenant: "other",
      stream: "marketing",
      address: "theirs@example.com",
      reason: "userunknown",
      class: "hard",
      source: "bounce",
      at,
    }),
  );
  api = await startTestApi(t.db);
  acme = await client(t.db, api, "acme");
  other = await client(t.db, api, "other");
});

afterAll(async () => {
  await api?.close();
  await t?.drop();
});

describe("single lookups", () => {
  it("says an address suppressed in the asked stream is suppressed, with reason, class and since", async () => {
    const res = await acme.get(`/v1/suppressions/${enc("Hard@EXAMPLE.com")}?stream=marketing`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({
      address: "hard@example.com",
      suppressed: true,
      reason: "userunknown",
      class: "hard",
      since: "2026-01-01T00:00:00.000Z",
      expiresAt: null,
    });
    expect(body.suppressions[0]).toMatchObject({
      stream: "marketing",
      source: "bounce",
      rule: "hard.default",
    });
  });

  it("says an address suppressed only in another stream is not suppressed in this one", async () => {
    const body = await (
      await acme.get(`/v1/suppressions/${enc("hard@example.com")}?stream=transactional`)
    ).json();
    expect(body.suppressed).toBe(false);
    expect(body.suppressions).toEqual([]);
  });

  it("applies a `*` suppression to every stream", async () => {
    const body = await (
      await acme.get(`/v1/suppressions/${enc("everywhere@example.com")}?stream=whatever`)
    ).json();
    expect(body).toMatchObject({ suppressed: true, class: "complaint" });
  });

  it("does not apply an expired suppression", async () => {
    const body = await (
      await acme.get(`/v1/suppressions/${enc("gone@example.com")}?stream=transactional`)
    ).json();
    expect(body.suppressed).toBe(false);
  });

  it("answers 400 with the reason for an invalid address", async () => {
    const res = await acme.get(`/v1/suppressions/${enc("not-an-address")}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: "invalid_address", details: { reason: "no_at_sign" } },
    });
  });

  it("never shows another tenant's suppression", async () => {
    const body = await (await acme.get(`/v1/suppressions/${enc("theirs@example.com")}`)).json();
    expect(body.suppressed).toBe(false);
    const theirs = await (await other.get(`/v1/suppressions/${enc("theirs@example.com")}`)).json();
    expect(theirs.suppressed).toBe(true);
  });
});

describe("batch check", () => {
  it("answers every address in the order asked, invalid ones with their reason", async () => {
    const res = await acme.send("POST", "/v1/suppressions/check", {
      stream: "marketing",
      addresses: [
        "fine@example.com",
        "HARD@example.com",
        "bad address",
        "everywhere@example.com",
        "theirs@example.com",
      ],
    });
    expect(res.status).toBe(200);
    const { results } = await res.json();
    expect(results.map((r: { suppressed: boolean }) => r.suppressed)).toEqual([
      false,
      true,
      false,
      true,
      false,
    ]);
    expect(results[1]).toMatchObject({
      address: "hard@example.com",
      valid: true,
      reason: "userunknown",
      stream: "marketing",
    });
    expect(results[2]).toMatchObject({ address: "bad address", valid: false, error: { code: "no_at_sign" } });
    expect(results[3]).toMatchObject({ stream: "*", class: "complaint" });
  });

  it("refuses more than 10,000 addresses", async () => {
    const addresses = Array.from({ length: 10_001 }, (_, i) => `u${i}@example.com`);
    const res = await acme.send("POST", "/v1/suppressions/check", { addresses });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe("validation_failed");
  });
});

describe("corrections by hand", () => {
  it("adds a suppression with PUT, recorded with the key, and finds it at once", async () => {
    const res = await acme.send("PUT", `/v1/suppressions/${enc("Manual@Example.com")}`, {
      stream: "marketing",
      reason: "hasmoved",
      note: "asked us by phone",
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({
      address: "manual@example.com",
      stream: "marketing",
      reason: "hasmoved",
      class: "hard",
      source: "manual",
      note: "asked us by phone",
      createdBy: acme.keyId,
    });
    const look = await (
      await acme.get(`/v1/suppressions/${enc("manual@example.com")}?stream=marketing`)
    ).json();
    expect(look.suppressed).toBe(true);
    const again = await acme.send("PUT", `/v1/suppressions/${enc("manual@example.com")}`, {
      stream: "marketing",
    });
    expect(again.status).toBe(200);
  });

  it("refuses an expiry in the past and unknown fields", async () => {
    expect(
      (
        await acme.send("PUT", `/v1/suppressions/${enc("x@example.com")}`, {
          expiresAt: "2000-01-01T00:00:00Z",
        })
      ).status,
    ).toBe(400);
    const res = await acme.send("PUT", `/v1/suppressions/${enc("x@example.com")}`, { reasn: "typo" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "validation_failed" } });
  });

  it("removes a suppression with DELETE, logs who and why, and the address is mailable again", async () => {
    await acme.send("PUT", `/v1/suppressions/${enc("removeme@example.com")}`, { stream: "transactional" });
    const res = await acme.send(
      "DELETE",
      `/v1/suppressions/${enc("removeme@example.com")}?stream=transactional&note=${enc("customer asked")}`,
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ address: "removeme@example.com", removed: ["transactional"] });
    const look = await (
      await acme.get(`/v1/suppressions/${enc("removeme@example.com")}?stream=transactional`)
    ).json();
    expect(look.suppressed).toBe(false);
    const log = await t.db
      .selectFrom("suppression_log")
      .selectAll()
      .where("address", "=", "removeme@example.com")
      .where("action", "=", "removed")
      .executeTakeFirstOrThrow();
    expect(log).toMatchObject({ actor: acme.keyId, note: "customer asked", tenant: "acme" });
    expect((await acme.send("DELETE", `/v1/suppressions/${enc("removeme@example.com")}`)).status).toBe(404);
  });

  it("cannot remove or see another tenant's suppression", async () => {
    expect((await acme.send("DELETE", `/v1/suppressions/${enc("theirs@example.com")}`)).status).toBe(404);
    expect((await (await other.get(`/v1/suppressions/${enc("theirs@example.com")}`)).json()).suppressed).toBe(
      true,
    );
  });

  it("refuses writes to a read-only key", async () => {
    const reader = await client(t.db, api, "acme", ["read"]);
    const res = await reader.send("PUT", `/v1/suppressions/${enc("ro@example.com")}`, {});
    expect(res.status).toBe(403);
    expect((await res.json()).error.code).toBe("forbidden");
  });
});

describe("browsing", () => {
  it("pages through a tenant's suppressions with filters and cursors, newest first", async () => {
    for (let i = 0; i < 5; i++)
      await acme.send("PUT", `/v1/suppressions/${enc(`page${i}@example.com`)}`, {
        stream: "paging",
        reason: "userunknown",
      });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: Response = await acme.get(
        `/v1/suppressions?stream=paging&limit=2${cursor ? `&cursor=${enc(cursor)}` : ""}`,
      );
      expect(res.status).toBe(200);
      const body = await res.json();
      seen.push(...body.data.map((s: { address: string }) => s.address));
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([
      "page4@example.com",
      "page3@example.com",
      "page2@example.com",
      "page1@example.com",
      "page0@example.com",
    ]);
    const byReason = await (await acme.get(`/v1/suppressions?reason=feedback`)).json();
    expect(byReason.data.map((s: { address: string }) => s.address)).toEqual(["everywhere@example.com"]);
    const theirs = await (await other.get(`/v1/suppressions?limit=1000`)).json();
    expect(theirs.data.map((s: { address: string }) => s.address)).toEqual(["theirs@example.com"]);
  });

  it("finds one address's suppressions by its keyed hash, in the key's tenant only, and refuses a malformed hash", async () => {
    await acme.send("PUT", `/v1/suppressions/${enc("by.hash@example.com")}`, {
      stream: "a",
      reason: "userunknown",
    });
    await acme.send("PUT", `/v1/suppressions/${enc("by.hash@example.com")}`, {
      stream: "b",
      reason: "suppressed",
    });
    await acme.send("PUT", `/v1/suppressions/${enc("not.this@example.com")}`, {
      stream: "a",
      reason: "userunknown",
    });
    await other.send("PUT", `/v1/suppressions/${enc("by.hash@example.com")}`, {
      stream: "a",
      reason: "userunknown",
    });
    const hash = hashAddress("by.hash@example.com");
    const found = await (await acme.get(`/v1/suppressions?addressHash=${hash}`)).json();
    expect(found.data.map((s: { address: string; stream: string }) => [s.address, s.stream]).sort()).toEqual([
      ["by.hash@example.com", "a"],
      ["by.hash@example.com", "b"],
    ]);
    expect(found.data.every((s: { addressHash: string }) => s.addressHash === hash)).toBe(true);
    const bad = await acme.get(`/v1/suppressions?addressHash=${hash.toUpperCase()}`);
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe("validation_failed");
  });

  it("refuses a tampered cursor, a cursor for other filters, and another key's cursor", async () => {
    const body = await (await acme.get(`/v1/suppressions?stream=paging&limit=1`)).json();
    const cursor: string = body.nextCursor;
    const [payload, sig] = cursor.split(".");
    const forged =
      Buffer.from(
        JSON.stringify({ id: "999999", f: JSON.parse(Buffer.from(payload!, "base64url").toString()).f }),
      ).toString("base64url") +
      "." +
      sig;
    for (const [who, path] of [
      [acme, `/v1/suppressions?stream=paging&limit=1&cursor=${enc(forged)}`],
      [acme, `/v1/suppressions?stream=other&limit=1&cursor=${enc(cursor)}`],
      [other, `/v1/suppressions?stream=paging&limit=1&cursor=${enc(cursor)}`],
      [acme, `/v1/suppressions?cursor=garbage`],
    ] as const) {
      const res = await who.get(path);
      expect(res.status).toBe(400);
      expect((await res.json()).error.code).toBe("invalid_cursor");
    }
  });
});
