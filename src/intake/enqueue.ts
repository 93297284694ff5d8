// Enqueueing committed mails. The intake enqueues its committed mails as process-mails jobs (one Redis round
// trip and one job for many mails), gathering the group commits of a few milliseconds into one job; the sweeper
// enqueues one process-mail job per mail, its id the mail id, so that its passes never queue a mail twice. A mail
// queued twice all the same (the sweeper's start-up pass while its batch job still waits) is harmless: the second
// job finds it processed and leaves it alone.
// A failure here loses nothing: the mails stay pending and the sweeper enqueues them.
//
// The intake writes each row already marked enqueued (one write per mail, not two) and clears the mark when
// the enqueue fails, so the sweeper takes them at its next pass; if even that fails (the process died),
// the sweeper takes them once the mark is stale, and every intake sweeps all pending mails when it starts.
import type { Queue } from "../queue/types.js";
import type { Db } from "../store/db.js";
import { clearEnqueued, markEnqueued } from "../store/mails.js";

/** After the intake's commit: enqueue the batch; on failure clear the optimistic mark. */
export async function enqueueCommitted(db: Db, queue: Queue, ids: string[]): Promise<void> {
  if (!ids.length) return;
  try {
    // Mail ids are unique, so the first one names the batch (a second add of the same batch is ignored).
    await queue.add("process-mails", { mailIds: ids }, { jobId: `batch-${ids[0]!}` });
  } catch (err) {
    await clearEnqueued(db, ids).catch(() => undefined);
    throw err;
  }
}

/** The sweeper's: enqueue one job per mail, then mark. */
export async function enqueueMails(
  db: Db,
  queue: Queue,
  ids: string[],
  now: () => Date = () => new Date(),
): Promise<void> {
  if (!ids.length) return;
  await queue.addBulk(
    "process-mail",
    ids.map((id) => ({ payload: { mailId: id }, opts: { jobId: id } })),
  );
  await markEnqueued(db, ids, now());
}

export interface EnqueuerOptions {
  /**
   * How long committed mails wait for more to join their job (default 5 ms). Under a steady load a group commit
   * holds two or three mails; a job costs Redis three scripts and the queue's clients their bookkeeping whatever
   * it carries (bench/intake at 2,000 mails/s: 47 µs of Redis CPU per script). 0: a job per group commit.
   */
  lingerMs?: number;
  /** Mails per job at most (default 200): more go in the next job at once. */
  maxMails?: number;
  /** Told of each failed enqueue (its mails stay pending for the sweeper). */
  onError?: (err: unknown, mails: number) => void;
}

export interface Enqueuer {
  /** Committed mails, to be enqueued within `lingerMs`. */
  push(ids: string[]): void;
  /** Enqueues what waits now, and resolves when every enqueue asked for has settled. */
  flush(): Promise<void>;
}

/** The intake's: committed mails gathered into process-mails jobs, one enqueue in flight at a time. */
export function createEnqueuer(db: Db, queue: Queue, opts: EnqueuerOptions = {}): Enqueuer {
  const lingerMs = opts.lingerMs ?? 5;
  const maxMails = Math.max(1, opts.maxMails ?? 200);
  let waiting: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;

  function send(): void {
    clearTimeout(timer);
    timer = undefined;
    if (inFlight || !waiting.length) return;
    const ids = waiting.slice(0, maxMails);
    waiting = waiting.slice(ids.length);
    inFlight = enqueueCommitted(db, queue, ids)
      .catch((err: unknown) => opts.onError?.(err, ids.length))
      .finally(() => {
        inFlight = undefined;
        schedule();
      });
  }

  function schedule(): void {
    if (inFlight || !waiting.length) return;
    if (waiting.length >= maxMails || lingerMs <= 0) send();
    else timer ??= setTimeout(send, lingerMs);
  }

  return {
    push(ids) {
      if (!ids.length) return;
      waiting.push(...ids);
      schedule();
    },
    async flush() {
      for (;;) {
        send();
        if (!inFlight) return;
        await inFlight;
      }
    },
  };
}
