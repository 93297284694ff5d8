import { afterAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { createEmbeddedTestDb, createTestDb, type TestDb } from "../helpers/db.js";

describe.each([
  ["PostgreSQL", createTestDb],
  ["embedded PGlite", createEmbeddedTestDb],
])("the database on %s", (_name, make) => {
  let t: TestDb;
  afterAll(async () => t?.drop());

  it("migrates to the latest schema and runs queries in transactions", async () => {
    t = await make();
    const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = ${t.schema} order by table_name`.execute(
      t.db,
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining(["events", "inbound_mails", "suppressions", "api_keys", "webhooks", "outbox"]),
    );
    await expect(
      t.db.transaction().execute(async (trx) => {
        await trx
          .insertInto("api_keys")
          .values({ id: "k1", tenant: "a", token_hash: "h", scopes: ["read"] })
          .execute();
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    const keys = await t.db.selectFrom("api_keys").selectAll().execute();
    expect(keys).toHaveLength(0);
  });

  it("serialises concurrent transactions without mixing them", async () => {
    await Promise.all(
      [1, 2, 3, 4].map((i) =>
        t.db.transaction().execute(async (trx) => {
          await trx
            .insertInto("api_keys")
            .values({ id: `k${i}`, tenant: "a", token_hash: `h${i}`, scopes: ["read"] })
            .execute();
        }),
      ),
    );
    const n = await t.db
      .selectFrom("api_keys")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(4);
  });
});
