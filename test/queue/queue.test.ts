import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createBullQueue } from "../../src/queue/bullmq.js";
import { createMemoryQueue } from "../../src/queue/memory.js";
import type { JobInfo, JobName, Queue } from "../../src/queue/types.js";
import { TEST_REDIS_URL } from "../helpers/db.js";
import { dropQueueKeys, freePort, startRedis, stopRedis } from "../helpers/redis.js";
import { until } from "../helpers/until.js";

type Failed = { name: JobName; id: string; err: unknown };

/** The BullMQ queues' prefixes on the shared Redis, their keys dropped after each test. */
const prefixes: string[] = [];
const newPrefix = () => {
  const p = `t-${randomBytes(6).toString("hex")}`;
  prefixes.push(p);
  return p;
};

const adapters: [string, (onFailed: (f: Failed) => void) => Queue][] = [
  [
    "in-process",
    (onFailed) =>
      createMemoryQueue({ backoffMs: 20, onFailed: (name, id, err) => onFailed({ name, id, err }) }),
  ],
  [
    "BullMQ",
    (onFailed) =>
      createBullQueue({
        redisUrl: TEST_REDIS_URL,
        prefix: newPrefix(),
        backoffMs: 20,
        onFailed: (name, id, err) => onFailed({ name, id, err }),
      }),
  ],
];

describe.each(adapters)("the %s queue", (_name, make) => {
  let q: Queue | undefined;
  const failed: Failed[] = [];
  afterEach(async () => {
    await q?.close();
    failed.length = 0;
    for (const p of prefixes.splice(0)) await dropQueueKeys(p);
  });

  it("runs each job once with its payload, first try numbered 1", async () => {
    q = make((f) => failed.push(f));
    await q.ping();
    const seen: [string, JobInfo][] = [];
    q.process("process-mail", async (p, job) => void seen.push([p.mailId, job]), { concurrency: 4 });
    await q.add("process-mail", { mailId: "m1" }, { jobId: "m1" });
    await q.addBulk("process-mail", [
      { payload: { mailId: "m2" }, opts: { jobId: "m2" } },
      { payload: { mailId: "m3" }, opts: { jobId: "m3" } },
    ]);
    await until(() => seen.length === 3);
    expect(seen.map(([id]) => id).sort()).toEqual(["m1", "m2", "m3"]);
    expect(seen.find(([id]) => id === "m1")?.[1]).toMatchObject({ id: "m1", attempt: 1 });
  });

  it("does not add a job again while one with the same id is still known", async () => {
    q = make((f) => failed.push(f));
    await q.add("process-mail", { mailId: "a" }, { jobId: "dup", delayMs: 300 });
    await q.add("process-mail", { mailId: "b" }, { jobId: "dup" });
    await q.addBulk("process-mail", [{ payload: { mailId: "c" }, opts: { jobId: "dup" } }]);
    const seen: string[] = [];
    q.process("process-mail", async (p) => void seen.push(p.mailId));
    await until(() => seen.length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toEqual(["a"]);
  });

  it("retries a failing job with back-off and reports it after the last try", async () => {
    q = make((f) => failed.push(f));
    const tries: JobInfo[] = [];
    q.process("process-mail", async (_p, job) => {
      tries.push(job);
      throw new Error(`boom ${job.attempt}`);
    });
    await q.add("process-mail", { mailId: "x" }, { jobId: "x", attempts: 3, backoffMs: 10 });
    await until(() => failed.length === 1);
    expect(tries.map((t) => [t.attempt, t.maxAttempts])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    expect(failed[0]).toMatchObject({ name: "process-mail", id: "x" });
    expect(String(failed[0]!.err)).toContain("boom 3");
  });

  it("succeeds on a later try after transient failures", async () => {
    q = make((f) => failed.push(f));
    let n = 0;
    let done = false;
    q.process("process-mail", async () => {
      if (++n < 3) throw new Error("transient");
      done = true;
    });
    await q.add("process-mail", { mailId: "y" }, { jobId: "y", attempts: 5, backoffMs: 10 });
    await until(() => done);
    expect(n).toBe(3);
    expect(failed).toEqual([]);
  });

  it("finishes the jobs in flight when closed", async () => {
    q = make((f) => failed.push(f));
    let started = false;
    let finished = false;
    q.process("process-mail", async () => {
      started = true;
      await new Promise((r) => setTimeout(r, 200));
      finished = true;
    });
    await q.add("process-mail", { mailId: "z" }, { jobId: "z" });
    await until(() => started);
    await q.close();
    expect(finished).toBe(true);
    q = undefined;
  });
});

describe("the BullMQ queue without Redis", () => {
  it("fails fast instead of buffering jobs in memory", async () => {
    const q = createBullQueue({ redisUrl: "redis://127.0.0.1:1", prefix: "t-down" });
    await expect(q.ping()).rejects.toThrow(/redis/i);
    await expect(q.add("process-mail", { mailId: "m" }, { jobId: "m" })).rejects.toThrow(/redis/i);
    await q.close();
  });

  it("adds jobs again once Redis is back, for job names first used while it was down", async () => {
    const port = await freePort();
    let redis = await startRedis(port);
    const q = createBullQueue({ redisUrl: `redis://127.0.0.1:${port}`, prefix: "t-back", addTimeoutMs: 500 });
    try {
      await q.ping();
      await stopRedis(redis);
      // First use of this job name, with Redis gone.
      await expect(q.add("process-mails", { mailIds: ["a"] }, { jobId: "batch-a" })).rejects.toThrow();
      redis = await startRedis(port);
      const seen: string[] = [];
      q.process("process-mails", async (p) => void seen.push(...p.mailIds));
      // Redis needs a moment to be reached again: add until it takes the job.
      let added = false;
      const end = Date.now() + 10_000;
      while (!added && Date.now() < end) {
        added = await q.add("process-mails", { mailIds: ["b"] }, { jobId: "batch-b" }).then(
          () => true,
          () => new Promise<boolean>((r) => setTimeout(() => r(false), 100)),
        );
      }
      expect(added).toBe(true);
      await until(() => seen.includes("b"));
    } finally {
      await q.close();
      await stopRedis(redis);
    }
  });
});
