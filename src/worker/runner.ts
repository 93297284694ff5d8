// The worker role: consumes process-mails jobs (a group commit of the intake) and process-mail jobs (one mail),
// keeps a mail that could not be processed after its last try as `failed` with its error (re-processable, never
// dropped). Its purge() and expire() run one step of retention now; the timer that runs retention in every role
// is src/retention.ts.
//
// Mails in flight at once are processed together: the mails of concurrent jobs are grouped into batches of up to
// `workerBatchSize`, each batch in one transaction (processMails), so that under load one commit serves many
// mails. When a batch fails, its mails are processed again one by one (processMail, a transaction each), so a
// bad mail fails alone and retries with back-off.
//
// Mails are classified in a pool of threads (classify-pool.ts) with a deadline each: a mail past it is kept as
// `failed` (classify_timeout), counted, and not retried; the event loop that serves the other roles never
// runs the classifier.
import type { Config } from "../config.js";
import type { AddressHasher } from "../core/address.js";
import type { Policy } from "../core/policy-config.js";
import type { Logger } from "../log.js";
import { providerLabel, type Metrics } from "../metrics.js";
import type { ProviderLookup } from "../monitor/provider-resolver.js";
import type { Queue } from "../queue/types.js";
import type { Db } from "../store/db.js";
import { countAttempt, purgeRaw } from "../store/mails.js";
import { expireSuppressions } from "../store/suppressions.js";
import { createBatcher, settleEach, type Settled } from "../util/batcher.js";
import { createClassifyPool } from "./classify-pool.js";
import {
  markFailed,
  processMail,
  processMails,
  type ProcessDeps,
  type ProcessOutcome,
} from "./process-mail.js";

export interface WorkerDeps {
  db: Db;
  config: ProcessDeps["config"] &
    Pick<
      Config,
      "workerConcurrency" | "workerBatchSize" | "rawRetentionDays" | "classifyTimeoutMs" | "classifyThreads"
    >;
  policy: Policy;
  /** The keyed hash every table files addresses under. */
  hashAddress: AddressHasher;
  queue: Queue;
  logger: Logger;
  now?: () => Date;
  metrics?: Metrics;
  /** Resolves recipient domains' mailbox providers from their MX hosts (absent: the provider table alone). */
  providers?: ProviderLookup;
}

export interface MailWorker {
  /** One retention pass now; resolves with the number of mails whose raw bytes were dropped. */
  purge(): Promise<number>;
  /** Deletes the suppressions whose expiry has passed; resolves with how many. */
  expire(): Promise<number>;
  /** Ends the classifier's threads (after the queue's close() finished the jobs in flight). */
  stop(): Promise<void>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function startMailWorker(deps: WorkerDeps): MailWorker {
  const now = deps.now ?? (() => new Date());
  const logger = deps.logger.child({ role: "worker" });
  const pool = createClassifyPool({
    threads: deps.config.classifyThreads,
    timeoutMs: deps.config.classifyTimeoutMs,
  });
  const inFlight = deps.metrics?.classifyInFlight;
  const classifier: ProcessDeps["classifier"] = {
    classify(raw) {
      inFlight?.inc();
      return pool.classify(raw).finally(() => inFlight?.dec());
    },
  };
  const pd: ProcessDeps = {
    db: deps.db,
    config: deps.config,
    policy: deps.policy,
    hashAddress: deps.hashAddress,
    logger,
    now,
    classifier,
    providers: deps.providers,
  };

  async function processBatch(ids: string[]): Promise<Settled<ProcessOutcome>[]> {
    const alone = () => settleEach(ids, (id) => processMail(pd, id));
    if (ids.length === 1) return alone();
    try {
      return (await processMails(pd, ids)).map((value) => ({ ok: true, value }));
    } catch (err) {
      logger.debug(
        { mails: ids.length, err: err instanceof Error ? err.message : String(err) },
        "batch failed; processing its mails one by one",
      );
      return alone();
    }
  }
  // Two batches at once, one in the database while the next is classified, but the second only once half a batch
  // waits: under a steady load each batch takes what came while the one before ran, so the batches are larger and
  // fewer (bench/intake at 2,000 mails/s: 13 mails per transaction instead of 9, PostgreSQL's CPU per mail -10%).
  const batcher = createBatcher(processBatch, {
    maxItems: deps.config.workerBatchSize,
    maxInFlight: 2,
    overlapAt: Math.ceil(deps.config.workerBatchSize / 2),
  });

  /**
   * One mail, through the batcher. When it fails: counted, logged, its try recorded on its row, and on the last
   * try the mail is kept as `failed` with its error. Rejects with the error (so that its job can retry).
   */
  async function run(mailId: string, attempt: number, maxAttempts: number): Promise<void> {
    const m = deps.metrics;
    const endTimer = m?.processingSeconds.startTimer();
    try {
      const outcome = await batcher.submit(mailId);
      endTimer?.();
      if (m) countOutcome(m, outcome);
    } catch (err) {
      const last = attempt >= maxAttempts;
      m?.processingFailures.inc({ final: String(last) });
      logger.warn(
        { mailId, attempt, maxAttempts, err: err instanceof Error ? err.message : String(err) },
        last ? "processing failed on the last try" : "processing failed; will retry",
      );
      // Bookkeeping must not hide the processing error; if the database is down the sweeper retries later.
      await countAttempt(deps.db, mailId).catch(() => undefined);
      if (last) await markFailed(pd, mailId, err).catch(() => undefined);
      throw err;
    }
  }

  // A mail of its own (the sweeper's, reprocess's, or one retried out of a batch: `tries` made before).
  deps.queue.process(
    "process-mail",
    ({ mailId, tries = 0 }, job) => run(mailId, job.attempt + tries, job.maxAttempts + tries),
    { concurrency: deps.config.workerConcurrency },
  );

  // A group commit of the intake: its mails go to the batcher together. A mail that fails is not retried with
  // its neighbours: it gets a process-mail job of its own, with the tries it has left and the usual back-off.
  // The batch job itself fails (and is tried again, its processed mails then left alone) only when that
  // job cannot be added.
  deps.queue.process(
    "process-mails",
    async ({ mailIds }, job) => {
      const retry: string[] = [];
      await Promise.all(
        mailIds.map((id) =>
          run(id, job.attempt, job.maxAttempts).catch(() => {
            if (job.attempt < job.maxAttempts) retry.push(id);
          }),
        ),
      );
      if (!retry.length) return;
      await deps.queue.addBulk(
        "process-mail",
        retry.map((id) => ({
          payload: { mailId: id, tries: job.attempt },
          opts: { jobId: id, attempts: job.maxAttempts - job.attempt },
        })),
      );
    },
    // A job brings one mail or dozens: enough jobs at once that some `workerConcurrency` mails are in flight
    // when the intake's batches are small (light load), so that the worker's batches stay full.
    { concurrency: Math.max(2, Math.ceil(deps.config.workerConcurrency / 4)) },
  );

  async function purge(): Promise<number> {
    // 0 keeps raw mail forever.
    if (!deps.config.rawRetentionDays) return 0;
    const before = new Date(now().getTime() - deps.config.rawRetentionDays * DAY_MS);
    const n = await purgeRaw(deps.db, before);
    if (n) logger.info({ purged: n, before: before.toISOString() }, "raw mail past retention purged");
    return n;
  }

  async function expire(): Promise<number> {
    const n = await expireSuppressions(deps.db, now());
    if (n) logger.info({ expired: n }, "expired suppressions deleted");
    return n;
  }

  return {
    purge,
    expire,
    async stop() {
      await pool.close();
    },
  };
}

function countOutcome(m: Metrics, o: ProcessOutcome): void {
  m.mailsProcessed.inc({ status: o.status, kind: o.status === "processed" ? o.kind : "" });
  if (o.status === "failed" && o.reason === "classify_timeout") m.classifyTimeouts.inc();
  if (o.status !== "processed") return;
  for (const e of o.eventClasses) m.events.inc({ class: e.class, reason: e.reason });
  for (const b of o.blocks)
    m.blocks.inc({
      tenant: b.tenant,
      stream: b.stream,
      provider: providerLabel(b.provider),
      reason: b.reason,
    });
}
