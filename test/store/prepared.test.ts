// The statements marked PREPARED run as named prepared statements on PostgreSQL: parsed once per connection.
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertEvents, type NewEvent } from "../../src/store/events.js";
import { insertMails } from "../../src/store/mails.js";
import { PREPARED } from "../../src/store/prepared.js";
import { openDb } from "../../src/store/db.js";
import { createEmbeddedTestDb, createTestDb, TEST_DATABASE_URL, type TestDb } from "../helpers/db.js";

let t: TestDb;
beforeAll(async () => {
  // One connection: the prepared statements seen are the ones its earlier statements made.
  t = await createTestDb({ poolSize: 1 });
});
afterAll(async () => t?.drop());

const prepared = async (db = t.db) =>
  (
    await sql<{ statement: string; runs: number }>`
      select statement, (generic_plans + custom_plans)::int as runs from pg_prepared_statements`.execute(db)
  ).rows;

const mail = (id: string) => ({
  id,
  mailFrom: "",
  rcptTo: ["b@bounces.example.net"],
  raw: Buffer.from(`Subject: ${id}\r\n\r\nbody\r\n`),
  sha256: id.padEnd(64, "0"),
});

describe("prepared statements", () => {
  it("prepare a marked statement once per connection and run it by name after", async () => {
    for (const id of ["a", "b", "c"])
      await sql`
        ${PREPARED}select ${id}::text as id`.execute(t.db);
    await sql`select 'not marked' as x, ${1}::int`.execute(t.db);
    expect(await prepared()).toEqual([
      { statement: expect.stringMatching(/select \$1::text as id$/), runs: 3 },
    ]);
  });

  it("are what the spool and the worker's bulk inserts run, one per text", async () => {
    await insertMails(t.db, [mail("m1")]);
    await insertMails(t.db, [mail("m2")]);
    await insertMails(t.db, [mail("m3"), mail("m4")]);
    const event = (mailId: string): NewEvent => ({
      mailId,
      tenant: "acme",
      stream: "marketing",
      address: `${mailId}@example.org`,
      addressHash: `hash-${mailId}`,
      addressOriginal: `${mailId}@example.org`,
      recipientDomain: "example.org",
      kind: "dsn",
      reason: "userunknown",
      class: "hard",
      verified: true,
      occurredAt: new Date(),
      classifierVersion: "test",
    });
    const ids = await insertEvents(t.db, [event("m1"), event("m2")]);
    expect(ids.every((id) => id !== null)).toBe(true);
    expect(await insertEvents(t.db, [event("m3")])).toHaveLength(1);
    // The spool's INSERT has a text per row count: one statement for one row (run twice), one for two rows.
    const runs = (await prepared()).map((p) => [
      /^\s*\/\* prepared \*\/ insert into (\w+)/.exec(p.statement)?.[1],
      p.runs,
    ]);
    expect(runs).toEqual(
      expect.arrayContaining([
        ["inbound_mails", 2],
        ["inbound_mails", 1],
        ["events", 2],
      ]),
    );
    expect(await sql`select count(*)::int n from events`.execute(t.db)).toMatchObject({ rows: [{ n: 3 }] });
  });

  it("are plain statements when the configuration turns them off (a pooler that does not keep them)", async () => {
    const off = await openDb({
      databaseUrl: TEST_DATABASE_URL,
      schema: t.schema,
      poolSize: 1,
      preparedStatements: false,
    });
    try {
      await sql`
        ${PREPARED}select ${"x"}::text as id`.execute(off.db);
      await insertMails(off.db, [mail("p1")]);
      expect(await prepared(off.db)).toEqual([]);
    } finally {
      await off.close();
    }
  });

  it("are plain statements on the embedded database", async () => {
    const lite = await createEmbeddedTestDb();
    try {
      const { rows } = await sql<{ id: string }>`
        ${PREPARED}select ${"x"}::text as id`.execute(lite.db);
      expect(rows).toEqual([{ id: "x" }]);
      await insertMails(lite.db, [mail("e1")]);
      expect(await sql`select id from inbound_mails`.execute(lite.db)).toMatchObject({
        rows: [{ id: "e1" }],
      });
    } finally {
      await lite.drop();
    }
  });
});
