// The intake's enqueuer gathers the mails of several group commits into one queue job.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEnqueuer } from "../../src/intake/enqueue.js";
import { newMailId } from "../../src/intake/mail-id.js";
import { createMemoryQueue } from "../../src/queue/memory.js";
import type { Queue } from "../../src/queue/types.js";
import { getMail, insertMails, pendingMailIds } from "../../src/store/mails.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { until } from "../helpers/until.js";

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => t?.drop());

/** A queue whose process-mails jobs are recorded as they run. */
function recordingQueue(): { queue: Queue; jobs: string[][] } {
  const queue = createMemoryQueue();
  const jobs: string[][] = [];
  queue.process("process-mails", async ({ mailIds }) => void jobs.push(mailIds), { concurrency: 1 });
  return { queue, jobs };
}

describe("the intake's enqueuer", () => {
  it("puts the mails of the commits that come within its linger into one job", async () => {
    const { queue, jobs } = recordingQueue();
    const enqueuer = createEnqueuer(t.db, queue, { lingerMs: 50 });
    enqueuer.push(["a1"]);
    enqueuer.push(["a2", "a3"]);
    await until(() => jobs.length > 0);
    await enqueuer.flush();
    expect(jobs).toEqual([["a1", "a2", "a3"]]);
    await queue.close();
  });

  it("sends a full job at once, and the rest when flushed (the intake's shutdown)", async () => {
    const { queue, jobs } = recordingQueue();
    const enqueuer = createEnqueuer(t.db, queue, { lingerMs: 60_000, maxMails: 2 });
    enqueuer.push(["b1", "b2", "b3"]);
    await until(() => jobs.length > 0);
    expect(jobs).toEqual([["b1", "b2"]]);
    await enqueuer.flush();
    await until(() => jobs.length > 1);
    expect(jobs).toEqual([["b1", "b2"], ["b3"]]);
    await queue.close();
  });

  it("with no linger, a job per commit", async () => {
    const { queue, jobs } = recordingQueue();
    const enqueuer = createEnqueuer(t.db, queue, { lingerMs: 0 });
    enqueuer.push(["c1"]);
    await enqueuer.flush();
    enqueuer.push(["c2"]);
    await enqueuer.flush();
    await until(() => jobs.length > 1);
    expect(jobs).toEqual([["c1"], ["c2"]]);
    await queue.close();
  });

  it("leaves the mails of a failed enqueue pending, unmarked, for the sweeper, and says so", async () => {
    const mails = [newMailId(), newMailId()].map((id) => ({
      id,
      mailFrom: "",
      rcptTo: ["a@bounces.example.com"],
      raw: randomBytes(64),
      sha256: id,
      enqueuedAt: new Date(),
    }));
    await insertMails(t.db, mails);
    const queue = createMemoryQueue();
    await queue.close();
    const failures: number[] = [];
    const enqueuer = createEnqueuer(t.db, queue, { lingerMs: 1, onError: (_err, n) => failures.push(n) });
    enqueuer.push(mails.map((m) => m.id));
    await enqueuer.flush();
    expect(failures).toEqual([2]);
    for (const m of mails) expect((await getMail(t.db, m.id))?.enqueued_at).toBeNull();
    expect(await pendingMailIds(t.db, new Date())).toEqual(expect.arrayContaining(mails.map((m) => m.id)));
  });
});
