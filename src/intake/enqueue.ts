// Enqueueing committed mails. The intake enqueues each group commit as one process-mails job (one Redis round
// trip and one job for dozens of mails); the sweeper enqueues one process-mail job per mail, its id the mail id,
// so that its passes never queue a mail twice. A mail queued twice all the same (the sweeper's start-up pass
// while its batch job still waits) is harmless: the second job finds it processed and leaves it alone.
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
