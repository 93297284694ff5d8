// Erasure, end to end: a VERP minted over the API, a real DSN through the worker, a webhook delivery that
// names the address; then DELETE /v1/addresses/{address}.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashAddress } from "../../src/core/address.js";
import { dispatchPending } from "../../src/webhooks/dispatcher.js";
import { until } from "../e2e/until.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { bounceThroughWorker, verpOverrides } from "./bounce-helper.js";
import { client, enc, startTestApi, type Client, type TestApi } from "./helpers.js";

let t: TestDb;
let api: TestApi;
let acmeAdmin: Client;
let acmeWriter: Client;
let otherAdmin: Client;

beforeAll(async () => {
  t = await createTestDb();
  api = await startTestApi(t.db, verpOverrides);
  acmeAdmin = await client(t.db, api, "acme", ["admin"]);
  acmeWriter = await client(t.db, api, "acme", ["read", "write"]);
  otherAdmin = await client(t.db, api, "other", ["admin"]);
});

afterAll(async () => {
  await api?.close();
  await t?.drop();
});

describe("DELETE /v1/addresses/{address}", () => {
  const address = "gone.user@example.com";
  const hash = hashAddress(address);
  let acmeMail: string;
  let otherMail: string;

  it("erases the address's events and raw mail, keeps it suppressed by hash, and leaves other tenants alone", async () => {
    await t.db
      .insertInto("webhooks")
      .values({
        id: "wh_erasure",
        tenant: "acme",
        url: "http://127.0.0.1:1/x",
        secret: "s",
        events: ["bounce.hard", "suppression.added"],
      })
      .execute();
    acmeMail = await bounceThroughWorker(t.db, acmeWriter, "dsn-hard", "Gone.User@Example.com", "marketing");
    otherMail = await bounceThroughWorker(t.db, otherAdmin, "dsn-hard", address, "news");
    await dispatchPending(t.db, () => new Date());

    // Before: the history is visible, and the address is suppressed.
    const before = await (await acmeWriter.get(`/v1/events?address=${enc(address)}`)).json();
    expect(before.data.length).toBeGreaterThan(0);
    expect(before.data[0]).toMatchObject({
      recipient: address,
      class: "hard",
      stream: "marketing",
      verified: true,
    });
    const deliveriesBefore = await t.db
      .selectFrom("webhook_deliveries")
      .select("payload")
      .where("tenant", "=", "acme")
      .execute();
    expect(JSON.stringify(deliveriesBefore)).toContain(address);
    // The worker's suppression reaches the API's lookup index within a second (tested in visibility.test.ts).
    await until(
      async () =>
        (await (await acmeWriter.get(`/v1/suppressions/${enc(address)}?stream=marketing`)).json()).suppressed,
      5_000,
    );

    // Not with a write key; not an invalid address.
    expect((await acmeWriter.send("DELETE", `/v1/addresses/${enc(address)}`)).status).toBe(403);
    const invalid = await acmeAdmin.send("DELETE", `/v1/addresses/${enc("no-at-sign")}`);
    expect(invalid.status).toBe(400);
    expect((await invalid.json()).error.code).toBe("invalid_address");

    const res = await acmeAdmin.send("DELETE", `/v1/addresses/${enc("  GONE.USER@example.COM ")}`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ addressSha256: hash, mailsPurged: 1, suppressionsKept: 1 });
    expect(body.eventsDeleted).toBeGreaterThan(0);
    expect(body.webhookPayloadsRedacted).toBeGreaterThan(0);

    // Still suppressed: lookups go by hash.
    const look = await (await acmeWriter.get(`/v1/suppressions/${enc(address)}?stream=marketing`)).json();
    expect(look.suppressed).toBe(true);
    const check = await (
      await acmeWriter.send("POST", "/v1/suppressions/check", { addresses: [address], stream: "marketing" })
    ).json();
    expect(check.results[0].suppressed).toBe(true);

    // The history is gone; the raw mail is purged and its recipients no longer name the address.
    expect((await (await acmeWriter.get(`/v1/events?address=${enc(address)}`)).json()).data).toEqual([]);
    const mail = await t.db
      .selectFrom("inbound_mails")
      .selectAll()
      .where("id", "=", acmeMail)
      .executeTakeFirstOrThrow();
    expect(mail.raw).toBeNull();
    expect(mail.raw_purged_at).toBeInstanceOf(Date);
    expect(mail.rcpt_to.join(" ").toLowerCase()).not.toContain("gone.user");
    const sup = await t.db
      .selectFrom("suppressions")
      .selectAll()
      .where("tenant", "=", "acme")
      .where("address_hash", "=", hash)
      .execute();
    expect(sup).toHaveLength(1);
    expect(sup[0]).toMatchObject({
      address: null,
      address_original: null,
      address_hash: hash,
      stream: "marketing",
    });
    const log = await t.db
      .selectFrom("suppression_log")
      .selectAll()
      .where("tenant", "=", "acme")
      .where("address_hash", "=", hash)
      .execute();
    expect(log.every((l) => l.address === null)).toBe(true);
    expect(log.map((l) => l.action)).toContain("erased");
    for (const table of ["outbox", "webhook_deliveries"] as const) {
      const rows = await t.db.selectFrom(table).select("payload").where("tenant", "=", "acme").execute();
      expect(JSON.stringify(rows).toLowerCase()).not.toContain("gone.user");
    }

    // The other tenant's history of the same address is untouched.
    const theirs = await (await otherAdmin.get(`/v1/events?address=${enc(address)}`)).json();
    expect(theirs.data.length).toBeGreaterThan(0);
    const otherRaw = await t.db
      .selectFrom("inbound_mails")
      .select("raw")
      .where("id", "=", otherMail)
      .executeTakeFirstOrThrow();
    expect(otherRaw.raw).not.toBeNull();
    const otherSup = await t.db
      .selectFrom("suppressions")
      .selectAll()
      .where("tenant", "=", "other")
      .executeTakeFirstOrThrow();
    expect(otherSup.address).toBe(address);
  });

  it("erases an address that was never seen as a no-op", async () => {
    const res = await acmeAdmin.send("DELETE", `/v1/addresses/${enc("never@example.org")}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ eventsDeleted: 0, mailsPurged: 0, suppressionsKept: 0 });
  });
});
