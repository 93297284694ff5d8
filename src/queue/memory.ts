// The in-process queue of the embedded mode (no REDIS_URL): same semantics as the BullMQ adapter (jobId
// dedupe, retries with exponential back-off, concurrency, graceful close), nothing survives the process.
// Durability does not depend on it: every mail is a committed row first, and the sweeper enqueues what a
// restart left pending.
import { randomUUID } from "node:crypto";
import type { AddOptions, Handler, JobInfo, JobName, JobPayloads, Queue } from "./types.js";

export interface MemoryQueueOptions {
  /** Default tries of a job (default 5). */
  attempts?: number;
  /** Default first back-off (default 1000 ms), doubled on each try. */
  backoffMs?: number;
  /** Told of a job given up after its last try (the handler has already seen the error). */
  onFailed?: (name: JobName, id: string, err: unknown) => void;
}

interface Job {
  id: string;
  name: JobName;
  payload: unknown;
  attempt: number;
  maxAttempts: number;
  backoffMs: number;
}

interface Lane {
  handler: Handler<JobName>;
  concurrency: number;
  running: number;
}

export function createMemoryQueue(opts: MemoryQueueOptions = {}): Queue {
  const defaults = { attempts: opts.attempts ?? 5, backoffMs: opts.backoffMs ?? 1000 };
  /** Every job still known (waiting, delayed or running), by name and id: the dedupe set. */
  const known = new Map<string, Job>();
  const ready = new Map<JobName, Job[]>();
  const lanes = new Map<JobName, Lane>();
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  let closed = false;

  const key = (name: JobName, id: string) => `${name}\u0000${id}`;

  function enqueueLater(job: Job, delayMs: number) {
    if (delayMs <= 0) {
      const list = ready.get(job.name) ?? [];
      list.push(job);
      ready.set(job.name, list);
      pump(job.name);
      return;
    }
    const t = setTimeout(() => {
      timers.delete(t);
      enqueueLater(job, 0);
    }, delayMs);
    t.unref();
    timers.add(t);
  }

  function pump(name: JobName) {
    const lane = lanes.get(name);
    const list = ready.get(name);
    if (closed || !lane || !list) return;
    while (lane.running < lane.concurrency && list.length) {
      const job = list.shift()!;
      lane.running++;
      const p = run(lane, job).finally(() => {
        inFlight.delete(p);
        lane.running--;
        pump(name);
      });
      inFlight.add(p);
    }
  }

  async function run(lane: Lane, job: Job) {
    const info: JobInfo = { id: job.id, attempt: job.attempt, maxAttempts: job.maxAttempts };
    try {
      await lane.handler(job.payload as JobPayloads[JobName], info);
      known.delete(key(job.name, job.id));
    } catch (err) {
      if (job.attempt >= job.maxAttempts || closed) {
        known.delete(key(job.name, job.id));
        if (job.attempt >= job.maxAttempts) opts.onFailed?.(job.name, job.id, err);
        return;
      }
      const delay = job.backoffMs * 2 ** (job.attempt - 1);
      job.attempt++;
      enqueueLater(job, delay);
    }
  }

  function addOne(name: JobName, payload: unknown, o: AddOptions = {}) {
    if (closed) throw new Error("queue is closed");
    const id = o.jobId ?? randomUUID();
    const k = key(name, id);
    if (known.has(k)) return;
    const job: Job = {
      id,
      name,
      payload,
      attempt: 1,
      maxAttempts: Math.max(1, o.attempts ?? defaults.attempts),
      backoffMs: o.backoffMs ?? defaults.backoffMs,
    };
    known.set(k, job);
    enqueueLater(job, o.delayMs ?? 0);
  }

  return {
    kind: "memory",
    async add(name, payload, o) {
      addOne(name, payload, o);
    },
    async addBulk(name, jobs) {
      for (const j of jobs) addOne(name, j.payload, j.opts);
    },
    process(name, handler, o) {
      if (lanes.has(name)) throw new Error(`a handler for ${name} is already registered`);
      lanes.set(name, {
        handler: handler as Handler<JobName>,
        concurrency: Math.max(1, o?.concurrency ?? 1),
        running: 0,
      });
      pump(name);
    },
    async ping() {
      if (closed) throw new Error("queue is closed");
    },
    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
  };
}
