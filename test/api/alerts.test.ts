// GET /v1/alerts/blocks over a real PostgreSQL schema: blocks the policy counted, per stream, provider and
// reason, the tenant's only, marked `alerting` from the configured threshold (or the query's).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testHash as hashAddress } from "../helpers/db.js";
import { insertEvent } from "../../src/store/events.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { client, enc, startTestApi, type Client, type TestApi } from "./helpers.js";

let t: TestDb;
let api: TestApi;
let acme: Client;
let other: Client;
let seq = 0;

const MIN = 60_000;

/** One event as the worker records it; `count: false` is a block the policy did not count (unverified). */
async function block(
  tenant: string,
  stream: string,
  domain: string,
  provider: string,
  reason: string,
  o: { minutesAgo?: number; counted?: boolean; cls?: string } = {},
) {
  const address = `r${++seq}@${domain}`;
  const counted = o.counted ?? true;
  await insertEvent(t.db, {
    mailId: null,
    source: "mail",
    tenant,
    stream,
    address,
    addressHash: hashAddress(address),
    addressOriginal: address,
    recipientDomain: domain,
    kind: "bounce",
    reason,
    class: o.cls ?? "block",
    verified: counted,
    decision: counted
      ? { action: "count", rule: "policy.block", count: { stream, provider } }
      : { action: "record", rule: "policy.unverified" },
    occurredAt: new Date(Date.now() - (o.minutesAgo ?? 1) * MIN),
  });
}

beforeAll(async () => {
  t = await createTestDb();
  api = await startTestApi(t.db, { blockAlertThreshold: 3, blockAlertWindowMinutes: 60 });
  acme = await client(t.db, api, "acme", ["read"]);
  other = await client(t.db, api, "other", ["read"]);

  // acme/marketing at Google: 3 blacklisted + 1 blocked (over the threshold of 3 in total and for one reason).
  for (let i = 0; i < 3; i++) await block("acme", "marketing", "gmail.com", "google", "blacklisted");
  await block("acme", "marketing", "googlemail.com", "google", "blocked");
  // acme/marketing at Microsoft: 2 (under).
  for (let i = 0; i < 2; i++) await block("acme", "marketing", "outlook.com", "microsoft", "blocked");
  // acme/receipts at Google: 1, plus 5 from two hours ago (outside the default window).
  await block("acme", "receipts", "gmail.com", "google", "blocked");
  for (let i = 0; i < 5; i++)
    await block("acme", "receipts", "gmail.com", "google", "blocked", { minutesAgo: 120 });
  // Not counted: an unverified block, and a hard bounce.
  for (let i = 0; i < 4; i++)
    await block("acme", "receipts", "yahoo.com", "yahoo", "blocked", { counted: false });
  await block("acme", "marketing", "gmail.com", "google", "userunknown", { cls: "hard" });
  // Another tenant's blocks at the same provider and stream: never in acme's answer.
  for (let i = 0; i < 7; i++) await block("other", "marketing", "gmail.com", "google", "blacklisted");
});

afterAll(async () => {
  await api?.close();
  await t?.drop();
});

describe("GET /v1/alerts/blocks", () => {
  it("counts the tenant's blocks in the default window per stream, provider and reason and marks those over the threshold", async () => {
    const res = await acme.get("/v1/alerts/blocks");
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.threshold).toBe(3);
    expect(body.alerting).toBe(true);
    expect(new Date(body.until).getTime() - new Date(body.since).getTime()).toBe(60 * MIN);
    expect(body.providers).toEqual([
      { stream: "marketing", provider: "google", count: 4, alerting: true },
      { stream: "marketing", provider: "microsoft", count: 2, alerting: false },
      { stream: "receipts", provider: "google", count: 1, alerting: false },
    ]);
    expect(body.blocks).toEqual([
      { stream: "marketing", provider: "google", reason: "blacklisted", count: 3, alerting: true },
      { stream: "marketing", provider: "microsoft", reason: "blocked", count: 2, alerting: false },
      { stream: "marketing", provider: "google", reason: "blocked", count: 1, alerting: false },
      { stream: "receipts", provider: "google", reason: "blocked", count: 1, alerting: false },
    ]);
  });

  it("shows only the asking key's tenant", async () => {
    const body = await (await other.get("/v1/alerts/blocks")).json();
    expect(body.providers).toEqual([{ stream: "marketing", provider: "google", count: 7, alerting: true }]);
    expect(body.blocks).toEqual([
      { stream: "marketing", provider: "google", reason: "blacklisted", count: 7, alerting: true },
    ]);
  });

  it("widens the window with since and takes a threshold and a stream from the query", async () => {
    const since = new Date(Date.now() - 3 * 60 * MIN).toISOString();
    const body = await (
      await acme.get(`/v1/alerts/blocks?since=${enc(since)}&threshold=6&stream=receipts`)
    ).json();
    expect(body.since).toBe(since);
    expect(body.threshold).toBe(6);
    expect(body.providers).toEqual([{ stream: "receipts", provider: "google", count: 6, alerting: true }]);
    expect(body.alerting).toBe(true);
  });

  it("is not alerting when nothing reaches the threshold", async () => {
    const body = await (await acme.get("/v1/alerts/blocks?threshold=5")).json();
    expect(body.alerting).toBe(false);
    expect(body.providers.every((p: { alerting: boolean }) => !p.alerting)).toBe(true);
  });

  it("names a block's provider from the provider list: null when the count kept none, other for a name outside the list", async () => {
    // Decisions recorded before the policy kept the provider, and one with a name the list no longer has.
    await insertEvent(t.db, {
      mailId: null,
      source: "mail",
      tenant: "legacy",
      stream: "news",
      address: "old@example.net",
      addressHash: hashAddress("old@example.net"),
      addressOriginal: "old@example.net",
      recipientDomain: "example.net",
      kind: "bounce",
      reason: "blocked",
      class: "block",
      verified: true,
      decision: { action: "count", rule: "policy.block", count: { stream: "news" } },
      occurredAt: new Date(Date.now() - MIN),
    });
    await block("legacy", "news", "example.org", "hotmail-legacy", "blocked");
    const legacy = await client(t.db, api, "legacy", ["read"]);
    const res = await legacy.get("/v1/alerts/blocks");
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.blocks.map((b: { provider: string | null }) => b.provider).sort()).toEqual(
      [null, "other"].sort(),
    );
    expect(body.providers).toEqual([
      { stream: "news", provider: null, count: 1, alerting: false },
      { stream: "news", provider: "other", count: 1, alerting: false },
    ]);
    const spec = await (await fetch(`${api.url}/v1/openapi.json`)).json();
    const declared =
      spec.paths["/v1/alerts/blocks"].get.responses["200"].content["application/json"].schema.properties
        .blocks.items.properties.provider;
    expect(declared.enum).toEqual(expect.arrayContaining(["google", "other", null]));
    expect(declared.enum).not.toContain("unknown");
  });

  it("refuses requests without a key and a since that is not a date-time", async () => {
    expect((await fetch(`${api.url}/v1/alerts/blocks`)).status).toBe(401);
    const bad = await acme.get("/v1/alerts/blocks?since=yesterday");
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toBeDefined();
  });
});
