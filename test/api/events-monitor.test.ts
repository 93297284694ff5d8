// GET /v1/events with what ties an event to its send (provider, campaign, sending IP, sent at) and the filters
// on them; GET /v1/stats/suppressions from the suppression log.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { bounceThroughWorker, verpOverrides } from "./bounce-helper.js";
import { client, enc, startTestApi, type Client, type TestApi } from "./helpers.js";

let t: TestDb;
let api: TestApi;
let acme: Client;
let other: Client;

const H = 3_600_000;
const NOW = new Date();
const SENT = new Date(Math.floor((NOW.getTime() - 3 * H) / 1000) * 1000);
const TIED = randomUUID();

beforeAll(async () => {
  t = await createTestDb();
  api = await startTestApi(t.db, verpOverrides);
  acme = await client(t.db, api, "acme", ["read", "write"]);
  other = await client(t.db, api, "other", ["read", "write"]);
  const send = JSON.stringify({
    recipient: "tied@gmail.com",
    stream: "marketing",
    campaign: "spring",
    sendingIp: "192.0.2.7",
    messageId: `<orig-${TIED}@sender.example>`,
    sentAt: SENT.toISOString(),
  });
  const res = await acme.send("POST", "/v1/sends", send, { "content-type": "application/x-ndjson" });
  expect((await res.json()).accepted).toBe(1);
  await bounceThroughWorker(t.db, acme, "dsn-hard", "tied@gmail.com", "marketing", NOW, TIED);
  await bounceThroughWorker(t.db, acme, "dsn-hard", "loose@outlook.com", "marketing", NOW);
  await bounceThroughWorker(t.db, acme, "arf-complaint", "angry@gmail.com", "news", NOW);
});
afterAll(async () => {
  await api?.close();
  await t?.drop();
});

type Ev = { recipient: string; provider: string | null; campaign: string | null; sendingIp: string | null };
const recipients = async (c: Client, q: string) => {
  const res = await c.get(`/v1/events?${q}`);
  expect(res.status, q).toBe(200);
  return ((await res.json()).data as Ev[]).map((e) => e.recipient).sort();
};

describe("GET /v1/events: what ties an event to its send", () => {
  it("gives a tied event its send's provider, campaign, sending IP and time, and an untied one nulls", async () => {
    const body = await (await acme.get("/v1/events")).json();
    const tied = body.data.find((e: Ev) => e.recipient === "tied@gmail.com");
    expect(tied).toMatchObject({
      provider: "google",
      campaign: "spring",
      sendingIp: "192.0.2.7",
      sentAt: SENT.toISOString(),
    });
    const loose = body.data.find((e: Ev) => e.recipient === "loose@outlook.com");
    expect(loose).toMatchObject({ provider: "microsoft", campaign: null, sendingIp: null, sentAt: null });
  });

  it("filters by provider, campaign, class, reason and stream", async () => {
    expect(await recipients(acme, "provider=google")).toEqual(["angry@gmail.com", "tied@gmail.com"]);
    expect(await recipients(acme, "campaign=spring")).toEqual(["tied@gmail.com"]);
    expect(await recipients(acme, "class=complaint")).toEqual(["angry@gmail.com"]);
    expect(await recipients(acme, "reason=userunknown&provider=microsoft")).toEqual(["loose@outlook.com"]);
    expect(await recipients(acme, "stream=news")).toEqual(["angry@gmail.com"]);
    expect(await recipients(other, "provider=google")).toEqual([]);
  });

  it("filters by from and to (occurred at), as since and until do", async () => {
    const before = new Date(NOW.getTime() - H).toISOString();
    const after = new Date(NOW.getTime() + H).toISOString();
    expect(await recipients(acme, `from=${enc(after)}`)).toEqual([]);
    expect(await recipients(acme, `to=${enc(before)}`)).toEqual([]);
    expect(await recipients(acme, `from=${enc(before)}&to=${enc(after)}&class=hard`)).toEqual([
      "loose@outlook.com",
      "tied@gmail.com",
    ]);
  });

  it("refuses an unknown provider or reason with the API's error shape", async () => {
    for (const q of ["provider=aol", "reason=nosuchreason", "from=yesterday"]) {
      const res = await acme.get(`/v1/events?${q}`);
      expect(res.status, q).toBe(400);
      expect((await res.json()).error.code, q).toBe("validation_failed");
    }
  });
});

describe("GET /v1/stats/suppressions", () => {
  it("counts suppressions added and removed per day, a point for every day", async () => {
    const del = await acme.send("DELETE", `/v1/suppressions/${enc("tied@gmail.com")}?stream=marketing`);
    expect(del.status).toBeLessThan(300);
    const from = new Date(NOW.getTime() - 2 * 24 * H).toISOString();
    const res = await acme.get(`/v1/stats/suppressions?from=${enc(from)}&granularity=day`);
    expect(res.status).toBe(200);
    const { points } = await res.json();
    expect(points.length).toBeGreaterThanOrEqual(3);
    for (const p of points) expect(p.t.endsWith("T00:00:00.000Z")).toBe(true);
    const sum = (k: "added" | "removed") =>
      points.reduce((n: number, p: Record<string, number>) => n + p[k]!, 0);
    // The two hard bounces and the complaint suppress; one is removed by hand.
    expect([sum("added"), sum("removed")]).toEqual([3, 1]);
    const mine = await (await other.get(`/v1/stats/suppressions?from=${enc(from)}`)).json();
    expect(mine.points.every((p: { added: number }) => p.added === 0)).toBe(true);
  });

  it("counts by hour on request and refuses a backwards window or an unreadable date", async () => {
    const { points } = await (await acme.get("/v1/stats/suppressions?granularity=hour")).json();
    expect(points).toHaveLength(24);
    const bad = await acme.get(
      `/v1/stats/suppressions?granularity=hour&from=${enc(NOW.toISOString())}&to=${enc(new Date(NOW.getTime() - 2 * H).toISOString())}`,
    );
    expect(bad.status).toBe(400);
    // A leap second passes the date-time format but is no Date: refused, not a 500.
    for (const path of ["/v1/stats/suppressions", "/v1/stats"]) {
      const leap = await acme.get(`${path}?to=${enc("2026-12-31T23:59:60Z")}`);
      expect(leap.status, path).toBe(400);
    }
  });
});
