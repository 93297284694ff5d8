// Retention of stream pauses on a real PostgreSQL: pauses resumed longer ago than REBOUND_INCIDENT_RETENTION_DAYS
// go (two processes at once, each row once); pauses resumed lately stay, and a pause in force never goes, however
// old; 0 days keeps them all.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import { startRetention, type RetentionConfig } from "../../src/retention.js";
import { activePauses, pauseStream, resumePauses } from "../../src/store/stream-pauses.js";
import { createTestDb, type TestDb } from "../helpers/db.js";

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => t?.drop());

const NOW = new Date("2026-06-01T00:00:00Z");
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000);

/** A pause of `stream` made `since` days ago, resumed `resumed` days ago (null: in force). */
async function pause(stream: string, since: number, resumed: number | null, provider: string | null = null) {
  await pauseStream(t.db, {
    tenant: "acme",
    stream,
    provider,
    reason: `pause of ${stream}`,
    incidentId: null,
    by: "hand",
    note: null,
    now: daysAgo(since),
  });
  if (resumed !== null)
    await resumePauses(t.db, { tenant: "acme", stream, provider, by: "hand", now: daysAgo(resumed) });
}

const config = (incidentRetentionDays: number): RetentionConfig => ({
  rawRetentionDays: 0,
  eventRetentionDays: 0,
  mailRetentionDays: 0,
  logRetentionDays: 0,
  rollupHourlyRetentionDays: 0,
  rollupDailyRetentionDays: 0,
  espEventRetentionDays: 0,
  dmarcRetentionDays: 0,
  tlsReportRetentionDays: 0,
  incidentRetentionDays,
});

const streamsLeft = async () =>
  (
    await t.db
      .selectFrom("stream_pauses")
      .select(["stream", "provider"])
      .orderBy("stream")
      .orderBy("provider")
      .execute()
  ).map((r) => `${r.stream}/${r.provider || "*"}`);

describe("retention of stream pauses", () => {
  it("deletes pauses resumed before the incidents' retention, in two processes at once, and never a pause in force", async () => {
    await pause("old", 600, 500); // resumed 500 days ago: goes
    await pause("old", 450, 400, "google"); // resumed 400 days ago: goes
    await pause("recent", 40, 20); // resumed 20 days ago: stays
    await pause("edge", 370, 360); // resumed 360 days ago, inside 365: stays
    await pause("stuck", 1000, null); // in force for 1,000 days: stays
    await pause("again", 700, 600); // resumed long ago, paused again since and in force: the old one goes
    await pause("again", 10, null);
    const logger = createLogger("silent");

    // 0 days: kept forever.
    const keep = startRetention(
      { db: t.db, config: config(0), logger, now: () => NOW },
      { intervalMs: 3_600_000 },
    );
    expect((await keep.run()).streamPausesDeleted).toBe(0);
    keep.stop();
    expect(await streamsLeft()).toHaveLength(7);

    const [a, b] = [0, 1].map(() =>
      startRetention({ db: t.db, config: config(365), logger, now: () => NOW }, { intervalMs: 3_600_000 }),
    );
    const passes = await Promise.all([a!.run(), b!.run()]);
    a!.stop();
    b!.stop();
    expect(passes.reduce((n, p) => n + p.streamPausesDeleted, 0)).toBe(3);
    expect(await streamsLeft()).toEqual(["again/*", "edge/*", "recent/*", "stuck/*"]);
    expect((await activePauses(t.db, "acme")).map((p) => [p.stream, p.since])).toEqual([
      ["again", daysAgo(10)],
      ["stuck", daysAgo(1000)],
    ]);
  });
});
