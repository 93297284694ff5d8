// After the commit: one process-mail job per mail, its id the mail id (so the sweeper and a second try never
// make two), then the rows are marked enqueued. A failure here loses nothing: the mails stay pending.
import type { Queue } from "../queue/types.js";
import type { Db } from "../store/db.js";
import { markEnqueued } from "../store/mails.js";

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
