// Erasure, end to end: a VERP minted over the API, a real DSN through the worker, a webhook delivery that
// names the address; then DELETE /v1/addresses/{address}.
import { createHash, randomUUID } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dispatchPending } from "../../src/webhooks/dispatcher.js";
import { until } from "../helpers/until.js";
import { insertMail } from "../../src/store/mails.js";
import { cli } from "../cli/run-cli.js";
import { createTestDb, TEST_DATABASE_URL, testHash as hashAddress, type TestDb } from "../helpers/db.js";
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

  it("erases the address's events and raw mail in the key's tenant alone with allTenants=false, keeps it suppressed by hash, and leaves other tenants alone", async () => {
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

    const res = await acmeAdmin.send(
      "DELETE",
      `/v1/addresses/${enc("  GONE.USER@example.COM ")}?allTenants=false`,
    );
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ addressHash: hash, mailsPurged: 1, suppressionsKept: 1 });
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

  it("erases from every tenant by default for an admin key: twins stored with the same digest, envelopes, raw bytes; only the keyed hash stays, and still suppresses", async () => {
    const person = "every.where@example.com";
    const personHash = hashAddress(person);
    const inAcme = await bounceThroughWorker(t.db, acmeWriter, "dsn-hard", person, "marketing");
    const inOther = await bounceThroughWorker(t.db, otherAdmin, "dsn-hard", person, "news");
    // The same bounce received twice (a twin with the same digest, kept as a duplicate without events), and a
    // mail whose envelope alone names the person (an auto-reply from them, never attributed).
    const original = await t.db
      .selectFrom("inbound_mails")
      .selectAll()
      .where("id", "=", inAcme)
      .executeTakeFirstOrThrow();
    const twin = randomUUID();
    const fromThem = randomUUID();
    await insertMail(t.db, {
      id: twin,
      mailFrom: "",
      rcptTo: original.rcpt_to,
      raw: Buffer.from("the same bytes, stored twice"),
      sha256: original.sha256,
    });
    await insertMail(t.db, {
      id: fromThem,
      mailFrom: `Every.Where@example.com`,
      rcptTo: ["postmaster@bounces.example.net"],
      raw: Buffer.from("Subject: out of office"),
      sha256: "f".repeat(64),
    });
    const unrelated = randomUUID();
    await insertMail(t.db, {
      id: unrelated,
      mailFrom: "",
      rcptTo: ["postmaster@bounces.example.net"],
      raw: Buffer.from("Subject: someone else"),
      sha256: "e".repeat(64),
    });

    // The worker's suppressions reach the API's lookup index within a second or so: wait for both first.
    const suppressedIn = async (c: Client, stream: string) =>
      (await (await c.get(`/v1/suppressions/${enc(person)}?stream=${stream}`)).json()).suppressed === true;
    await until(
      async () => (await suppressedIn(acmeWriter, "marketing")) && suppressedIn(otherAdmin, "news"),
      {
        ms: 10_000,
        what: "the suppressions to reach the index",
      },
    );

    const res = await acmeAdmin.send("DELETE", `/v1/addresses/${enc(person)}`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ addressHash: personHash, mailsPurged: 4, suppressionsKept: 2 });

    const mails = await t.db
      .selectFrom("inbound_mails")
      .select(["id", "raw", "mail_from", "rcpt_to"])
      .where("id", "in", [inAcme, inOther, twin, fromThem, unrelated])
      .execute();
    const byId = new Map(mails.map((m) => [m.id, m]));
    for (const id of [inAcme, inOther, twin, fromThem]) expect(byId.get(id)!.raw).toBeNull();
    expect(byId.get(unrelated)!.raw).not.toBeNull();
    const envelopes = JSON.stringify(mails.map((m) => [m.mail_from, m.rcpt_to])).toLowerCase();
    expect(envelopes).not.toContain("every.where");
    expect(envelopes).not.toContain("every.where=example.com");

    // Nothing names the person in any tenant: events (address and address_original) are gone.
    const events = await t.db
      .selectFrom("events")
      .select(["tenant", "address", "address_original"])
      .where("address_hash", "=", personHash)
      .execute();
    expect(events).toEqual([]);
    const sups = await t.db
      .selectFrom("suppressions")
      .select(["tenant", "address", "address_original"])
      .where("address_hash", "=", personHash)
      .orderBy("tenant")
      .execute();
    expect(sups).toEqual([
      { tenant: "acme", address: null, address_original: null },
      { tenant: "other", address: null, address_original: null },
    ]);
    // What stays is the keyed hash: no table holds the bare SHA-256 of the address, which anyone could compute.
    expect(personHash).not.toBe(createHash("sha256").update(person).digest("hex"));
    const bare = createHash("sha256").update(person).digest("hex");
    for (const table of ["events", "suppressions", "suppression_log", "address_state"] as const) {
      const n = await sql<{ n: string }>`select count(*)::text as n from ${sql.table(table)}
        where address_hash = ${bare}`.execute(t.db);
      expect(n.rows[0]!.n, table).toBe("0");
    }
    const kept = await t.db
      .selectFrom("suppression_log")
      .select(["address_hash", "address"])
      .where("address_hash", "=", personHash)
      .execute();
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.every((r) => r.address === null)).toBe(true);
    // Both tenants still answer suppressed.
    expect(await suppressedIn(acmeWriter, "marketing")).toBe(true);
    expect(await suppressedIn(otherAdmin, "news")).toBe(true);
  });

  it("takes an address of 254 characters in the path", async () => {
    const long = `${"l".repeat(64)}@${"d".repeat(63)}.${"e".repeat(63)}.${"f".repeat(57)}.com`;
    expect(long).toHaveLength(254);
    const put = await acmeWriter.send("PUT", `/v1/suppressions/${enc(long)}`, { stream: "marketing" });
    expect(put.status).toBe(201);
    const look = await acmeWriter.get(`/v1/suppressions/${enc(long)}?stream=marketing`);
    expect(look.status).toBe(200);
    expect((await look.json()).suppressed).toBe(true);
    const res = await acmeAdmin.send("DELETE", `/v1/addresses/${enc(long)}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ suppressionsKept: 1 });
    expect(
      (await (await acmeWriter.get(`/v1/suppressions/${enc(long)}?stream=marketing`)).json()).suppressed,
    ).toBe(true);
  });

  it("erases through the CLI, in one tenant with --tenant, in all by default", async () => {
    const person = "cli.erased@example.com";
    await bounceThroughWorker(t.db, acmeWriter, "dsn-hard", person, "marketing");
    await bounceThroughWorker(t.db, otherAdmin, "dsn-hard", person, "news");
    const env = {
      DATABASE_URL: TEST_DATABASE_URL,
      REBOUND_DATABASE_SCHEMA: t.schema,
      REBOUND_LOG_LEVEL: "silent",
    };
    const before = { ...process.env };
    Object.assign(process.env, env);
    try {
      const both = await cli("erase", person, "--tenant", "acme", "--all-tenants");
      expect(both.code).toBe(1);
      expect(both.stderr).toContain("not both");
      const one = await cli("erase", person.toUpperCase(), "--tenant", "acme");
      expect(one.code).toBe(0);
      expect(JSON.parse(one.stdout)).toMatchObject({ tenant: "acme", suppressionsKept: 1, mailsPurged: 1 });
      const left = await t.db
        .selectFrom("events")
        .select("tenant")
        .where("address_hash", "=", hashAddress(person))
        .execute();
      expect(new Set(left.map((e) => e.tenant))).toEqual(new Set(["other"]));
      const all = await cli("erase", person);
      expect(JSON.parse(all.stdout)).toMatchObject({ tenant: "*", suppressionsKept: 2 });
      const none = await t.db
        .selectFrom("events")
        .select("tenant")
        .where("address_hash", "=", hashAddress(person))
        .execute();
      expect(none).toEqual([]);
    } finally {
      for (const k of Object.keys(env)) if (!(k in before)) delete process.env[k];
      Object.assign(process.env, before);
    }
  });

  it("erases an address that was never seen as a no-op", async () => {
    const res = await acmeAdmin.send("DELETE", `/v1/addresses/${enc("never@example.org")}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ eventsDeleted: 0, mailsPurged: 0, suppressionsKept: 0 });
  });
});
