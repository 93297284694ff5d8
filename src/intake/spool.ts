// The durable spool with group commit. A session's mail is durable when the INSERT that holds it has
// committed in PostgreSQL (WAL flushed: synchronous_commit), and only then does the session say 250.
//
// Why a PostgreSQL row rather than a file fsync'd and renamed: the row is the one copy every role sees (an
// intake and a worker on different machines share PostgreSQL, not a disk); status, attempts, errors and raw
// retention live beside the bytes; the commit is the fsync, and one commit can carry many mails. Mails that
// arrive on concurrent sessions while a batch is being written wait for the next batch, so under load one
// WAL flush makes dozens of mails durable (group commit) while a lone mail is written at once.
import type { Db } from "../store/db.js";
import { insertMails, type NewMail } from "../store/mails.js";

export interface SpoolOptions {
  /** Batches written at once (default 2). */
  maxInFlight?: number;
  /** Rows per batch (default 200). */
  maxBatchRows?: number;
  /** Bytes per batch (default 16 MB); a mail larger than this is written alone. */
  maxBatchBytes?: number;
  /** Told of every committed batch (the enqueuer). Errors thrown there are not the sessions' concern. */
  onCommitted?: (ids: string[]) => void;
}

export interface Spool {
  /** Resolves once the mail is committed; rejects when it could not be (the session says 451). */
  write(mail: NewMail): Promise<void>;
  /** Resolves when every write asked for so far has settled. */
  drain(): Promise<void>;
}

interface Pending {
  mail: NewMail;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export function createSpool(db: Db, opts: SpoolOptions = {}): Spool {
  const maxInFlight = Math.max(1, opts.maxInFlight ?? 2);
  const maxRows = Math.max(1, opts.maxBatchRows ?? 200);
  const maxBytes = opts.maxBatchBytes ?? 16 * 1024 * 1024;
  let queue: Pending[] = [];
  let inFlight = 0;
  let idle: (() => void)[] = [];

  /** A unique violation on the retry means the batch did commit before its connection failed. */
  async function insertOne(mail: NewMail): Promise<void> {
    try {
      await insertMails(db, [mail]);
    } catch (err) {
      if ((err as { code?: string }).code !== "23505") throw err;
    }
  }

  function takeBatch(): Pending[] {
    let bytes = 0;
    let n = 0;
    while (n < queue.length && n < maxRows) {
      bytes += queue[n]!.mail.raw.length;
      if (n > 0 && bytes > maxBytes) break;
      n++;
    }
    const batch = queue.slice(0, n);
    queue = queue.slice(n);
    return batch;
  }

  function pump() {
    while (inFlight < maxInFlight && queue.length) {
      const batch = takeBatch();
      inFlight++;
      insertMails(
        db,
        batch.map((p) => p.mail),
      )
        .then(
          () => {
            for (const p of batch) p.resolve();
            opts.onCommitted?.(batch.map((p) => p.mail.id));
          },
          async (err: unknown) => {
            if (batch.length === 1) return batch[0]!.reject(err);
            // One bad row must not fail its neighbours: write them one by one.
            const committed: string[] = [];
            await Promise.all(
              batch.map((p) =>
                insertOne(p.mail).then(
                  () => {
                    committed.push(p.mail.id);
                    p.resolve();
                  },
                  (e: unknown) => p.reject(e),
                ),
              ),
            );
            if (committed.length) opts.onCommitted?.(committed);
          },
        )
        .finally(() => {
          inFlight--;
          pump();
          if (!inFlight && !queue.length) {
            const waiters = idle;
            idle = [];
            for (const w of waiters) w();
          }
        });
    }
  }

  return {
    write(mail) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ mail, resolve, reject });
        pump();
      });
    },
    drain() {
      if (!inFlight && !queue.length) return Promise.resolve();
      return new Promise<void>((r) => idle.push(r));
    },
  };
}
