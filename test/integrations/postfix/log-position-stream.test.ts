// `rebound ingest postfix-log -` on real PostgreSQL and real streams (`tail -F mail.log |`, `journalctl -f |`): a
// stream that stays open commits the lines it has once they have waited about a second, without waiting for 5,000
// of them or for its end; and across batches cut by count, by time and by the end, no line is lost or counted
// twice.
import { spawn } from "node:child_process";
import { PassThrough, type Readable } from "node:stream";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { ingestPostfixLog, type IngestCounts } from "../../../src/integrations/postfix/log-ingest.js";
import { createTestDb, type TestDb } from "../../helpers/db.js";
import { until } from "../../helpers/until.js";
import { ATTRIBUTION, bouncedMail, ingestDeps } from "./log-fixtures.js";

const attribution = ATTRIBUTION;

let db: TestDb;

beforeEach(async () => {
  await db?.drop();
  db = await createTestDb();
});
afterAll(async () => {
  await db?.drop();
});

const deps = () => ingestDeps(db.db);

/** Mail `i`, bounced (one event each): 3 lines. */
const bounced = (i: number) => bouncedMail(`S${String(i).padStart(6, "0")}`, `user${i}@example.org`);
const text = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, k) => bounced(from + k))
    .flat()
    .join("\n") + "\n";
/** Events by address: each mail must show once. */
const eventCounts = async () => {
  const rows = await db.db
    .selectFrom("events")
    .select(["address", (eb) => eb.fn.countAll<string>().as("n")])
    .groupBy("address")
    .execute();
  return { addresses: rows.length, most: Math.max(0, ...rows.map((r) => Number(r.n))) };
};
const hardInRollups = async () =>
  (await db.db.selectFrom("rollups").select("hard").execute()).reduce((n, r) => n + Number(r.hard), 0);

function ingestStream(stream: Readable) {
  const seen: { c?: IngestCounts; batches: number } = { batches: 0 };
  let ended = false;
  const run = ingestPostfixLog(
    deps(),
    { stream },
    { attribution, onBatch: (c) => ((seen.c = { ...c }), seen.batches++) },
  ).finally(() => (ended = true));
  return { run, lines: () => seen.c?.lines ?? 0, batches: () => seen.batches, ended: () => ended };
}

describe("ingest postfix-log from a stream that stays open", () => {
  it("commits a few lines without the stream ending, then the next ones, and at the end nothing lost or twice", async () => {
    const input = new PassThrough();
    const s = ingestStream(input);
    input.write(text(0, 2));
    await until(async () => (await eventCounts()).addresses === 2, { what: "the first two mails" });
    expect(s.lines()).toBe(6);
    expect(s.ended()).toBe(false);
    // A line written in two pieces is one line.
    const more = text(2, 4);
    input.write(more.slice(0, 100));
    input.write(more.slice(100));
    await until(async () => (await eventCounts()).addresses === 4, { what: "the next two mails" });
    expect(s.lines()).toBe(12);
    expect(s.ended()).toBe(false);
    input.end(text(4, 5));
    expect(await s.run).toMatchObject({ lines: 15, bounced: 5, events: 5 });
    expect(await eventCounts()).toEqual({ addresses: 5, most: 1 });
    expect(await hardInRollups()).toBe(5);
  });

  it("cuts more than 5,000 lines into full batches, commits the rest once it has waited, and counts each line once", async () => {
    const input = new PassThrough();
    const s = ingestStream(input);
    // 2,100 mails: 6,300 lines, written in chunks, then nothing for a while (the stream open).
    for (let i = 0; i < 2_100; i += 300) input.write(text(i, i + 300));
    await until(() => s.lines() === 6_300, { what: "all the lines committed before the end" });
    expect(s.ended()).toBe(false);
    expect(s.batches()).toBeGreaterThanOrEqual(2);
    expect(await eventCounts()).toEqual({ addresses: 2_100, most: 1 });
    input.end(text(2_100, 2_101));
    expect(await s.run).toMatchObject({ lines: 6_303, events: 2_101 });
    expect(await eventCounts()).toEqual({ addresses: 2_101, most: 1 });
    expect(await hardInRollups()).toBe(2_101);
  });

  it("commits what a child process's pipe gave while the process runs on (tail -F), and the rest when it exits", async () => {
    // Writes two mails, then waits for a word on its stdin to write a third and exit.
    const script = `
      process.stdout.write(${JSON.stringify(text(0, 2))});
      process.stdin.once("data", () => process.stdout.write(${JSON.stringify(text(2, 3))}, () => process.exit(0)));
    `;
    const child = spawn(process.execPath, ["-e", script], { stdio: ["pipe", "pipe", "inherit"] });
    try {
      const s = ingestStream(child.stdout);
      await until(async () => (await eventCounts()).addresses === 2, { what: "the mails before the pause" });
      expect(s.ended()).toBe(false);
      expect(child.exitCode).toBe(null);
      child.stdin.write("go\n");
      expect(await s.run).toMatchObject({ lines: 9, events: 3 });
      expect(await eventCounts()).toEqual({ addresses: 3, most: 1 });
    } finally {
      child.kill();
    }
  });

  it("throws a stream's error that comes while lines wait for their time, and keeps the lines committed before", async () => {
    const input = new PassThrough();
    const s = ingestStream(input);
    input.write(text(0, 2));
    await until(async () => (await eventCounts()).addresses === 2, { what: "the first two mails" });
    input.write(text(2, 3));
    await until(() => input.readableLength === 0, { what: "the third mail taken from the stream" });
    input.destroy(new Error("the producer died"));
    await expect(s.run).rejects.toThrow(/the producer died/);
    expect(await eventCounts()).toEqual({ addresses: 2, most: 1 });
  });
});
