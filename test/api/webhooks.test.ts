import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import { emitOutbox } from "../../src/store/outbox.js";
import { verifySignature } from "../../src/webhooks/sign.js";
import { WEBHOOK_EVENTS } from "../../src/webhooks/events.js";
import { startWebhookWorker, type WebhookWorker } from "../../src/webhooks/worker.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { startReceiver, waitFor, type Receiver } from "../webhooks/receiver.js";
import { client, type Client, type TestApi, startTestApi } from "./helpers.js";

/** The receiver listens on loopback: an internal network, allowed as an operator would. */
const LOOPBACK_ALLOWED = ["127.0.0.0/8"];

let t: TestDb;
let api: TestApi;
let admin: Client;
let reader: Client;
let otherAdmin: Client;
let worker: WebhookWorker;
let receiver: Receiver;
/** The receiver's answers: scripted per test. */
let answer: (n: number) => number = () => 200;

beforeAll(async () => {
  t = await createTestDb();
  api = await startTestApi(t.db, { webhookAllowedNetworks: LOOPBACK_ALLOWED });
  admin = await client(t.db, api, "acme", ["admin"]);
  reader = await client(t.db, api, "acme", ["read", "write"]);
  otherAdmin = await client(t.db, api, "other", ["admin"]);
  receiver = await startReceiver((n) => answer(n));
  worker = startWebhookWorker(
    { db: t.db, logger: createLogger("silent") },
    {
      pollIntervalMs: 25,
      backoffBaseMs: 25,
      backoffMaxMs: 100,
      maxAttempts: 3,
      timeoutMs: 2_000,
      allowedNetworks: LOOPBACK_ALLOWED,
    },
  );
});

afterAll(async () => {
  await worker?.stop();
  await receiver?.close();
  await api?.close();
  await t?.drop();
});

async function register(c: Client, body: Record<string, unknown>) {
  const res = await c.send("POST", "/v1/webhooks", body);
  expect(res.status).toBe(201);
  return res.json();
}

async function deliveriesUntil(c: Client, webhookId: string, done: (d: { status: string }[]) => boolean) {
  return waitFor(async () => {
    const res = await c.get(`/v1/webhooks/${webhookId}/deliveries`);
    const body = await res.json();
    return done(body.data) ? body.data : undefined;
  }, "the delivery log");
}

describe("/v1/webhooks", () => {
  it("registers an endpoint, shows its secret once, lists and deletes it", async () => {
    const w = await register(admin, {
      url: "https://hooks.example.com/rebound",
      events: ["bounce.hard"],
      description: "CRM",
    });
    expect(w).toMatchObject({
      url: "https://hooks.example.com/rebound",
      events: ["bounce.hard"],
      description: "CRM",
    });
    expect(w.id).toMatch(/^wh_/);
    expect(w.secret).toMatch(/^whsec_/);

    const list = await (await reader.get("/v1/webhooks")).json();
    expect(list.data.map((x: { id: string }) => x.id)).toContain(w.id);
    for (const x of list.data) expect(x).not.toHaveProperty("secret");
    const one = await (await reader.get(`/v1/webhooks/${w.id}`)).json();
    expect(one).toMatchObject({ id: w.id, url: w.url });
    expect(one).not.toHaveProperty("secret");

    expect((await admin.send("DELETE", `/v1/webhooks/${w.id}`)).status).toBe(204);
    const gone = await reader.get(`/v1/webhooks/${w.id}`);
    expect(gone.status).toBe(404);
    expect((await gone.json()).error.code).toBe("not_found");
  });

  it("subscribes to every event type when none are named", async () => {
    const w = await register(admin, { url: "http://127.0.0.1:1/all" });
    expect(w.events).toEqual([...WEBHOOK_EVENTS]);
    await admin.send("DELETE", `/v1/webhooks/${w.id}`);
  });

  it("refuses bad URLs, unknown events and unknown fields, in the one error shape", async () => {
    for (const body of [
      { url: "not a url" },
      { url: "ftp://example.com/x" },
      { url: "https://user:pw@example.com/x" },
      { url: "https://example.com/x", events: ["bounce.maybe"] },
      { url: "https://example.com/x", events: [] },
      { url: "https://example.com/x", secret: "mine" },
    ]) {
      const res = await admin.send("POST", "/v1/webhooks", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const err = await res.json();
      expect(err.error.code).toBe("validation_failed");
      expect(typeof err.error.message).toBe("string");
    }
  });

  it("refuses endpoints on loopback, link-local and private addresses, or localhost, with the reason", async () => {
    // An API with the default policy: only public addresses.
    const strictApi = await startTestApi(t.db);
    try {
      const strict = await client(t.db, strictApi, "acme", ["admin"]);
      for (const [url, reason] of [
        ["http://127.0.0.1:6379/", "destination 127.0.0.1 is not a public address (loopback)"],
        [
          "http://169.254.169.254/latest/meta-data/",
          "destination 169.254.169.254 is not a public address (link-local)",
        ],
        ["http://[::1]:5432/", "destination ::1 is not a public address (loopback)"],
        ["http://[::ffff:127.0.0.1]:6379/", "destination ::ffff:7f00:1 is not a public address (loopback)"],
        ["http://[fe80::1]/", "destination fe80::1 is not a public address (link-local)"],
        ["https://10.0.0.5/hooks", "destination 10.0.0.5 is not a public address (private)"],
        ["http://2130706433/", "destination 127.0.0.1 is not a public address (loopback)"],
        ["http://0.0.0.0:8025/", "destination 0.0.0.0 is not a public address (unspecified)"],
        [
          "http://localhost:8080/hooks",
          "destination localhost (127.0.0.1) is not a public address (loopback)",
        ],
      ]) {
        const res = await strict.send("POST", "/v1/webhooks", { url });
        expect(res.status, url).toBe(400);
        const err = await res.json();
        expect(err.error.code).toBe("validation_failed");
        expect(err.error.message).toBe(
          `url refused: ${reason}; an operator may allow its network with REBOUND_WEBHOOK_ALLOWED_NETWORKS`,
        );
      }
      expect(
        (await (await strict.get("/v1/webhooks")).json()).data.map((w: { url: string }) => w.url),
      ).not.toContain("http://127.0.0.1:6379/");
      // Names other than localhost are checked at delivery, on the address connected to.
      const named = await strict.send("POST", "/v1/webhooks", { url: "https://hooks.example.com/x" });
      expect(named.status).toBe(201);
      await strict.send("DELETE", `/v1/webhooks/${(await named.json()).id}`);
    } finally {
      await strictApi.close();
    }
    // The operator's allowed network is allowed; the rest of the private space is not.
    const allowed = await register(admin, { url: "http://127.0.0.1:6379/" });
    await admin.send("DELETE", `/v1/webhooks/${allowed.id}`);
    expect((await admin.send("POST", "/v1/webhooks", { url: "http://169.254.169.254/" })).status).toBe(400);
  });

  it("needs the admin scope to register or delete, read to list", async () => {
    const res = await reader.send("POST", "/v1/webhooks", { url: "https://example.com/x" });
    expect(res.status).toBe(403);
    expect((await res.json()).error.code).toBe("forbidden");
    const w = await register(admin, { url: "https://example.com/y" });
    expect((await reader.send("DELETE", `/v1/webhooks/${w.id}`)).status).toBe(403);
    expect((await reader.get("/v1/webhooks")).status).toBe(200);
    expect((await admin.send("DELETE", `/v1/webhooks/${w.id}`)).status).toBe(204);
  });

  it("delivers signed events through a failing endpoint once it recovers, and shows the tries in the log", async () => {
    answer = (n) => (n <= 2 ? 500 : 200);
    receiver.received.length = 0;
    const w = await register(admin, { url: receiver.url, events: ["bounce.hard", "suppression.added"] });
    await emitOutbox(t.db, {
      tenant: "acme",
      type: "bounce.hard",
      payload: { address: "gone@example.com", stream: "marketing" },
    });
    // Not subscribed: never sent.
    await emitOutbox(t.db, { tenant: "acme", type: "complaint", payload: { address: "angry@example.com" } });

    const [d] = await deliveriesUntil(reader, w.id, (ds) => ds[0]?.status === "delivered");
    expect(d).toMatchObject({
      status: "delivered",
      attempts: 3,
      lastStatusCode: 200,
      eventType: "bounce.hard",
      webhookId: w.id,
    });
    expect(d).toHaveProperty("payload.address", "gone@example.com");

    expect(receiver.received).toHaveLength(3);
    for (const r of receiver.received) {
      const v = verifySignature(
        w.secret,
        String(r.headers["rebound-signature"]),
        r.body,
        Math.floor(Date.now() / 1000),
      );
      expect(v.ok).toBe(true);
      expect(JSON.parse(r.body)).toMatchObject({
        id: d.eventId,
        type: "bounce.hard",
        tenant: "acme",
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        data: { address: "gone@example.com" },
      });
    }
  });

  it("marks a delivery dead after the last try, and redelivers it on request", async () => {
    answer = () => 502;
    receiver.received.length = 0;
    const w = await register(admin, { url: receiver.url, events: ["suppression.removed"] });
    await emitOutbox(t.db, {
      tenant: "acme",
      type: "suppression.removed",
      payload: { address: "back@example.com" },
    });
    const [dead] = await deliveriesUntil(reader, w.id, (ds) => ds[0]?.status === "dead");
    expect(dead).toMatchObject({ status: "dead", attempts: 3, lastStatusCode: 502, nextAttemptAt: null });
    expect(dead.lastError).toContain("HTTP 502");
    const onlyDead = await (await reader.get(`/v1/webhooks/${w.id}/deliveries?status=dead`)).json();
    expect(onlyDead.data.map((x: { id: string }) => x.id)).toEqual([dead.id]);

    answer = () => 204;
    const re = await reader.send("POST", `/v1/webhooks/${w.id}/deliveries/${dead.id}/redeliver`);
    expect(re.status).toBe(202);
    expect(await re.json()).toMatchObject({ id: dead.id, status: "pending", attempts: 0 });
    const [ok] = await deliveriesUntil(reader, w.id, (ds) => ds[0]?.status === "delivered");
    expect(ok).toMatchObject({ id: dead.id, status: "delivered", attempts: 1, lastStatusCode: 204 });
    expect(receiver.received).toHaveLength(4);
  });

  it("pages the delivery log with a signed cursor and refuses a tampered one", async () => {
    answer = () => 200;
    const w = await register(admin, { url: receiver.url, events: ["bounce.block"] });
    for (let i = 0; i < 5; i++)
      await emitOutbox(t.db, { tenant: "acme", type: "bounce.block", payload: { i } });
    await deliveriesUntil(reader, w.id, (ds) => ds.length === 5 && ds.every((d) => d.status === "delivered"));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await reader.get(
        `/v1/webhooks/${w.id}/deliveries?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      const page = await res.json();
      seen.push(...page.data.map((d: { payload: { i: number } }) => d.payload.i));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([4, 3, 2, 1, 0]);

    const first = await (await reader.get(`/v1/webhooks/${w.id}/deliveries?limit=2`)).json();
    const tampered = `${first.nextCursor.slice(0, -2)}xx`;
    const bad = await reader.get(
      `/v1/webhooks/${w.id}/deliveries?limit=2&cursor=${encodeURIComponent(tampered)}`,
    );
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe("invalid_cursor");
    // A cursor made for the unfiltered log is not valid for a filtered one.
    const other = await reader.get(
      `/v1/webhooks/${w.id}/deliveries?limit=2&status=dead&cursor=${encodeURIComponent(first.nextCursor)}`,
    );
    expect(other.status).toBe(400);
  });

  it("pages the endpoints oldest first with limit and a signed cursor, past an endpoint deleted between pages", async () => {
    const pager = await client(t.db, api, "pager", ["admin"]);
    const made: string[] = [];
    for (let i = 0; i < 5; i++)
      made.push((await register(pager, { url: `https://hooks.example.com/p${i}` })).id);
    const all = await (await pager.get("/v1/webhooks")).json();
    expect(all.nextCursor).toBeNull();
    expect([...all.data.map((x: { id: string }) => x.id)].sort()).toEqual([...made].sort());

    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const res = await pager.get(
        `/v1/webhooks?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      expect(res.status).toBe(200);
      const page = await res.json();
      pages.push(page.data.map((x: { id: string }) => x.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(pages.flat()).toEqual(all.data.map((x: { id: string }) => x.id));

    // The endpoint a cursor points after is deleted: the next page starts after it all the same.
    const first = await (await pager.get("/v1/webhooks?limit=2")).json();
    expect((await pager.send("DELETE", `/v1/webhooks/${first.data[1].id}`)).status).toBe(204);
    const next = await (
      await pager.get(`/v1/webhooks?limit=2&cursor=${encodeURIComponent(first.nextCursor)}`)
    ).json();
    expect(next.data.map((x: { id: string }) => x.id)).toEqual(pages[1]);

    // A tampered cursor and one made by another key are refused; so is a limit out of range.
    const tampered = await pager.get(
      `/v1/webhooks?cursor=${encodeURIComponent(`${first.nextCursor.slice(0, -2)}xx`)}`,
    );
    expect(tampered.status).toBe(400);
    expect((await tampered.json()).error.code).toBe("invalid_cursor");
    expect((await admin.get(`/v1/webhooks?cursor=${encodeURIComponent(first.nextCursor)}`)).status).toBe(400);
    expect((await pager.get("/v1/webhooks?limit=0")).status).toBe(400);
    expect((await pager.get("/v1/webhooks?limit=101")).status).toBe(400);
  });

  it("keeps tenants apart: another tenant neither sees, changes nor receives acme's webhooks and events", async () => {
    answer = () => 200;
    const mine = await register(admin, { url: receiver.url, events: ["complaint"] });
    const theirs = await register(otherAdmin, { url: `${receiver.url}?tenant=other`, events: ["complaint"] });
    const list = await (await otherAdmin.get("/v1/webhooks")).json();
    expect(list.data.map((x: { id: string }) => x.id)).toEqual([theirs.id]);
    expect((await otherAdmin.get(`/v1/webhooks/${mine.id}`)).status).toBe(404);
    expect((await otherAdmin.get(`/v1/webhooks/${mine.id}/deliveries`)).status).toBe(404);
    expect((await otherAdmin.send("DELETE", `/v1/webhooks/${mine.id}`)).status).toBe(404);

    receiver.received.length = 0;
    await emitOutbox(t.db, { tenant: "acme", type: "complaint", payload: { address: "angry@example.com" } });
    const [d] = await deliveriesUntil(admin, mine.id, (ds) => ds[0]?.status === "delivered");
    expect(
      (await otherAdmin.send("POST", `/v1/webhooks/${mine.id}/deliveries/${d.id}/redeliver`)).status,
    ).toBe(404);
    expect(
      (await otherAdmin.send("POST", `/v1/webhooks/${theirs.id}/deliveries/${d.id}/redeliver`)).status,
    ).toBe(404);
    await worker.poll();
    const theirLog = await (await otherAdmin.get(`/v1/webhooks/${theirs.id}/deliveries`)).json();
    expect(theirLog.data).toEqual([]);
    expect(receiver.received.map((r) => JSON.parse(r.body).tenant)).toEqual(["acme"]);
  });
});
