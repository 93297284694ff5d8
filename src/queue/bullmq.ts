// The BullMQ adapter (REDIS_URL set): one BullMQ queue per job name under a key prefix, retries with
// exponential back-off, jobId dedupe, workers that finish their jobs on close.
//
// Producers fail fast while Redis is unreachable (no offline queue, a bounded wait): the intake has already
// committed the mail and said 250, and the sweeper enqueues it once Redis is back. Workers reconnect forever.
import { Queue as BullQueue, Worker, type Job, type JobsOptions } from "bullmq";
import { Redis, type RedisOptions } from "ioredis";
import type { Logger } from "../log.js";
import type { AddOptions, Handler, JobName, JobPayloads, Queue } from "./types.js";

export interface BullQueueOptions {
  redisUrl: string;
  /** Key prefix in Redis (default `rebound`); tests use a unique one. */
  prefix?: string;
  /** Default tries of a job (default 5). */
  attempts?: number;
  /** Default first back-off (default 1000 ms), doubled on each try. */
  backoffMs?: number;
  /** A job whose worker died is taken up again after about this long (default 30 s). */
  stalledMs?: number;
  /** How long add() waits for Redis before it gives up (default 5 s). */
  addTimeoutMs?: number;
  logger?: Logger;
  /** Told of a job given up after its last try. */
  onFailed?: (name: JobName, id: string, err: unknown) => void;
}

export function createBullQueue(o: BullQueueOptions): Queue {
  const prefix = o.prefix ?? "rebound";
  const stalledMs = o.stalledMs ?? 30_000;
  const addTimeoutMs = o.addTimeoutMs ?? 5_000;
  const log = o.logger;
  const base: RedisOptions = {
    // Keep trying to reconnect, at most every 2 s.
    retryStrategy: (times) => Math.min(100 * times, 2_000),
  };
  // Producer: fail fast when Redis is away instead of buffering commands in memory.
  const producer = new Redis(o.redisUrl, { ...base, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  const connections: Redis[] = [producer];
  let lastRedisError = 0;
  const onRedisError = (err: Error) => {
    // ioredis reports every failed reconnect; one line per 10 s is enough.
    const now = Date.now();
    if (now - lastRedisError > 10_000) {
      lastRedisError = now;
      log?.warn({ err: err.message }, "redis unavailable");
    }
  };
  producer.on("error", onRedisError);

  const queues = new Map<JobName, BullQueue>();
  const workers: Worker[] = [];
  let closed = false;

  const defaultJobOptions = (): JobsOptions => ({
    attempts: o.attempts ?? 5,
    backoff: { type: "exponential", delay: o.backoffMs ?? 1000 },
    // Finished jobs leave Redis, so re-processing a mail (same jobId) later adds it again; the dedupe window
    // is the job's life (waiting, delayed, active), which is what the intake and the sweeper need.
    removeOnComplete: true,
    removeOnFail: true,
  });

  function queueOf(name: JobName): BullQueue {
    let q = queues.get(name);
    if (!q) {
      q = new BullQueue(name, {
        connection: producer,
        prefix,
        defaultJobOptions: defaultJobOptions(),
        skipWaitingForReady: true,
      });
      q.on("error", onRedisError);
      queues.set(name, q);
    }
    return q;
  }

  function jobOptions(a: AddOptions = {}): JobsOptions {
    return {
      ...(a.jobId !== undefined ? { jobId: a.jobId } : {}),
      ...(a.delayMs ? { delay: a.delayMs } : {}),
      ...(a.attempts !== undefined ? { attempts: Math.max(1, a.attempts) } : {}),
      ...(a.backoffMs !== undefined ? { backoff: { type: "exponential", delay: a.backoffMs } } : {}),
    };
  }

  /**
   * A call on the BullMQ queue of a job name, bounded in time. A BullMQ queue that first met Redis while it was
   * down keeps failing after Redis is back (its connection set-up failed once and for all), so after a failure
   * the queue is dropped and the next call makes a new one.
   */
  async function onQueue<T>(name: JobName, fn: (q: BullQueue) => Promise<T>): Promise<T> {
    const q = queueOf(name);
    try {
      return await bounded(fn(q));
    } catch (err) {
      if (queues.get(name) === q) {
        queues.delete(name);
        q.close().catch(() => undefined);
      }
      throw err;
    }
  }

  // Whether the last attempt to reach Redis failed: then producers fail at once instead of waiting.
  let down = false;
  producer.on("ready", () => (down = false));
  producer.on("error", () => (down = producer.status !== "ready"));

  async function ready(): Promise<void> {
    if (producer.status === "ready") return;
    if (down || producer.status === "end") throw new Error(`redis is not connected (${producer.status})`);
    let onReady!: () => void;
    let onError!: (err: Error) => void;
    try {
      await bounded(
        new Promise<void>((resolve, reject) => {
          onReady = resolve;
          onError = (err) => reject(new Error(`redis is not connected (${err.message})`));
          producer.once("ready", onReady);
          producer.once("error", onError);
        }),
      );
    } finally {
      producer.off("ready", onReady);
      producer.off("error", onError);
    }
  }

  async function bounded<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        p,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`redis did not answer within ${addTimeoutMs} ms`)),
            addTimeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    kind: "bullmq",
    async add(name, payload, a) {
      if (closed) throw new Error("queue is closed");
      await ready();
      await onQueue(name, (q) => q.add(name, payload, jobOptions(a)));
    },
    async addBulk(name, jobs) {
      if (closed) throw new Error("queue is closed");
      if (!jobs.length) return;
      await ready();
      await onQueue(name, (q) =>
        q.addBulk(
          jobs.map((j) => ({
            name,
            data: j.payload,
            opts: { ...defaultJobOptions(), ...jobOptions(j.opts) },
          })),
        ),
      );
    },
    process<N extends JobName>(name: N, handler: Handler<N>, p?: { concurrency?: number }) {
      if (closed) throw new Error("queue is closed");
      // Workers block on Redis: their own connection, retrying every command until Redis is back.
      const conn = new Redis(o.redisUrl, { ...base, maxRetriesPerRequest: null });
      conn.on("error", onRedisError);
      connections.push(conn);
      const worker = new Worker(
        name,
        async (job: Job) => {
          const attempt = job.attemptsMade + 1;
          const maxAttempts = job.opts.attempts ?? 1;
          try {
            await handler(job.data as JobPayloads[N], { id: job.id ?? "", attempt, maxAttempts });
          } catch (err) {
            if (attempt >= maxAttempts) o.onFailed?.(name, job.id ?? "", err);
            throw err;
          }
        },
        {
          connection: conn,
          prefix,
          concurrency: Math.max(1, p?.concurrency ?? 1),
          lockDuration: stalledMs,
          stalledInterval: stalledMs,
          maxStalledCount: 10,
          autorun: true,
        },
      );
      worker.on("error", onRedisError);
      workers.push(worker);
    },
    async ping() {
      await ready();
      await bounded(producer.ping());
    },
    async close() {
      if (closed) return;
      closed = true;
      // Finish the jobs in flight (bounded: with Redis gone a worker cannot report completion).
      await withTimeout(Promise.allSettled(workers.map((w) => w.close())), stalledMs);
      await withTimeout(Promise.allSettled([...queues.values()].map((q) => q.close())), 5_000);
      for (const c of connections) c.disconnect();
    },
  };
}

async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
