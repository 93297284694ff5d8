// The webhook side of the worker role: outbox fan-out and deliveries, driven by the queue when there is one
// (`dispatch-outbox`, `deliver-webhook`; back-off as delayed jobs) and by a periodic poll of the database in any
// case, so nothing is lost while Redis is down. The database is the truth; the queue only makes it prompt.
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import type { Queue } from "../queue/types.js";
import type { Db } from "../store/db.js";
import { dueDeliveryIds, purgeWebhookHistory } from "../store/webhooks.js";
import { DEFAULT_DELIVERY_OPTIONS, deliverOnce, type DeliverDeps, type DeliveryOptions } from "./deliver.js";
import { dispatchPending } from "./dispatcher.js";
import { createEgressPolicy } from "./egress.js";
import { createWebhookClient } from "./http-post.js";

export interface WebhookWorkerDeps {
  db: Db;
  queue?: Queue;
  logger: Logger;
  now?: () => Date;
  metrics?: Metrics;
}

export interface WebhookWorkerOptions extends DeliveryOptions {
  /** How often the database is polled for undispatched outbox rows and due deliveries. */
  pollIntervalMs: number;
  /**
   * With a queue, the poll only takes deliveries overdue by this much (the queue normally tries them on time);
   * without one it takes every due delivery.
   */
  queueGraceMs: number;
  /** Deliveries tried at once by this process. */
  concurrency: number;
  /** Finished deliveries (the delivery log) are kept this long. */
  deliveryLogDays: number;
  /** Dispatched outbox rows are kept this long. */
  outboxDays: number;
  /**
   * Networks (CIDRs) webhooks may go to although they are not public: REBOUND_WEBHOOK_ALLOWED_NETWORKS, for
   * receivers inside the operator's network. Everything else that is not public unicast is refused.
   */
  allowedNetworks: readonly string[];
}

export const DEFAULT_WEBHOOK_WORKER_OPTIONS: WebhookWorkerOptions = {
  ...DEFAULT_DELIVERY_OPTIONS,
  pollIntervalMs: 1_000,
  queueGraceMs: 30_000,
  concurrency: 8,
  deliveryLogDays: 30,
  outboxDays: 2,
  allowedNetworks: [],
};

/** How often a worker forgets old outbox rows and deliveries. */
const PURGE_EVERY_MS = 10 * 60_000;

/** A delayed job may fire slightly before the delivery's next_attempt_at: it may take it this much early. */
const QUEUE_EARLY_MS = 2_000;

export interface WebhookWorker {
  /** Run one poll now (dispatch the outbox, try due deliveries); resolves when done. */
  poll(): Promise<void>;
  stop(): Promise<void>;
}

export function startWebhookWorker(
  deps: WebhookWorkerDeps,
  options: Partial<WebhookWorkerOptions> = {},
): WebhookWorker {
  const opts: WebhookWorkerOptions = { ...DEFAULT_WEBHOOK_WORKER_OPTIONS, ...options };
  const now = deps.now ?? (() => new Date());
  const logger = deps.logger.child({ role: "webhooks" });
  const client = createWebhookClient(createEgressPolicy(opts.allowedNetworks));
  const dd: DeliverDeps = { db: deps.db, logger, now, client };
  const queue = deps.queue;

  /** Hand a delivery's next try to the queue; if the queue cannot take it, the poll will try it. */
  async function schedule(q: Queue, id: string, attemptsDone: number, delayMs: number): Promise<void> {
    try {
      await q.add(
        "deliver-webhook",
        { deliveryId: id },
        { jobId: `whd-${id}-${attemptsDone}`, delayMs, attempts: 3 },
      );
    } catch (err) {
      logger.warn({ err: String(err), deliveryId: id }, "queue unavailable; the poll will try this delivery");
    }
  }

  /** One try, and with a queue the next one scheduled as a delayed job. False when there was nothing to do. */
  async function deliverAndSchedule(id: string, earlyMs = 0): Promise<boolean> {
    const outcome = await deliverOnce(dd, id, opts, earlyMs);
    if (outcome) deps.metrics?.webhookDeliveries.inc({ result: outcome.status });
    if (outcome?.status === "failed" && queue) {
      await schedule(
        queue,
        id,
        outcome.attempt,
        Math.max(0, outcome.nextAttemptAt.getTime() - now().getTime()),
      );
    }
    return outcome !== undefined;
  }

  async function dispatch(): Promise<void> {
    const { deliveryIds } = await dispatchPending(deps.db, now);
    if (deliveryIds.length === 0) return;
    logger.debug({ deliveries: deliveryIds.length }, "outbox dispatched");
    if (queue) {
      const jobs = deliveryIds.map((id) => ({
        payload: { deliveryId: id },
        opts: { jobId: `whd-${id}-0`, attempts: 3 },
      }));
      await queue
        .addBulk("deliver-webhook", jobs)
        .catch((err: unknown) =>
          logger.warn({ err: String(err) }, "queue unavailable; the poll will try these deliveries"),
        );
    } else await runLimited(deliveryIds, opts.concurrency, (id) => deliverAndSchedule(id));
  }

  let lastPurge = 0;
  async function purge(): Promise<void> {
    const t = now().getTime();
    if (t - lastPurge < PURGE_EVERY_MS) return;
    lastPurge = t;
    const day = 86_400_000;
    const purged = await purgeWebhookHistory(deps.db, {
      outboxBefore: new Date(t - opts.outboxDays * day),
      deliveriesBefore: new Date(t - opts.deliveryLogDays * day),
      limit: 10_000,
    });
    if (purged.outbox || purged.deliveries) logger.info(purged, "old webhook history purged");
  }

  async function pollOnce(): Promise<void> {
    await dispatch();
    await purge();
    const grace = queue ? opts.queueGraceMs : 0;
    for (;;) {
      const due = await dueDeliveryIds(deps.db, new Date(now().getTime() - grace), 100);
      if (due.length === 0) return;
      let tried = 0;
      await runLimited(due, opts.concurrency, async (id) => {
        if (await deliverAndSchedule(id)) tried++;
      });
      if (due.length < 100 || tried === 0) return;
    }
  }

  if (queue) {
    queue.process("dispatch-outbox", async () => dispatch());
    queue.process(
      "deliver-webhook",
      async ({ deliveryId }) => {
        await deliverAndSchedule(deliveryId, QUEUE_EARLY_MS);
      },
      { concurrency: opts.concurrency },
    );
  }

  let stopped = false;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const poll = (): Promise<void> => {
    running ??= pollOnce()
      .catch((err) => logger.error({ err: String(err) }, "webhook poll failed; retrying at the next poll"))
      .finally(() => (running = undefined));
    return running;
  };
  const tick = () => {
    if (stopped) return;
    void poll().finally(() => {
      if (!stopped) timer = setTimeout(tick, opts.pollIntervalMs);
    });
  };
  tick();

  return {
    poll,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      client.close();
    },
  };
}

async function runLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++] as T);
  });
  await Promise.all(lanes);
}
