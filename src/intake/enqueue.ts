// One process-mail job per mail, its id the mail id (so the sweeper and a second try never make two).
// A failure here loses nothing: the mails stay pending and the sweeper enqueues them.
//
// The intake writes each row already marked enqueued (one write per mail, not two) and clears the mark when
// the enqueue fails, so the sweeper takes them at its next pass; if even that fails (the process died),
// the sweeper takes them once the mark is stale, and every intake sweeps all pending mails when it starts.
import type { Queue } from "../queue/types.js";
import type { Db } from "../store/db.js";
import { clearEnqueued, markEnqueued } from "../store/mails.js";

/** After the intake's commit: enqueue; on failure clear the optimistic mark. */
export async function enqueueCommitted(db: Db, queue: Queue, ids: string[]): Promise<void> {
  try {
    await addJobs(queue, ids);
  } catch (err) {
    await clearEnqueued(db, ids).catch(() => undefined);
    throw err;
  }
}

function addJobs(queue: Queue, ids: string[]): Promise<void> {
  return queue.addBulk(
    "process-mail",
    ids.map((id) => ({ payload: { mailId: id }, opts: { jobId: id } })),
  );
}

/** The sweeper's: enqueue, then mark. */
export async function enqueueMails(
  db: Db,
  queue: Queue,
  ids: string[],
  now: () => Date = () => new Date(),
): Promise<void> {
  if (!ids.length) return;
  await addJobs(queue, ids);
  await markEnqueued(db, ids, now());
}
