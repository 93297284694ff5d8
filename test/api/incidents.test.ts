// Incidents, rules and streams over HTTP on real PostgreSQL: the rules in effect, incidents listed with filters
// and cursors, one with its evidence and history, acknowledged and resolved by hand (webhooks written); streams
// paused and resumed by hand, and the lookups' `paused` answer (single and batch, per provider).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { openIncidents } from "../helpers/incidents.js";
import { until } from "../helpers/until.js";
import { subscribeToAll } from "../helpers/webhooks.js";
import { client, enc, startTestApi, type Client, type TestApi } from "./helpers.js";

let t: TestDb;
let api: TestApi;
let acme: Client;
let other: Client;
let reader: Client;

beforeAll(async () => {
  t = await createTestDb();
  api = await startTestApi(t.db, { streams: "news,receipts" as never });
  acme = await client(t.db, api, "acme");
  reader = await client(t.db, api, "acme", ["read"]);
  other = await client(t.db, api, "other");
  await subscribeToAll(t.db, "acme", [
    "incident.opened",
    "incident.acknowledged",
    "incident.resolved",
    "stream.paused",
    "stream.resumed",
  ]);
  await openIncidents(t.db, "acme", [
    { stream: "news", campaign: "spring", counts: { sent: 1000, hard: 30 } }, // 3%: warning
    { stream: "news", campaign: "summer", counts: { sent: 1000, hard: 60 } }, // 6%: critical
    { stream: "receipts", campaign: "", counts: { sent: 2000, complaint: 3 } }, // 0.15%: warning
  ]);
});

afterAll(async () => {
  await api?.close();
  await t?.drop();
});

describe("GET /v1/alerts/rules", () => {
  it("lists the rules in effect with their thresholds as fractions, teams and sources", async () => {
    const res = await reader.get("/v1/alerts/rules");
    expect(res.status).toBe(200);
    const { rules } = await res.json();
    const complaint = rules.find((r: { id: string }) => r.id === "complaint-rate");
    expect(complaint).toMatchObject({
      kind: "rate",
      metric: "complaintRate",
      scope: { stream: "*" },
      windowMinutes: 1440,
      minVolume: 1000,
      levels: { warning: 0.001, critical: 0.003 },
      resolveBelow: 0.0008,
      teams: ["marketing", "legal"],
    });
    expect(complaint.source).toMatch(/Gmail and Yahoo/);
    expect(rules.find((r: { id: string }) => r.id === "blocklist").metric).toBeNull();
  });
});

describe("GET /v1/incidents", () => {
  it("lists the tenant's incidents newest first, filtered, paged by cursor; another tenant sees none", async () => {
    const res = await reader.get("/v1/incidents?status=active");
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(
      body.incidents
        .map((i: { ruleId: string; severity: string; scope: { campaign: string } }) => [
          i.ruleId,
          i.severity,
          i.scope.campaign,
        ])
        .sort(),
    ).toEqual([
      ["complaint-rate", "warning", null],
      ["hard-bounce-rate", "critical", "summer"],
      ["hard-bounce-rate", "warning", "spring"],
    ]);
    const ids = body.incidents.map((i: { id: string }) => Number(i.id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    const first = await reader.get("/v1/incidents?ruleId=hard-bounce-rate&limit=1");
    const p1 = await first.json();
    expect(p1.incidents).toHaveLength(1);
    const second = await (
      await reader.get(`/v1/incidents?ruleId=hard-bounce-rate&limit=1&cursor=${enc(p1.nextCursor)}`)
    ).json();
    expect(second.incidents).toHaveLength(1);
    expect(second.incidents[0].id).not.toBe(p1.incidents[0].id);
    expect(second.nextCursor).toBeNull();
    expect((await (await reader.get("/v1/incidents?severity=critical")).json()).incidents).toHaveLength(1);
    expect((await (await reader.get("/v1/incidents?stream=receipts")).json()).incidents).toHaveLength(1);
    expect((await (await other.get("/v1/incidents")).json()).incidents).toEqual([]);
    expect((await reader.get("/v1/incidents?status=gone")).status).toBe(400);
  });

  it("shows one incident with its evidence and history; 404 for another tenant's or an unknown id", async () => {
    const { incidents } = await (await reader.get("/v1/incidents?severity=critical")).json();
    const res = await reader.get(`/v1/incidents/${incidents[0].id}`);
    expect(res.status).toBe(200);
    const inc = await res.json();
    expect(inc).toMatchObject({
      ruleId: "hard-bounce-rate",
      status: "open",
      value: 0.06,
      threshold: 0.05,
      resolvedBy: null,
    });
    expect(inc.evidence.figures).toMatchObject({ sent: 1000, hard: 60, hardRate: 0.06 });
    expect(inc.summary).toMatch(
      /^Hard-bounce rate 6\.00% \(60 of 1000 sent\) in stream news, campaign summer over 24 h: critical/,
    );
    expect(inc.history.map((h: { type: string }) => h.type)).toEqual(["opened"]);
    expect((await other.get(`/v1/incidents/${inc.id}`)).status).toBe(404);
    expect((await reader.get("/v1/incidents/999999")).status).toBe(404);
    expect((await reader.get("/v1/incidents/abc")).status).toBe(404);
  });
});

describe("acknowledge and resolve", () => {
  it("acknowledges with a note (write scope), refuses twice with 409, then resolves by hand; webhooks written", async () => {
    const { incidents } = await (await reader.get("/v1/incidents?stream=receipts")).json();
    const id = incidents[0].id;
    expect((await reader.send("POST", `/v1/incidents/${id}/acknowledge`, {})).status).toBe(403);
    const ack = await acme.send("POST", `/v1/incidents/${id}/acknowledge`, { note: "list owner asked" });
    expect(ack.status).toBe(200);
    const a = await ack.json();
    expect(a.status).toBe("acknowledged");
    expect(a.acknowledgedBy).toBe(`key:${acme.keyId}`);
    expect(a.history.map((h: { type: string; note?: string }) => [h.type, h.note ?? null])).toEqual([
      ["opened", null],
      ["acknowledged", "list owner asked"],
    ]);
    const again = await acme.send("POST", `/v1/incidents/${id}/acknowledge`, {});
    expect(again.status).toBe(409);
    expect((await again.json()).error.code).toBe("conflict");
    const res = await acme.send("POST", `/v1/incidents/${id}/resolve`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "resolved", resolvedBy: "hand" });
    expect((await acme.send("POST", `/v1/incidents/${id}/resolve`, {})).status).toBe(409);
    expect((await acme.send("POST", `/v1/incidents/${id}/resolve`, { extra: 1 })).status).toBe(400);
    const types = (await t.db.selectFrom("outbox").select("type").where("tenant", "=", "acme").execute()).map(
      (o) => o.type,
    );
    expect(types.filter((x) => x === "incident.acknowledged")).toHaveLength(1);
    expect(types.filter((x) => x === "incident.resolved")).toHaveLength(1);
  });
});

describe("streams and pauses", () => {
  it("lists the configured and seen streams, unpaused; 404 for a stream never heard of", async () => {
    const res = await reader.get("/v1/streams");
    expect(res.status).toBe(200);
    const { streams } = await res.json();
    expect(streams.map((s: { stream: string }) => s.stream)).toEqual(["default", "news", "receipts"]);
    expect(streams[1]).toEqual({ stream: "news", paused: false, pauses: [] });
    expect((await reader.get("/v1/streams/nowhere")).status).toBe(404);
  });

  it("pauses a stream for one provider: lookups answer paused for that provider's addresses only, single and batch", async () => {
    const res = await acme.send("POST", "/v1/streams/news/pause", {
      provider: "google",
      note: "checking the list",
    });
    expect(res.status).toBe(200);
    const s = await res.json();
    expect(s).toMatchObject({ stream: "news", paused: false });
    expect(s.pauses).toEqual([
      expect.objectContaining({
        provider: "google",
        by: "hand",
        incidentId: null,
        note: "checking the list",
      }),
    ]);
    const gmail = await (await reader.get(`/v1/suppressions/${enc("ann@gmail.com")}?stream=news`)).json();
    expect(gmail).toMatchObject({
      suppressed: false,
      paused: true,
      pause: { provider: "google", incidentId: null },
    });
    expect(gmail.pause.since).toBe(s.pauses[0].since);
    const yahoo = await (await reader.get(`/v1/suppressions/${enc("ann@yahoo.com")}?stream=news`)).json();
    expect(yahoo).toMatchObject({ paused: false, pause: null });
    const noStream = await (await reader.get(`/v1/suppressions/${enc("ann@gmail.com")}`)).json();
    expect(noStream.paused).toBe(false);
    const batch = await reader.send("POST", "/v1/suppressions/check", {
      addresses: ["bob@gmail.com", "bob@yahoo.com", "not an address"],
      stream: "news",
    });
    const { results } = await batch.json();
    expect(results.map((r: { paused: boolean }) => r.paused)).toEqual([true, false, false]);
    expect(results[0].pause).toMatchObject({ provider: "google" });
  });

  it("pauses the whole stream, then resumes it by hand; stream.paused and stream.resumed are written", async () => {
    const res = await acme.send("POST", "/v1/streams/news/pause", {});
    expect((await res.json()).paused).toBe(true);
    const one = await (await reader.get("/v1/streams/news")).json();
    expect(one.pauses.map((p: { provider: string | null }) => p.provider)).toEqual([null, "google"]);
    const yahoo = await (await reader.get(`/v1/suppressions/${enc("ann@yahoo.com")}?stream=news`)).json();
    expect(yahoo).toMatchObject({ paused: true, pause: { provider: null } });
    // Resume the every-provider pause alone? A provider names one; no provider resumes them all.
    const resumed = await acme.send("POST", "/v1/streams/news/resume", { note: "list cleaned" });
    expect(await resumed.json()).toEqual({ stream: "news", paused: false, pauses: [] });
    await until(
      async () =>
        !(await (await reader.get(`/v1/suppressions/${enc("ann@gmail.com")}?stream=news`)).json()).paused,
    );
    const types = (await t.db.selectFrom("outbox").select("type").where("tenant", "=", "acme").execute()).map(
      (o) => o.type,
    );
    expect(types.filter((x) => x === "stream.paused")).toHaveLength(2);
    expect(types.filter((x) => x === "stream.resumed")).toHaveLength(2);
    expect((await acme.send("POST", "/v1/streams/news/pause", { provider: "nobody" })).status).toBe(400);
    expect((await reader.send("POST", "/v1/streams/news/pause", {})).status).toBe(403);
  });

  it("resume uses both its fields: provider lifts that provider's pause alone, note goes with stream.resumed", async () => {
    await acme.send("POST", "/v1/streams/receipts/pause", {});
    await acme.send("POST", "/v1/streams/receipts/pause", { provider: "yahoo", note: "yahoo defers" });
    const res = await acme.send("POST", "/v1/streams/receipts/resume", {
      provider: "yahoo",
      note: "yahoo accepts again",
    });
    expect(res.status).toBe(200);
    const s = await res.json();
    expect(s.paused).toBe(true);
    expect(s.pauses.map((p: { provider: string | null }) => p.provider)).toEqual([null]);
    const resumed = await t.db
      .selectFrom("outbox")
      .select("payload")
      .where("tenant", "=", "acme")
      .where("type", "=", "stream.resumed")
      .orderBy("id", "desc")
      .executeTakeFirstOrThrow();
    expect(resumed.payload).toMatchObject({
      stream: "receipts",
      provider: "yahoo",
      resumedBy: "hand",
      note: "yahoo accepts again",
    });
    expect((await acme.send("POST", "/v1/streams/receipts/resume", {})).status).toBe(200);
  });

  it("pause and resume refuse a field they do not take, and a provider outside the list, in the one error shape", async () => {
    for (const action of ["pause", "resume"]) {
      const unknown = await acme.send("POST", `/v1/streams/receipts/${action}`, { until: "tomorrow" });
      expect(unknown.status, action).toBe(400);
      const body = await unknown.json();
      expect(body.error).toMatchObject({
        code: "validation_failed",
        details: [expect.objectContaining({ in: "body", field: "until" })],
      });
      const provider = await acme.send("POST", `/v1/streams/receipts/${action}`, { provider: "nobody" });
      expect(provider.status, action).toBe(400);
      const err = (await provider.json()).error;
      expect(err.code).toBe("validation_failed");
      expect(err.details[0]).toMatchObject({
        path: "/provider",
        allowed: expect.arrayContaining(["google"]),
      });
    }
    const one = await (await reader.get("/v1/streams/receipts")).json();
    expect(one).toEqual({ stream: "receipts", paused: false, pauses: [] });
  });
});

describe("the provider of incidents: the closed provider list", () => {
  it("filters incidents by a provider of the list and refuses one outside it with a 400 naming the allowed ones", async () => {
    // A third tenant whose blocks to yahoo open a block-rate incident (per stream and provider).
    const globex = await client(t.db, api, "globex", ["read"]);
    await openIncidents(
      t.db,
      "globex",
      [{ stream: "news", provider: "yahoo", campaign: "", counts: { sent: 1000, block: 80 } }], // 8%: warning
      { tenants: ["globex"] },
    );

    const yahoo = await globex.get("/v1/incidents?provider=yahoo");
    expect(yahoo.status).toBe(200);
    const { incidents } = await yahoo.json();
    expect(
      incidents.map((i: { ruleId: string; scope: { provider: string } }) => [i.ruleId, i.scope.provider]),
    ).toEqual([["block-rate", "yahoo"]]);
    expect((await (await globex.get("/v1/incidents?provider=google")).json()).incidents).toEqual([]);

    for (const bad of ["nobody", "Yahoo", ""]) {
      const res = await globex.get(`/v1/incidents?provider=${enc(bad)}`);
      expect(res.status, bad).toBe(400);
      const err = (await res.json()).error;
      expect(err.code, bad).toBe("validation_failed");
      expect(err.details[0], bad).toMatchObject({
        in: "querystring",
        allowed: expect.arrayContaining(["google", "yahoo", "other"]),
      });
    }
  });
});
