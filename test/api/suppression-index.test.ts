// The API's lookups over the in-memory copy of the suppressions in force (SuppressionMirror), on a real PostgreSQL.
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SuppressionIndex } from "../../src/api/suppression-index.js";
import { testHash as hashAddress } from "../helpers/db.js";
import type { Database } from "../../src/store/schema.js";
import { removeSuppression, upsertSuppression } from "../../src/store/suppressions.js";
import { createTestDb, type TestDb, withHash } from "../helpers/db.js";

let t: TestDb;
const silent = { warn: () => {}, info: () => {} };

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

  it("forgets a removed suppression once a poll after the removal has completed, and keeps the others", async () => {
    await suppress("gone@example.com");
    await suppress("kept@example.com");
    const index = new SuppressionIndex(t.db, { logger: silent, pollMs: 10 });
    index.start();
    try {
      await index.ready;
      expect(index.mightContain("acme", hashAddress("gone@example.com"))).toBe(true);
      await unsuppress("gone@example.com");
      // No rebuild to wait for (the old fingerprint index kept a removed row as a false positive for an hour).
      await index.mirror.caughtUp();
      expect(index.mightContain("acme", hashAddress("gone@example.com"))).toBe(false);
      expect(index.mightContain("acme", hashAddress("kept@example.com"))).toBe(true);
      expect(index.mightContain("other-tenant", hashAddress("kept@example.com"))).toBe(false);
      expect([...(await index.lookup("acme", [hashAddress("gone@example.com")])).keys()]).toEqual([]);
      const kept = (await index.lookup("acme", [hashAddress("kept@example.com")])).get(
        hashAddress("kept@example.com"),
      );
      expect(kept?.map((r) => [r.address, r.stream, r.reason])).toEqual([
        ["kept@example.com", "marketing", "userunknown"],
      ]);
    } finally {
      await index.stop();
    }
  });

  it("counts a row this process noted before any poll shows it, until a poll started after the note", async () => {
    const clock = 0;
    // No poll after the first load within the test: only note() can make the row count.
    const index = new SuppressionIndex(t.db, {
      logger: silent,
      pollMs: 3_600_000,
      maxStalenessMs: 3_600_000,
      monotonic: () => clock,
    });
    index.start();
    try {
      await index.ready;
      const h = hashAddress("noted@example.com");
      await suppress("noted@example.com");
      expect(index.mightContain("acme", h)).toBe(false); // written by another process: not known yet
      index.note("acme", h);
      expect(index.mightContain("acme", h)).toBe(true);
      expect(index.mightContain("acme", hashAddress("never@example.com"))).toBe(false);
    } finally {
      await index.stop();
    }
  });

  it("rules nothing out while its last poll is older than its staleness bound (the database is asked)", async () => {
    let clock = 0;
    const index = new SuppressionIndex(t.db, {
      logger: silent,
      pollMs: 3_600_000,
      maxStalenessMs: 1_000,
      monotonic: () => clock,
    });
    index.start();
    try {
      await index.ready;
      const nobody = hashAddress("nobody-stale@example.com");
      expect(index.mightContain("acme", nobody)).toBe(false);
      await suppress("nobody-stale@example.com");
      clock += 1_000;
      expect(index.stats.stale).toBe(true);
      expect(index.mightContain("acme", nobody)).toBe(true);
      // and the lookup then finds the row the copy has not seen
      expect((await index.lookup("acme", [nobody])).get(nobody)).toHaveLength(1);
    } finally {
      await index.stop();
    }
  });

  it("shares the lookup role's copy when given one: the same answers, and stopping the index leaves it running", async () => {
    const { SuppressionMirror } = await import("../../src/integrations/postfix/suppression-mirror.js");
    const mirror = new SuppressionMirror(t.db, { logger: silent, pollMs: 10 });
    mirror.start();
    try {
      const index = new SuppressionIndex(t.db, { logger: silent, mirror });
      index.start();
      await index.ready;
      await suppress("shared@example.com");
      await mirror.caughtUp();
      expect(index.mightContain("acme", hashAddress("shared@example.com"))).toBe(true);
      await index.stop();
      await suppress("shared-after@example.com");
      await mirror.caughtUp(); // still polling
      expect(index.mightContain("acme", hashAddress("shared-after@example.com"))).toBe(true);
    } finally {
      await mirror.stop();
    }
  });
});
