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
import { BatcherFullError, createBatcher, settleEach, type Settled } from "../util/batcher.js";

export interface SpoolOptions {
  /**
   * Batches written at once (default 1). One: every mail that arrives while a batch commits goes into the next
   * one, so the batches are about twice as large as with two in flight (measured on bench/intake (a): 8 mails
   * per INSERT instead of 4.5), with half the statements, WAL flushes and queue jobs, and worker batches of 30
   * instead of 21 mails. A lone mail still goes at once.
   */
  maxInFlight?: number;
  /** Rows per batch (default 200). */
  maxBatchRows?: number;
  /** Bytes per batch (default 16 MB); a mail larger than this is written alone. */
  maxBatchBytes?: number;
  /** Told of every committed batch (the enqueuer). Errors thrown there are not the sessions' concern. */
  onCommitted?: (ids: string[]) => void;
  /**
   * How long a write may take before it is given up with SpoolTimeoutError (0: no limit). A mail still waiting
   * for its batch is then taken out of the queue and never written; one whose batch is already running may
   * still commit after the session was told 451 (the sender's retry is then a duplicate, which the worker
   * recognises by its digest).
   */
  timeoutMs?: number;
  /**
   * Mails waiting for a batch at most (0: no limit); beyond, a write is refused at once with SpoolFullError.
   * With PostgreSQL hung, what waits is bounded by this and by the timeout.
   */
  maxQueued?: number;
}

/** The mail was not committed in time (PostgreSQL slow or hung). */
export class SpoolTimeoutError extends Error {}
/** Too many mails wait for the database already: this one was not taken. */
export class SpoolFullError extends Error {}

export interface Spool {
  /** Resolves once the mail is committed; rejects when it could not be (the session says 451). */
  write(mail: NewMail): Promise<void>;
  /** Mails waiting for a batch now. */
  readonly queued: number;
  /** Resolves when every write asked for so far has settled. */
  drain(): Promise<void>;
}

export function createSpool(db: Db, opts: SpoolOptions = {}): Spool {
  /** A unique violation on the retry means the batch did commit before its connection failed. */
  async function insertOne(mail: NewMail): Promise<void> {
    try {
      await insertMails(db, [mail]);
    } catch (err) {
      if ((err as { code?: string }).code !== "23505") throw err;
    }
  }

  async function writeBatch(mails: NewMail[]): Promise<Settled<void>[]> {
    let results: Settled<void>[];
    try {
      await insertMails(db, mails);
      results = mails.map(() => ({ ok: true, value: undefined }));
    } catch (err) {
      if (mails.length === 1) throw err;
      // One bad row must not fail its neighbours: write them one by one.
      results = await settleEach(mails, insertOne);
    }
    const committed = mails.filter((_, i) => results[i]!.ok).map((m) => m.id);
    try {
      if (committed.length) opts.onCommitted?.(committed);
    } catch {
      // The enqueuer's trouble: the sweeper enqueues what it missed; the mails are committed all the same.
    }
    return results;
  }

  const batcher = createBatcher(writeBatch, {
    maxInFlight: opts.maxInFlight ?? 1,
    maxItems: opts.maxBatchRows ?? 200,
    weight: (m) => m.raw.length,
    maxWeight: opts.maxBatchBytes ?? 16 * 1024 * 1024,
    maxQueued: opts.maxQueued ?? 0,
  });
  const timeoutMs = opts.timeoutMs ?? 0;

  function write(mail: NewMail): Promise<void> {
    const full = (err: unknown) => {
      throw err instanceof BatcherFullError
        ? new SpoolFullError(`mail not taken: ${err.message} for the database`)
        : err;
    };
    if (timeoutMs <= 0) return batcher.submit(mail).catch(full);
    const abort = new AbortController();
    const timer = setTimeout(
      () => abort.abort(new SpoolTimeoutError(`mail not committed within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const aborted = new Promise<never>((_, reject) =>
      abort.signal.addEventListener("abort", () => reject(abort.signal.reason as Error), { once: true }),
    );
    // The batch of a mail already being written runs on; its result no longer matters to the session.
    return Promise.race([batcher.submit(mail, abort.signal), aborted])
      .catch(full)
      .finally(() => clearTimeout(timer));
  }

  return {
    write,
    get queued() {
      return batcher.queued;
    },
    drain: () => batcher.drain(),
  };
}
