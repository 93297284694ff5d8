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

describe("the embedded database folder", () => {
  it("is refused to a second process while one holds it, and free again once it closes", async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { spawn } = await import("node:child_process");
    const { openDb, EmbeddedDbLockedError } = await import("../../src/store/db.js");
    const dir = mkdtempSync(join(tmpdir(), "rebound-lock-"));
    // A live process that is not this one holds the lock.
    const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    try {
      writeFileSync(join(dir, "pglite.lock"), String(other.pid));
      await expect(openDb({ dataDir: dir })).rejects.toThrow(EmbeddedDbLockedError);
      await expect(openDb({ dataDir: dir })).rejects.toThrow(/in use by process/);
    } finally {
      other.kill();
    }
    // A stale lock (its process gone) is taken over; closing releases it.
    await new Promise((r) => other.once("exit", r));
    const handle = await openDb({ dataDir: dir });
    await handle.close();
    const again = await openDb({ dataDir: dir });
    await again.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
