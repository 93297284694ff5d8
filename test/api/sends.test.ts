import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { client, startTestApi, type Client, type TestApi } from "./helpers.js";

let t: TestDb;
let api: TestApi;
let acme: Client;
let reader: Client;

beforeAll(async () => {
  t = await createTestDb();
  api = await startTestApi(t.db, { streams: "marketing,receipts" as never });
  acme = await client(t.db, api, "acme", ["read", "write"]);
  reader = await client(t.db, api, "acme", ["read"]);
});
afterAll(async () => {
  await api?.close();
  await t?.drop();
});

const NDJSON = { "content-type": "application/x-ndjson" };
const nd = (records: unknown[]) => records.map((r) => JSON.stringify(r)).join("\n") + "\n";
const hourAgo = () => new Date(Date.now() - 3_600_000);
const hourStart = (d: Date) => new Date(Math.floor(d.getTime() / 3_600_000) * 3_600_000).toISOString();

async function sent(where: { campaign?: string; provider?: string } = {}) {
  let q = t.db.selectFrom("rollups").select(["hour", "stream", "provider", "campaign", "sending_ip", "sent"]);
  q = q.where("tenant", "=", "acme");
  if (where.campaign) q = q.where("campaign", "=", where.campaign);
  if (where.provider) q = q.where("provider", "=", where.provider);
  return (await q.orderBy("provider").execute()).map((r) => ({
    hour: new Date(r.hour).toISOString(),
    stream: r.stream,
    provider: r.provider,
    campaign: r.campaign,
    sendingIp: r.sending_ip,
    sent: Number(r.sent),
  }));
}

describe("POST /v1/sends", () => {
  it("records messages from NDJSON once per Message-ID: a retried upload adds nothing", async () => {
    const at = hourAgo();
    const records = [
      {
        recipient: "a@gmail.com",
        stream: "marketing",
        campaign: "c1",
        sendingIp: "192.0.2.1",
        messageId: "<m1@x>",
        sentAt: at.toISOString(),
      },
      {
        recipient: "b@outlook.com",
        stream: "marketing",
        campaign: "c1",
        sendingIp: "192.0.2.1",
        messageId: "m2@x",
        sentAt: at.toISOString(),
      },
      {
        recipient: "c@gmail.com",
        stream: "marketing",
        campaign: "c1",
        sendingIp: "192.0.2.1",
        messageId: "m3@x",
        sentAt: at.toISOString(),
      },
    ];
    const res = await acme.send("POST", "/v1/sends", nd(records), NDJSON);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      received: 3,
      accepted: 3,
      counted: 0,
      duplicates: 0,
      invalid: 0,
      errors: [],
      errorsTruncated: false,
      batchId: null,
      batchDuplicate: false,
    });
    const again = await (await acme.send("POST", "/v1/sends", nd(records), NDJSON)).json();
    expect(again).toMatchObject({ received: 3, accepted: 0, duplicates: 3 });
    expect(await sent({ campaign: "c1" })).toEqual([
      {
        hour: hourStart(at),
        stream: "marketing",
        provider: "google",
        campaign: "c1",
        sendingIp: "192.0.2.1",
        sent: 2,
      },
      {
        hour: hourStart(at),
        stream: "marketing",
        provider: "microsoft",
        campaign: "c1",
        sendingIp: "192.0.2.1",
        sent: 1,
      },
    ]);
    const row = await t.db
      .selectFrom("sends")
      .selectAll()
      .where("message_id", "=", "m1@x")
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ tenant: "acme", recipient_domain: "gmail.com", provider: "google" });
  });

  it("records counts once per batch id, and refuses counts without one, line by line", async () => {
    const hour = hourAgo().toISOString();
    const batch = randomUUID();
    const records = [
      { stream: "receipts", campaign: "c2", provider: "yahoo", hour, count: 40 },
      { stream: "receipts", campaign: "c2", recipientDomain: "GMX.de", hour, count: 2 },
      { stream: "receipts", campaign: "c2", provider: "yahoo", hour, count: 10 },
    ];
    const first = await (await acme.send("POST", `/v1/sends?batchId=${batch}`, nd(records), NDJSON)).json();
    expect(first).toMatchObject({
      received: 3,
      counted: 3,
      duplicates: 0,
      batchId: batch,
      batchDuplicate: false,
    });
    const retry = await (await acme.send("POST", `/v1/sends?batchId=${batch}`, nd(records), NDJSON)).json();
    expect(retry).toMatchObject({ received: 3, counted: 0, duplicates: 3, batchDuplicate: true });
    expect((await sent({ campaign: "c2" })).map((r) => [r.provider, r.sent])).toEqual([
      ["gmx-webde", 2],
      ["yahoo", 50],
    ]);
    const none = await (await acme.send("POST", "/v1/sends", nd(records.slice(0, 1)), NDJSON)).json();
    expect(none).toMatchObject({ counted: 0, invalid: 1, errors: [{ line: 1, code: "batch_id_required" }] });
  });

  it("reports each bad record by its line with a code, and keeps the good ones", async () => {
    const now = Date.now();
    const ok = {
      recipient: "ok@gmail.com",
      stream: "marketing",
      campaign: "c3",
      messageId: "ok-1@x",
      sentAt: new Date(now - 60_000).toISOString(),
    };
    const lines = [
      JSON.stringify({ ...ok, stream: "nosuch" }),
      JSON.stringify({ ...ok, sentAt: new Date(now + 3_600_000).toISOString() }),
      JSON.stringify({ ...ok, sentAt: "2001-01-01T00:00:00Z" }),
      JSON.stringify({
        stream: "marketing",
        provider: "google",
        hour: new Date(now).toISOString(),
        count: -5,
      }),
      "{not json",
      JSON.stringify({ ...ok, colour: "red" }),
      JSON.stringify({ ...ok, recipient: "not an address" }),
      JSON.stringify({ ...ok, sendingIp: "999.1.1.1" }),
      JSON.stringify(ok),
      "",
      JSON.stringify({ ...ok, messageId: "ok-2@x" }),
    ];
    const body = await (await acme.send("POST", "/v1/sends?batchId=b3", lines.join("\n"), NDJSON)).json();
    expect(body.errors.map((e: { line: number; code: string }) => [e.line, e.code])).toEqual([
      [1, "unknown_stream"],
      [2, "future_date"],
      [3, "too_old"],
      [4, "negative_count"],
      [5, "unreadable"],
      [6, "unknown_field"],
      [7, "invalid_recipient"],
      [8, "bad_sending_ip"],
    ]);
    expect(body).toMatchObject({ received: 10, accepted: 2, invalid: 8 });
    expect(body.errors[0].message).toContain('"nosuch"');
    expect((await sent({ campaign: "c3" }))[0]).toMatchObject({ sent: 2 });
  });

  it("skips a 10 MB line with an error and reads the lines after it", async () => {
    const ok = {
      recipient: "big@gmail.com",
      stream: "marketing",
      campaign: "c4",
      messageId: "big-1@x",
      sentAt: new Date().toISOString(),
    };
    const huge = JSON.stringify({ ...ok, campaign: "x".repeat(10 * 1024 * 1024) });
    const body = await (
      await acme.send("POST", "/v1/sends", [huge, JSON.stringify(ok)].join("\n"), NDJSON)
    ).json();
    expect(body).toMatchObject({ received: 2, accepted: 1, invalid: 1 });
    expect(body.errors[0]).toMatchObject({ line: 1, code: "line_too_long" });
  });

  it("takes a JSON body of sends, and refuses a malformed one whole with the API's error shape", async () => {
    const res = await acme.send("POST", "/v1/sends", {
      sends: [
        {
          recipient: "j@yahoo.com",
          stream: "marketing",
          campaign: "c5",
          messageId: "j1@x",
          sentAt: new Date().toISOString(),
        },
      ],
    });
    expect(await res.json()).toMatchObject({ received: 1, accepted: 1 });
    const bad = await acme.send("POST", "/v1/sends", {
      sends: [{ recipient: "j@yahoo.com", stream: "marketing" }],
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe("validation_failed");
    const extra = await acme.send("POST", "/v1/sends", { sends: [], more: 1 });
    expect(extra.status).toBe(400);
  });

  it("needs the write scope and a JSON or NDJSON body", async () => {
    expect((await reader.send("POST", "/v1/sends", "", NDJSON)).status).toBe(403);
    const csv = await acme.send("POST", "/v1/sends", "a,b\n", { "content-type": "text/csv" });
    expect(csv.status).toBe(415);
    expect((await csv.json()).error.code).toBe("unsupported_media_type");
  });
});
