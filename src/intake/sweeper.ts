// The sweeper: enqueues the mails that were committed but never enqueued (Redis was down, the process died
// between the commit and the enqueue, the in-process queue was lost with its process) and those enqueued so
// long ago that their job must have been lost. Jobs dedupe on the mail id, so a mail still queued is not
// queued twice.
import type { Logger } from "../log.js";
import type { Queue } from "../queue/types.js";
import type { Db } from "../store/db.js";
import { pendingMailIds } from "../store/mails.js";
import { enqueueMails } from "./enqueue.js";

export interface SweeperDeps {
  db: Db;
  queue: Queue;
  logger: Logger;
  now?: () => Date;
}

export interface SweeperOptions {
  intervalMs: number;
  /** A pending mail enqueued longer ago than this is enqueued again. */
  staleMs: number;
  /** Mails per round (default 1000). */
  batch?: number;
}

export interface Sweeper {
  /** One pass; `all` takes every pending mail whatever its enqueue time (on start). Returns how many. */
  sweep(opts?: { all?: boolean }): Promise<number>;
  stop(): Promise<void>;
}

export function startSweeper(deps: SweeperDeps, opts: SweeperOptions): Sweeper {
  const now = deps.now ?? (() => new Date());
  const batch = opts.batch ?? 1000;
  let running: Promise<number> | undefined;
  let stopped = false;

  async function pass(all: boolean): Promise<number> {
    let total = 0;
    // Each round marks what it enqueued, so the next one moves on; bounded in case the marks fail.
    for (let round = 0; round < 1000 && !stopped; round++) {
      const t = now();
      const before = all ? t : new Date(t.getTime() - opts.staleMs);
      const ids = await pendingMailIds(deps.db, before, batch);
      if (!ids.length) break;
      await enqueueMails(deps.db, deps.queue, ids, () => t);
      total += ids.length;
      if (ids.length < batch) break;
    }
    if (total) deps.logger.info({ enqueued: total }, "sweeper enqueued pending mails");
    return total;
  }

  function sweep(o: { all?: boolean } = {}): Promise<number> {
    if (!running) {
      running = pass(o.all ?? false).finally(() => (running = undefined));
    }
    return running;
  }

  let lastError = 0;
  const timer = setInterval(() => {
    sweep().catch((err: unknown) => {
      const t = Date.now();
      if (t - lastError > 60_000) {
        lastError = t;
        deps.logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          "sweeper could not enqueue; will retry",
        );
      }
    });
  }, opts.intervalMs);
  timer.unref();

  return {
    sweep,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
