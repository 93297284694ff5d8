// Group commit for work that arrives concurrently: items submitted while a batch is running wait and go
// together in the next one. Under load one round of I/O serves dozens of items; a lone item goes at once.
// The intake's spool uses it (many mails, one INSERT, one WAL flush), and so does the worker (many mails,
// one transaction).

/** The result of one item of a batch. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface BatcherOptions<T> {
  /** Batches run at once (default 1). */
  maxInFlight?: number;
  /**
   * Items waiting before a batch starts while another one runs (default 1: at once). More: under a light load one
   * batch at a time, each taking what arrived while the one before ran; a second only when the work piles up.
   */
  overlapAt?: number;
  /** Items per batch (default 100). */
  maxItems?: number;
  /** Weight of an item (the spool: its bytes); a batch stops before `maxWeight`, but always takes one item. */
  weight?: (item: T) => number;
  maxWeight?: number;
  /** Items waiting (not yet in a batch) at most; beyond, submit rejects at once with BatcherFullError. */
  maxQueued?: number;
}

/** The batcher's queue is full: the item was not taken. */
export class BatcherFullError extends Error {}

export interface Batcher<T, R> {
  /**
   * Resolves or rejects with the item's own result once its batch has run. An item whose `signal` aborts while
   * it still waits is taken out of the queue (it is never run) and rejected with the signal's reason; once in a
   * batch it runs to its end.
   */
  submit(item: T, signal?: AbortSignal): Promise<R>;
  /** Items waiting for a batch. */
  readonly queued: number;
  /** Resolves when every item submitted so far has settled. */
  drain(): Promise<void>;
}

/**
 * `run` gets the items of a batch and returns one result per item, in order. When it throws, every item of
 * the batch is rejected with its error.
 */
export function createBatcher<T, R>(
  run: (items: T[]) => Promise<Settled<R>[]>,
  opts: BatcherOptions<T> = {},
): Batcher<T, R> {
  const maxInFlight = Math.max(1, opts.maxInFlight ?? 1);
  const maxItems = Math.max(1, opts.maxItems ?? 100);
  const overlapAt = Math.min(maxItems, Math.max(1, opts.overlapAt ?? 1));
  const weight = opts.weight;
  const maxWeight = opts.maxWeight ?? Infinity;
  const maxQueued = opts.maxQueued && opts.maxQueued > 0 ? opts.maxQueued : Infinity;

  interface Pending {
    item: T;
    resolve: (r: R) => void;
    reject: (err: unknown) => void;
  }
  let queue: Pending[] = [];
  let inFlight = 0;
  let idle: (() => void)[] = [];

  function take(): Pending[] {
    let n = 0;
    let w = 0;
    while (n < queue.length && n < maxItems) {
      if (weight) {
        w += weight(queue[n]!.item);
        if (n > 0 && w > maxWeight) break;
      }
      n++;
    }
    const batch = queue.slice(0, n);
    queue = queue.slice(n);
    return batch;
  }

  async function runBatch(batch: Pending[]): Promise<void> {
    try {
      const results = await run(batch.map((p) => p.item));
      batch.forEach((p, i) => {
        const r = results[i];
        if (!r) p.reject(new Error("batch returned no result for this item"));
        else if (r.ok) p.resolve(r.value);
        else p.reject(r.error);
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  function pump(): void {
    while (inFlight < maxInFlight && queue.length && (inFlight === 0 || queue.length >= overlapAt)) {
      inFlight++;
      void runBatch(take()).finally(() => {
        inFlight--;
        pump();
        settled();
      });
    }
  }

  function settled(): void {
    if (!inFlight && !queue.length) {
      const waiters = idle;
      idle = [];
      for (const w of waiters) w();
    }
  }

  return {
    submit(item, signal) {
      return new Promise<R>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        if (queue.length >= maxQueued)
          return reject(new BatcherFullError(`${queue.length} items wait already`));
        const pending: Pending = { item, resolve, reject };
        if (signal) {
          const onAbort = () => {
            const i = queue.indexOf(pending);
            if (i < 0) return;
            queue.splice(i, 1);
            reject(signal.reason);
            settled();
          };
          signal.addEventListener("abort", onAbort, { once: true });
          const done = () => signal.removeEventListener("abort", onAbort);
          pending.resolve = (r) => (done(), resolve(r));
          pending.reject = (e) => (done(), reject(e));
        }
        queue.push(pending);
        pump();
      });
    },
    get queued() {
      return queue.length;
    },
    drain() {
      if (!inFlight && !queue.length) return Promise.resolve();
      return new Promise<void>((r) => idle.push(r));
    },
  };
}

/** Runs `fn` on each item on its own, settling each: the fallback when a whole batch failed. */
export async function settleEach<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<Settled<R>[]> {
  return Promise.all(
    items.map((item) =>
      fn(item).then(
        (value): Settled<R> => ({ ok: true, value }),
        (error: unknown): Settled<R> => ({ ok: false, error }),
      ),
    ),
  );
}
