// The API's in-memory index of suppressed (tenant, address) pairs, over a real PostgreSQL table.
import { sql, type Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SuppressionIndex } from "../../src/api/suppression-index.js";
import { testHash as hashAddress } from "../helpers/db.js";
import type { Database } from "../../src/store/schema.js";
import { removeSuppression, upsertSuppression } from "../../src/store/suppressions.js";
import { createTestDb, testHashSql, type TestDb, withHash } from "../helpers/db.js";
import { until } from "../helpers/until.js";

let t: TestDb;
const silent = { warn: () => {}, info: () => {} };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  t = await createTestDb();
});

afterAll(async () => {
  await t?.drop();
});

const upsert = (db: Kysely<Database>, address: string) =>
  upsertSuppression(
    db,
    withHash({
      tenant: "acme",
      stream: "marketing",
      address,
      reason: "userunknown",
      class: "hard",
      source: "bounce",
      at: new Date(),
    }),
  );
const suppress = (address: string) => t.db.transaction().execute((tx) => upsert(tx, address));
const unsuppress = (address: string) =>
  removeSuppression(t.db, withHash({ tenant: "acme", stream: "marketing", address, at: new Date() }));

const untilNamed = (what: string, cond: () => boolean, ms = 5_000) => until(cond, { what, ms, everyMs: 5 });

describe("suppression index", () => {
  it("loads the rows of any tenant as lookups find them (tabs, backslashes, newlines, non-ASCII)", async () => {
    const tenants = [
      "plain",
      "tab\there",
      "back\\slash\\n",
      "new\nline\r",
      "ünïcødé",
      "日本",
      "emoji 🙂",
      "a\\tb",
    ];
    for (const tenant of tenants)
      await upsertSuppression(
        t.db,
        withHash({
          tenant,
          stream: "marketing",
          address: "someone@example.com",
          reason: "userunknown",
          class: "hard",
          source: "bounce",
          at: new Date(),
        }),
      );
    const index = new SuppressionIndex(t.db, { logger: silent, pollMs: 10 });
    index.start();
    try {
      await index.ready;
      const hash = hashAddress("someone@example.com");
      for (const tenant of tenants) expect(index.mightContain(tenant, hash), tenant).toBe(true);
      expect(index.mightContain("plain", hashAddress("nobody@example.com"))).toBe(false);
    } finally {
      await index.stop();
    }
  });

  it("sizes its first load, and each rebuild, for the table's rows as the planner counts them", async () => {
    // A schema of its own: the planner's count here is 100,000 rows while 10,000 remain.
    const own = await createTestDb();
    try {
      await sql`alter table suppressions set (autovacuum_enabled = false)`.execute(own.db);
      await sql`
        insert into suppressions (tenant, stream, address, address_hash, reason, class, source, first_seen, last_seen)
        select 'sized', 'marketing', a, ${testHashSql("a")}, 'userunknown', 'hard', 'bounce', now(), now()
          from (select 'user' || g || '@example.com' as a from generate_series(1, 100000) g) s`.execute(
        own.db,
      );
      await sql`analyze suppressions`.execute(own.db);
      await sql`delete from suppressions where id > 10000`.execute(own.db);

      const index = new SuppressionIndex(own.db, { logger: silent, pollMs: 10, rebuildMs: 50 });
      index.start();
      try {
        await index.ready;
        // Room for 100,000 without growing: 2^18 slots of 4 bytes (10,000 rows alone would fit in 2^16).
        expect(index.stats.bytes).toBe(4 << 18);
        expect(index.mightContain("sized", hashAddress("user10000@example.com"))).toBe(true);
        await sql`analyze suppressions`.execute(own.db);
        const after = index.stats.rebuilds;
        await untilNamed("a rebuild", () => index.stats.rebuilds > after);
        expect(index.stats.bytes).toBe(4 << 16);
        expect(index.mightContain("sized", hashAddress("user10000@example.com"))).toBe(true);
      } finally {
        await index.stop();
      }
    } finally {
      await own.drop();
    }
  });

  it("forgets a removed suppression at the next rebuild and keeps the others", async () => {
    await suppress("gone@example.com");
    await suppress("kept@example.com");
    const index = new SuppressionIndex(t.db, { logger: silent, pollMs: 10, rebuildMs: 100 });
    index.start();
    try {
      await index.ready;
      expect(index.mightContain("acme", hashAddress("gone@example.com"))).toBe(true);
      await unsuppress("gone@example.com");
      // A removed row stays a (harmless) false positive until a rebuild that started after the removal ends.
      const after = index.stats.rebuilds + 1;
      await untilNamed("two rebuilds", () => index.stats.rebuilds > after);
      expect(index.mightContain("acme", hashAddress("gone@example.com"))).toBe(false);
      expect(index.mightContain("acme", hashAddress("kept@example.com"))).toBe(true);
    } finally {
      await index.stop();
    }
  });

  it("loses no row written while rebuilds are under way", async () => {
    for (let i = 0; i < 20; i++) await suppress(`old${i}@example.com`);
    // A page of 3 rows per poll: every rebuild spans several polls, and a new one starts at once.
    const index = new SuppressionIndex(t.db, { logger: silent, pollMs: 5, pageSize: 3, rebuildMs: 0 });
    index.start();
    try {
      await index.ready;
      const written: string[] = [];
      for (let i = 0; i < 20; i++) {
        const address = `new${i}@example.com`;
        await suppress(address);
        written.push(hashAddress(address));
        await sleep(7);
      }
      const seen = () => written.every((h) => index.mightContain("acme", h));
      await untilNamed("the new rows", seen);
      // From then on, through every swap of sets, each of them stays in.
      const end = index.stats.rebuilds + 3;
      while (index.stats.rebuilds < end) {
        expect(seen()).toBe(true);
        await sleep(1);
      }
      for (let i = 0; i < 20; i++)
        expect(index.mightContain("acme", hashAddress(`old${i}@example.com`))).toBe(true);
    } finally {
      await index.stop();
    }
  });

  it("keeps a row committed late, after the rebuild's scan has passed its id", async () => {
    const index = new SuppressionIndex(t.db, { logger: silent, pollMs: 5, pageSize: 2, rebuildMs: 0 });
    index.start();
    try {
      await index.ready;
      const late = hashAddress("late@example.com");
      await t.db.transaction().execute(async (tx) => {
        const { id } = await upsert(tx, "late@example.com");
        for (let i = 0; i < 5; i++) await suppress(`after${i}@example.com`);
        await untilNamed("a scan past the late row", () => (index.stats.rebuiltTo ?? 0) > Number(id));
      });
      await untilNamed("the late row", () => index.mightContain("acme", late));
      const end = index.stats.rebuilds + 2;
      while (index.stats.rebuilds < end) {
        expect(index.mightContain("acme", late)).toBe(true);
        await sleep(1);
      }
    } finally {
      await index.stop();
    }
  });
});
