// GET /v1/events/{id}/mail over HTTP on a real PostgreSQL: a bounce processed by the worker, shown raw and
// decoded with its decisive line; other tenants, API-reported events and purged mails get a 404.
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { bounceThroughWorker, verpOverrides } from "./bounce-helper.js";
import { client, enc, startTestApi, type Client, type TestApi } from "./helpers.js";

let t: TestDb;
let api: TestApi;
let acme: Client;
let other: Client;
let eventId: string;
const address = "gone.user@example.com";

beforeAll(async () => {
  t = await createTestDb();
  api = await startTestApi(t.db, verpOverrides);
  acme = await client(t.db, api, "acme", ["read", "write"]);
  other = await client(t.db, api, "other", ["read", "write"]);
  await bounceThroughWorker(t.db, acme, "dsn-hard", address, "marketing");
  const events = (await (await acme.get(`/v1/events?address=${enc(address)}`)).json()) as {
    data: { id: string; mailId: string | null }[];
  };
  eventId = events.data[0]!.id;
});
afterAll(async () => {
  await api?.close();
  await t?.drop();
});

describe("GET /v1/events/{id}/mail", () => {
  it("answers the raw bounce, decoded, with the Diagnostic-Code line as the decisive one", async () => {
    const res = await acme.get(`/v1/events/${eventId}/mail`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      raw: string;
      truncated: boolean;
      decoded: { subject: string | null; attachments: { contentType: string }[] };
      decisive: { line: number; text: string };
    };
    expect(body.truncated).toBe(false);
    expect(body.raw).toContain("Diagnostic-Code: smtp; 550 5.1.1");
    expect(body.decisive.text).toMatch(/^Diagnostic-Code: smtp; 550 5\.1\.1/);
    expect(body.raw.split("\n")[body.decisive.line - 1]!.replace(/\r$/, "")).toBe(body.decisive.text);
    expect(body.decoded.subject).toBeTruthy();
    expect(body.decoded.attachments.map((a) => a.contentType)).toContain("text/rfc822-headers");
  });

  it("answers 404 for another tenant's event, an unknown one, and 400 for an id that is no number", async () => {
    expect((await other.get(`/v1/events/${eventId}/mail`)).status).toBe(404);
    expect((await acme.get(`/v1/events/999999999999/mail`)).status).toBe(404);
    expect((await acme.get(`/v1/events/abc/mail`)).status).toBe(400);
    expect((await acme.get(`/v1/events/99999999999999999999999/mail`)).status).toBe(400);
  });

  it("says the raw mail was removed when retention purged it", async () => {
    await sql`update inbound_mails set raw = null, raw_purged_at = now()`.execute(t.db);
    const res = await acme.get(`/v1/events/${eventId}/mail`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
      "removed by retention",
    );
  });
});
