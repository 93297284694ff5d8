// The entry of a classifier thread (classify-pool.ts starts it): one mail at a time, its Report sent back.
// An entry point, like bin/rebound.js: listening on the parent port is what loading it is for.
import { parentPort } from "node:worker_threads";
import { classify } from "../core/classify.js";
import type { Report } from "../core/report.js";

/** A mail to classify: its bytes, transferred. */
export interface ThreadTask {
  raw: ArrayBuffer;
}

/** The thread is ready (its modules loaded), a mail's Report, or the error classify() threw. */
export type ThreadReply = { ready: true } | { report: Report } | { error: string };

const port = parentPort;
if (port) {
  port.on("message", (task: ThreadTask) => {
    let reply: ThreadReply;
    try {
      reply = { report: classify(Buffer.from(task.raw)) };
    } catch (err) {
      reply = { error: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(reply);
  });
  port.postMessage({ ready: true } satisfies ThreadReply);
}
