// Job names and payloads, and the small interface both queue adapters (BullMQ, in-process) implement.

export const JOB_NAMES = ["process-mail", "process-mails", "deliver-webhook", "dispatch-outbox"] as const;
export type JobName = (typeof JOB_NAMES)[number];

export interface JobPayloads {
  /** One mail: the sweeper's, `rebound reprocess`'s, and the retry of a mail that failed in a batch. */
  "process-mail": {
    mailId: string;
    /** Tries made before this job (a mail retried out of a batch). */ tries?: number;
  };
  /** The mails of one group commit of the intake, in one job (one Redis round trip for all of them). */
  "process-mails": { mailIds: string[] };
  "deliver-webhook": { deliveryId: string };
  "dispatch-outbox": Record<string, never>;
}

export interface AddOptions {
  /** Deduplicates: a job with the same id that is still known is not added again. */
  jobId?: string;
  delayMs?: number;
  /** Tries before the job is given up (default 5). */
  attempts?: number;
  /** First back-off; doubles on each try (default 1000 ms). */
  backoffMs?: number;
}

export interface JobInfo {
  id: string;
  /** 1 on the first try. */
  attempt: number;
  maxAttempts: number;
}

export type Handler<N extends JobName> = (payload: JobPayloads[N], job: JobInfo) => Promise<void>;

export interface Queue {
  readonly kind: "bullmq" | "memory";
  add<N extends JobName>(name: N, payload: JobPayloads[N], opts?: AddOptions): Promise<void>;
  /** Several jobs of one name in one round trip (the intake enqueues a group-committed batch at once). */
  addBulk<N extends JobName>(name: N, jobs: { payload: JobPayloads[N]; opts?: AddOptions }[]): Promise<void>;
  /** Start consuming jobs of one name in this process. */
  process<N extends JobName>(name: N, handler: Handler<N>, opts?: { concurrency?: number }): void;
  /** Resolves when the queue can take jobs (Redis reachable); rejects otherwise. */
  ping(): Promise<void>;
  /** Stop consuming (finishing jobs in flight) and close connections. */
  close(): Promise<void>;
}
