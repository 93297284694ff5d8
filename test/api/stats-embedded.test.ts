// GET /v1/stats on the embedded database (PGlite), which has no COPY stream: the buckets read in one row
// (packedBuckets), the same answer as on PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { columnarOf, statsOf } from "../../src/core/stats.js";
import { hourOf } from "../../src/core/rollup.js";
import { addToRollups, rollupBuckets } from "../../src/store/rollups.js";
import { createEmbeddedTestDb, type TestDb } from "../helpers/db.js";
import { client, startTestApi, type Client, type TestApi } from "./helpers.js";

let t: TestDb;
let api: TestApi;
let acme: Client;

beforeAll(async () => {
  t = await createEmbeddedTestDb();
  const hour = hourOf(new Date());
  const row = (stream: string, provider: string, h: number, counts: Record<string, number>) => ({
    tenant: "acme",
    hour: new Date(hour.getTime() - h * 3_600_000),
    stream,
    provider,
    campaign: "",
    sendingIp: "",
    counts,
  });
  await addToRollups(t.db, [
    row("news", "google", 1, { sent: 4750, delivered: 4700, complaint: 5, hard: 3 }),
    row("news", "yahoo", 2, { sent: 300, delivered: 290, block: 7 }),
    row("news", "google", 26, { sent: 1000, delivered: 999, complaint: 1 }),
  ]);
  api = await startTestApi(t.db);
  acme = await client(t.db, api, "acme", ["read"]);
});

afterAll(async () => {
  await api?.close();
  await t?.drop();
});

describe("GET /v1/stats on PGlite", () => {
  it("answers what statsOf makes of the rollups, in both formats, rates to 6 significant digits", async () => {
    const body = await (await acme.get("/v1/stats?groupBy=stream,provider")).json();
    const buckets = await rollupBuckets(t.db, {
      tenant: "acme",
      from: new Date(body.previousFrom),
      to: new Date(body.to),
      granularity: "hour",
      groupBy: ["stream", "provider"],
      filters: {},
    });
    const want = statsOf(buckets, {
      groupBy: ["stream", "provider"],
      from: new Date(body.from),
      to: new Date(body.to),
    });
    expect(body.groups).toEqual(want);
    expect(body.groups[0].total.complaintRateDelivered).toBe(0.00106383);
    const cols = await (await acme.get("/v1/stats?groupBy=stream,provider&format=columnar")).json();
    expect(cols.groups).toEqual(columnarOf(want));
  });
});
