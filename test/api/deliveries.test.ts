import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testHash as hashAddress } from "../helpers/db.js";
import { getAddressState } from "../../src/store/address-state.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { bounceThroughWorker, verpOverrides } from "./bounce-helper.js";
import { client, enc, startTestApi, type Client, type TestApi } from "./helpers.js";

let t: TestDb;
let api: TestApi;
let acme: Client;
let acmeReader: Client;
let other: Client;

beforeAll(async () => {
  t = await createTestDb();
  api = await startTestApi(t.db, verpOverrides);
  acme = await client(t.db, api, "acme", ["read", "write"]);
  acmeReader = await client(t.db, api, "acme", ["read"]);
  other = await client(t.db, api, "other", ["read", "write"]);
});

afterAll(async () => {
  await api?.close();
  await t?.drop();
});

const state = (tenant: string, stream: string, address: string) =>
  getAddressState(t.db, { tenant, stream, addressHash: hashAddress(address) });

describe("POST /v1/deliveries", () => {
  it("records a reported delivery as an api event and resets the soft-bounce state of that stream only", async () => {
    const address = "full@example.com";
    await bounceThroughWorker(t.db, acme, "dsn-soft-mailboxfull", address, "marketing");
    await bounceThroughWorker(t.db, acme, "dsn-soft-mailboxfull", address, "transactional");
    await bounceThroughWorker(t.db, other, "dsn-soft-mailboxfull", address, "marketing");
    const soft = await state("acme", "marketing", address);
    expect(soft?.nextRetryAt).toBeInstanceOf(Date);

    const res = await acme.send("POST", "/v1/deliveries", {
      recipient: " Full@Example.COM ",
      stream: "marketing",
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ accepted: 1, rejected: 0 });
    expect(body.results[0]).toMatchObject({
      index: 0,
      ok: true,
      recipient: address,
      stream: "marketing",
      action: "reset",
    });

    const after = await state("acme", "marketing", address);
    expect(after).toMatchObject({ softLevel: 0, nextRetryAt: null });
    expect(after?.lastDeliveryAt).toBeInstanceOf(Date);
    // Another stream and another tenant keep their soft-bounce state.
    expect((await state("acme", "transactional", address))?.nextRetryAt).toBeInstanceOf(Date);
    expect((await state("other", "marketing", address))?.nextRetryAt).toBeInstanceOf(Date);

    const history = await (await acme.get(`/v1/events?address=${enc(address)}&stream=marketing`)).json();
    expect(history.data[0]).toMatchObject({
      id: body.results[0].eventId,
      source: "api",
      class: "delivered",
      reason: "delivered",
      kind: "delivery",
      mailId: null,
    });
    expect(history.data[1]).toMatchObject({ source: "mail", class: "soft", reason: "mailboxfull" });
    // The policy's decision, with its rule and the state it replaced.
    expect(history.data[0].decision).toMatchObject({
      action: "reset",
      rule: "policy.delivered",
      state: { softLevel: 0 },
    });
    expect(history.data[0].decision.stateBefore.nextRetryAt).not.toBeNull();
  });

  it("takes a batch: invalid rows are reported in order and the valid ones kept", async () => {
    const res = await acme.send("POST", "/v1/deliveries", {
      deliveries: [
        { recipient: "one@example.com", stream: "marketing" },
        { recipient: "no-at-sign" },
        { recipient: "two@example.com", stream: "Not A Stream!" },
        { recipient: "three@example.com", occurredAt: "2026-01-01T00:00:00Z" },
        { recipient: "four@example.com", occurredAt: "2999-01-01T00:00:00Z" },
      ],
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ accepted: 2, rejected: 3 });
    expect(body.results.map((r: { index: number; ok: boolean }) => [r.index, r.ok])).toEqual([
      [0, true],
      [1, false],
      [2, false],
      [3, true],
      [4, false],
    ]);
    expect(body.results[1].error.code).toBe("invalid_address");
    expect(body.results[2].error.code).toBe("validation_failed");
    expect(body.results[4].error.message).toContain("future");
    // The default stream applies when none is named.
    expect(body.results[3]).toMatchObject({ recipient: "three@example.com", stream: "default" });
    const three = await (await acme.get(`/v1/events?address=three@example.com`)).json();
    expect(three.data[0].occurredAt).toBe("2026-01-01T00:00:00.000Z");
    const two = await (await acme.get(`/v1/events?address=two@example.com`)).json();
    expect(two.data).toEqual([]);
  });

  it("refuses bad requests with clear errors and writes nothing", async () => {
    const cases: [unknown, number, string][] = [
      [{ recipient: "no-at-sign" }, 400, "invalid_address"],
      [{}, 400, "validation_failed"],
      [{ stream: "marketing" }, 400, "validation_failed"],
      [
        { recipient: "a@example.com", deliveries: [{ recipient: "b@example.com" }] },
        400,
        "validation_failed",
      ],
      [{ recipient: "a@example.com", colour: "blue" }, 400, "validation_failed"],
      [{ deliveries: [] }, 400, "validation_failed"],
      ["{not json", 400, "malformed_json"],
    ];
    for (const [body, status, code] of cases) {
      const res = await acme.send(
        "POST",
        "/v1/deliveries",
        body,
        typeof body === "string" ? { "content-type": "application/json" } : {},
      );
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect((await res.json()).error.code, JSON.stringify(body)).toBe(code);
    }
    const events = await t.db
      .selectFrom("events")
      .select("id")
      .where("address", "in", ["a@example.com", "b@example.com"])
      .execute();
    expect(events).toEqual([]);
  });

  it("needs the write scope", async () => {
    const res = await acmeReader.send("POST", "/v1/deliveries", { recipient: "x@example.com" });
    expect(res.status).toBe(403);
    expect((await res.json()).error.code).toBe("forbidden");
  });
});

describe("GET /v1/events", () => {
  it("pages an address's history newest first with a cursor bound to the key and the filters", async () => {
    const address = "paged@example.com";
    const deliveries = [1, 2, 3, 4, 5].map((d) => ({
      recipient: address,
      stream: "marketing",
      occurredAt: `2026-02-0${d}T00:00:00Z`,
    }));
    expect((await acme.send("POST", "/v1/deliveries", { deliveries })).status).toBe(200);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await acme.get(
        `/v1/events?address=${enc(address)}&limit=2${cursor ? `&cursor=${enc(cursor)}` : ""}`,
      );
      expect(res.status).toBe(200);
      const page = await res.json();
      seen.push(...page.data.map((e: { occurredAt: string }) => e.occurredAt.slice(0, 10)));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(["2026-02-05", "2026-02-04", "2026-02-03", "2026-02-02", "2026-02-01"]);

    const first = await (await acme.get(`/v1/events?address=${enc(address)}&limit=2`)).json();
    const tries = [
      `/v1/events?address=${enc(address)}&limit=2&cursor=${enc(first.nextCursor.replace(/^./, (c: string) => (c === "e" ? "f" : "e")))}`,
      `/v1/events?address=${enc("other@example.com")}&limit=2&cursor=${enc(first.nextCursor)}`,
      `/v1/events?address=${enc(address)}&limit=2&cursor=garbage`,
    ];
    for (const path of tries) {
      const res = await acme.get(path);
      expect(res.status, path).toBe(400);
      expect((await res.json()).error.code).toBe("invalid_cursor");
    }
    // Another key (even of the same tenant) cannot use this key's cursor.
    const res = await acmeReader.get(
      `/v1/events?address=${enc(address)}&limit=2&cursor=${enc(first.nextCursor)}`,
    );
    expect(res.status).toBe(400);
  });

  it("filters by class and time, and refuses an invalid address or unknown parameter", async () => {
    const only = await (await acme.get(`/v1/events?class=soft`)).json();
    expect(only.data.length).toBeGreaterThan(0);
    expect(only.data.every((e: { class: string }) => e.class === "soft")).toBe(true);
    const window = await (
      await acme.get(
        `/v1/events?address=paged@example.com&since=2026-02-02T00:00:00Z&until=2026-02-04T00:00:00Z`,
      )
    ).json();
    expect(window.data.map((e: { occurredAt: string }) => e.occurredAt.slice(0, 10))).toEqual([
      "2026-02-03",
      "2026-02-02",
    ]);
    const bad = await acme.get(`/v1/events?address=${enc("not an address")}`);
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe("invalid_address");
    const unknown = await acme.get(`/v1/events?colour=blue`);
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).error.code).toBe("validation_failed");
  });

  it("shows a tenant only its own events", async () => {
    const mine = await (await other.get(`/v1/events?address=paged@example.com`)).json();
    expect(mine.data).toEqual([]);
    const all = await (await other.get(`/v1/events?limit=1000`)).json();
    expect(all.data.length).toBeGreaterThan(0);
    expect(all.data.every((e: { recipient: string }) => e.recipient === "full@example.com")).toBe(true);
    expect(all.data[0]).not.toHaveProperty("tenant");
  });
});
