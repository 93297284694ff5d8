// The queue of this process: BullMQ when REDIS_URL is set, the in-process queue otherwise.
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { createBullQueue } from "./bullmq.js";
import { createMemoryQueue } from "./memory.js";
import type { JobName, Queue } from "./types.js";

export type { Queue } from "./types.js";

export interface CreateQueueOptions {
  /** Told of a job given up after its last try. */
  onFailed?: (name: JobName, id: string, err: unknown) => void;
}

export function createQueue(
  config: Pick<Config, "redisUrl" | "queuePrefix" | "jobAttempts" | "jobBackoffMs" | "queueStalledMs">,
  logger: Logger,
  opts: CreateQueueOptions = {},
): Queue {
  const common = { attempts: config.jobAttempts, backoffMs: config.jobBackoffMs, onFailed: opts.onFailed };
  if (config.redisUrl) {
    return createBullQueue({
      ...common,
      redisUrl: config.redisUrl,
      prefix: config.queuePrefix,
      stalledMs: config.queueStalledMs,
      logger: logger.child({ component: "queue" }),
    });
  }
  return createMemoryQueue(common);
}
