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

  it("stores a raw mail's bytes as they came, compressed with lz4 where the server has it", async () => {
    const { insertMail, getMail } = await import("../../src/store/mails.js");
    const lines = Array.from(
      { length: 200 },
      (_, i) => `Diagnostic-Code: smtp; 550 5.1.1 <user${i}@example.org>: unknown`,
    );
    const raw = Buffer.from(`Subject: bounce\r\n\r\n${lines.join("\r\n")}\r\n`);
    await insertMail(t.db, { id: "lz4-mail", mailFrom: "", rcptTo: ["x@b.example"], raw, sha256: "s" });
    const row = await getMail(t.db, "lz4-mail");
    expect(Buffer.from(row!.raw!).equals(raw)).toBe(true);
    const lz4 = await sql<{ has: boolean }>`
      select 'lz4' = any(enumvals) as has from pg_settings where name = 'default_toast_compression'`.execute(
      t.db,
    );
    const used = await sql<{ c: string | null }>`
      select pg_column_compression(raw) as c from inbound_mails where id = 'lz4-mail'`.execute(t.db);
    expect(used.rows[0]!.c).toBe(lz4.rows[0]?.has ? "lz4" : "pglz");
  });

  it("finds the mails not finished (the sweeper's, the failed ones) through an index that holds only those", async () => {
    const { insertMails, markProcessed, pendingMailIds, failedMailIds, setMailStatus } =
      await import("../../src/store/mails.js");
    const mail = (id: string) => ({
      id,
      mailFrom: "",
      rcptTo: ["x@b.example"],
      raw: Buffer.from(id),
      sha256: id,
    });
    await insertMails(t.db, [mail("u-pending"), mail("u-done"), mail("u-failed")]);
    await markProcessed(t.db, [{ id: "u-done", kind: "dsn", tenant: "a" }], "v", new Date());
    await setMailStatus(t.db, "u-failed", "failed", { error: "broken" });
    expect(await pendingMailIds(t.db, new Date())).toContain("u-pending");
    expect(await pendingMailIds(t.db, new Date())).not.toContain("u-done");
    expect(await failedMailIds(t.db)).toEqual(["u-failed"]);
    const index = await sql<{ def: string }>`
      select pg_get_indexdef(indexrelid) as def from pg_index
       where indrelid = 'inbound_mails'::regclass and pg_get_indexdef(indexrelid) like '%(status%'`.execute(
      t.db,
    );
    expect(index.rows.map((r) => r.def)).toEqual([
      expect.stringMatching(
        /\(status, received_at\) WHERE \(status = ANY \(ARRAY\['pending'::text, 'processing'::text, 'failed'::text\]\)\)$/,
      ),
    ]);
    // The planner takes it for the sweeper's lookup, whatever the table's size.
    const plan = await t.db.transaction().execute(async (trx) => {
      await sql`set local enable_seqscan = off`.execute(trx);
      return sql<{ "QUERY PLAN": string }>`
        explain select id from inbound_mails where status = 'pending' order by received_at limit 10`.execute(
        trx,
      );
    });
    expect(plan.rows.map((r) => r["QUERY PLAN"]).join("\n")).toContain("inbound_mails_unfinished_idx");
  });

  it("looks duplicates up by digest, oldest first, through the digest index even on a table never analysed", async () => {
    const { insertMails, markProcessed, processedTwins, processedTwinsQuery } =
      await import("../../src/store/mails.js");
    const at = (s: number) => new Date(Date.UTC(2026, 10, 1, 0, 0, s));
    const mail = (id: string, sha256: string, s: number) => ({
      id,
      mailFrom: "",
      rcptTo: ["x@b.example"],
      raw: Buffer.from(id),
      sha256,
      receivedAt: at(s),
    });
    await insertMails(t.db, [
      mail("d-new", "dig-a", 30),
      mail("d-old", "dig-a", 10),
      mail("d-mid", "dig-a", 20),
    ]);
    await insertMails(t.db, [mail("d-pending", "dig-b", 5), mail("d-other", "dig-c", 5)]);
    await markProcessed(
      t.db,
      ["d-new", "d-old", "d-mid", "d-other"].map((id) => ({ id, kind: "dsn", tenant: "a" })),
      "v",
      new Date(),
    );
    const twins = await processedTwins(t.db, ["dig-a", "dig-b", "dig-c", "dig-none"]);
    expect(Object.fromEntries(twins)).toEqual({ "dig-a": ["d-old", "d-mid"], "dig-c": ["d-other"] });

    // 20,000 mails the planner knows nothing of (no ANALYZE): the lookup still goes by the digest index.
    await sql`
      insert into inbound_mails (id, mail_from, rcpt_to, size, sha256, raw, status)
      select 'bulk-' || g, '', '{}', 1, md5(g::text), 'x', 'processed' from generate_series(1, 20000) g`.execute(
      t.db,
    );
    const digests = Array.from({ length: 12 }, (_, i) => `dig-${i}`);
    const plan = await sql<{ "QUERY PLAN": string }>`explain ${processedTwinsQuery(digests)}`.execute(t.db);
    const text = plan.rows.map((r) => r["QUERY PLAN"]).join("\n");
    expect(text).toContain("inbound_mails_digest_idx");
    expect(text).not.toMatch(/Seq Scan on inbound_mails/);
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
