// The pauses kept in memory for the lookups, on real PostgreSQL: `current` never waits (undefined before the
// first read, the pauses last read after), and once they are older than the TTL it hands them out as they were
// while a read in the background brings a pause made since.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PauseCache } from "../../src/alerts/pause-cache.js";
import { pauseStream } from "../../src/store/stream-pauses.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { until } from "../helpers/until.js";

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => {
  await t?.drop();
});

const pause = (stream: string) =>
  pauseStream(t.db, {
    tenant: "default",
    stream,
    provider: null,
    reason: "test",
    incidentId: null,
    by: "hand",
    note: null,
    now: new Date(),
  });

describe("PauseCache.current", () => {
  it("is undefined before a read, then the pauses last read; past the TTL the old ones, then the new", async () => {
    let clock = 0;
    const cache = new PauseCache(t.db, 1000, () => clock);
    expect(cache.current("default")).toBeUndefined();
    await pause("marketing");
    expect((await cache.get("default")).map((p) => p.stream)).toEqual(["marketing"]);
    await pause("newsletter");
    // Within the TTL: what was read, and no read started.
    expect(cache.current("default")!.map((p) => p.stream)).toEqual(["marketing"]);
    clock = 1000;
    // Past it: still what was read (no waiting), with a read started that brings the new pause.
    expect(cache.current("default")!.map((p) => p.stream)).toEqual(["marketing"]);
    await until(() => cache.current("default")!.length === 2, { what: "the read in the background" });
    expect(cache.current("default")!.map((p) => p.stream)).toEqual(["marketing", "newsletter"]);
  });
});
