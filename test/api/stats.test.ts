import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { columnarOf, statsOf } from "../../src/core/stats.js";
import { rollupBuckets, type GroupBy } from "../../src/store/rollups.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { bounceThroughWorker, verpOverrides } from "./bounce-helper.js";
import { client, enc, startTestApi, type Client, type TestApi } from "./helpers.js";

// ajv-formats is CommonJS: its default export is the plugin under ESM interop.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

let t: TestDb;
let api: TestApi;
let acme: Client;
let other: Client;

const H = 3_600_000;
const NOW = Date.now();
const hour = (d: number) => new Date(Math.floor(d / H) * H);
/** Two hours ago (the current period) and 26 hours ago (the previous one, with the default 24-hour window). */
const CUR = new Date(NOW - 2 * H);
const PREV = new Date(NOW - 26 * H);

async function send(c: Client, n: number, at: Date, campaign: string, domain = "gmail.com", prefix = "m") {
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      recipient: `u${i}@${domain}`,
      stream: "marketing",
      campaign,
      sendingIp: "192.0.2.7",
      messageId: `${prefix}-${campaign}-${at.getTime()}-${i}@x`,
      sentAt: at.toISOString(),
    }),
  );
  const res = await c.send("POST", "/v1/sends", lines.join("\n"), { "content-type": "application/x-ndjson" });
  expect((await res.json()).accepted).toBe(n);
}

beforeAll(async () => {
  t = await createTestDb();
  api = await startTestApi(t.db, verpOverrides);
  acme = await client(t.db, api, "acme", ["read", "write"]);
  other = await client(t.db, api, "other", ["read", "write"]);
  await send(acme, 100, CUR, "spring");
  await send(acme, 50, PREV, "winter");
  await send(acme, 10, CUR, "spring", "outlook.com", "o");
  await bounceThroughWorker(t.db, acme, "dsn-hard", "h1@gmail.com", "marketing", CUR);
  await bounceThroughWorker(t.db, acme, "dsn-hard", "h2@gmail.com", "marketing", CUR);
  await bounceThroughWorker(t.db, acme, "arf-complaint", "c1@gmail.com", "marketing", CUR);
  await bounceThroughWorker(t.db, acme, "dsn-hard", "h3@gmail.com", "marketing", PREV);
});
afterAll(async () => {
  await api?.close();
  await t?.drop();
});

describe("GET /v1/stats", () => {
  it("gives counts and rates per stream and provider, the previous period beside each", async () => {
    const res = await acme.get("/v1/stats?groupBy=stream,provider");
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.granularity).toBe("hour");
    expect(new Date(body.to).getTime() - new Date(body.from).getTime()).toBe(24 * H);
    expect(body.previousFrom).toBe(new Date(new Date(body.from).getTime() - 24 * H).toISOString());
    const google = body.groups.find((g: { key: { provider: string } }) => g.key.provider === "google");
    expect(google.key).toEqual({ stream: "marketing", provider: "google" });
    expect(google.total).toMatchObject({
      sent: 100,
      hard: 2,
      complaint: 1,
      delivered: 0,
      hardRate: 0.02,
      complaintRate: 0.01,
      complaintRateDelivered: null,
      blockRate: 0,
    });
    expect(google.previous).toMatchObject({ sent: 50, hard: 1, hardRate: 0.02, complaint: 0 });
    // The point of the send hour, beside the hour one period earlier.
    const point = google.points.find((p: { at: string }) => p.at === hour(CUR.getTime()).toISOString());
    expect(point).toMatchObject({ sent: 100, hard: 2, complaint: 1, previous: { sent: 50, hard: 1 } });
    const ms = body.groups.find((g: { key: { provider: string } }) => g.key.provider === "microsoft");
    expect(ms.total).toMatchObject({ sent: 10, hard: 0, hardRate: 0 });
    expect(ms.previous).toMatchObject({ sent: 0, hardRate: null });
  });

  it("groups by campaign: bounces not tied to a send have no campaign ('')", async () => {
    const body = await (await acme.get("/v1/stats?groupBy=campaign&provider=google")).json();
    const byCampaign = Object.fromEntries(
      body.groups.map((g: { key: { campaign: string }; total: { sent: number; hard: number } }) => [
        g.key.campaign,
        [g.total.sent, g.total.hard],
      ]),
    );
    expect(byCampaign).toEqual({ spring: [100, 0], "": [0, 2], winter: [0, 0] });
  });

  it("sums days at day granularity and takes an explicit window", async () => {
    const from = new Date(NOW - 3 * 24 * H).toISOString();
    const to = new Date(NOW).toISOString();
    const body = await (
      await acme.get(`/v1/stats?granularity=day&from=${enc(from)}&to=${enc(to)}&stream=marketing`)
    ).json();
    expect(body.groupBy).toEqual([]);
    expect(body.groups).toHaveLength(1);
    const g = body.groups[0];
    expect(g.key).toEqual({});
    expect(g.total).toMatchObject({ sent: 160, hard: 3, complaint: 1 });
    for (const p of g.points) expect(p.at.endsWith("T00:00:00.000Z")).toBe(true);
  });

  it("shows a tenant its own figures only", async () => {
    const body = await (await other.get("/v1/stats")).json();
    expect(body.groups).toEqual([]);
  });

  it("refuses an unknown grouping, a backwards window and unknown parameters with the API's error shape", async () => {
    for (const q of [
      "groupBy=domain",
      "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
      "colour=red",
      "provider=aol",
    ]) {
      const res = await acme.get(`/v1/stats?${q}`);
      expect(res.status, q).toBe(400);
      expect((await res.json()).error.code, q).toBe("validation_failed");
    }
  });

  it("answers what statsOf makes of the rollups, in the shape its OpenAPI document gives", async () => {
    // More groups and both periods: campaigns with odd names (a tab and a newline, which COPY's text escapes; a
    // character past U+FFFF and U+FFFD, which PostgreSQL's byte order and JavaScript's sort the other way round),
    // several streams and providers.
    await sql`insert into rollups (tenant, hour, stream, provider, campaign, sending_ip, sent, hard, complaint,
                delivered, block)
              select 'acme', date_trunc('hour', now()) - make_interval(hours => h), 's' || (h % 3), p,
                     c, '192.0.2.' || (h % 2), 100 + h, h % 4, h % 2, 90, h % 3
                from generate_series(0, 47) h, unnest(array['google', 'yahoo', 'other']) p,
                     unnest(array['spring', 'é "quoted"', 'back\\slash', 'tab' || chr(9) || 'new' || chr(10) || 'line',
                                  chr(128512), chr(65533)]) c`.execute(t.db);
    await sql`insert into rollups_sp_hourly (tenant, hour, stream, provider, sent, hard, complaint, delivered, block)
              select tenant, hour, stream, provider, sum(sent), sum(hard), sum(complaint), sum(delivered), sum(block)
                from rollups where tenant = 'acme' and stream like 's_' group by 1, 2, 3, 4`.execute(t.db);
    await sql`insert into rollups_sc_hourly (tenant, hour, stream, campaign, sent, hard, complaint, delivered, block)
              select tenant, hour, stream, campaign, sum(sent), sum(hard), sum(complaint), sum(delivered), sum(block)
                from rollups where tenant = 'acme' and stream like 's_' group by 1, 2, 3, 4`.execute(t.db);
    const doc = await (await fetch(`${api.url}/v1/openapi.json`)).json();
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(ajv);
    const validate = ajv.compile({
      ...doc.paths["/v1/stats"].get.responses["200"].content["application/json"].schema,
      components: doc.components,
    });
    for (const q of [
      "groupBy=stream,provider",
      "groupBy=provider,stream",
      "groupBy=campaign",
      "",
      "groupBy=campaign&stream=s1&provider=google",
      "groupBy=sendingIp,campaign",
    ]) {
      const res = await acme.get(`/v1/stats?${q}`);
      expect(res.status, q).toBe(200);
      expect(res.headers.get("content-type"), q).toBe("application/json; charset=utf-8");
      const body = await res.json();
      expect(validate(body), `${q}: ${JSON.stringify(validate.errors)}`).toBe(true);
      const p = new URLSearchParams(q);
      const groupBy = (p.get("groupBy")?.split(",") ?? []) as GroupBy[];
      const from = new Date(body.from);
      const to = new Date(body.to);
      const buckets = await rollupBuckets(t.db, {
        tenant: "acme",
        from: new Date(body.previousFrom),
        to,
        granularity: "hour",
        groupBy,
        filters: { stream: p.get("stream") ?? undefined, provider: p.get("provider") ?? undefined },
      });
      expect(buckets.length, q).toBeGreaterThan(0);
      expect(body.groups, q).toEqual(statsOf(buckets, { groupBy, from, to }));
      // The same answer in columns: the same figures, point for point, in the schema's other shape.
      const res2 = await acme.get(`/v1/stats?${q}${q ? "&" : ""}format=columnar`);
      expect(res2.status, q).toBe(200);
      const cols = await res2.json();
      expect(validate(cols), `${q} columnar: ${JSON.stringify(validate.errors)}`).toBe(true);
      expect({ ...cols, groups: undefined }, q).toEqual({ ...body, groups: undefined, format: "columnar" });
      expect(cols.groups, q).toEqual(columnarOf(statsOf(buckets, { groupBy, from, to })));
    }
  });

  it("refuses an answer of more than 50,000 points with the API's error shape, and says how to ask", async () => {
    const big = await client(t.db, api, "big", ["read"]);
    await sql`insert into rollups_sc_hourly (tenant, hour, stream, campaign, sent)
              select 'big', date_trunc('hour', now()) - make_interval(hours => h), 'marketing', 'c' || c, 1
                from generate_series(0, 23) h, generate_series(1, 2100) c`.execute(t.db);
    const res = await big.get("/v1/stats?groupBy=campaign");
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.message).toMatch(/more than 50000 points: ask for a shorter window/);
    // A day of a stream's one campaign is fine.
    const one = await (await big.get("/v1/stats?groupBy=campaign&campaign=c7")).json();
    expect(one.groups).toHaveLength(1);
    expect(one.groups[0].total.sent).toBe(24);
  });
});
