// The entry of one classifier thread of `rebound classify` (classify-threads.ts starts them): a share of the
// files at a time, read, classified and written out here, so that reading and formatting use every core too.
// An entry point, like bin/rebound.js: listening on the parent port is what loading it is for (tasks posted before
// it listens wait in the port).
import { parentPort } from "node:worker_threads";
import type { Format, Output } from "./classify-files.js";
import { classifyFiles, classifyStdin } from "./classify-mails.js";

/** A share of the work: files to read, or the bytes read from stdin (under the name `-`). */
export type CliTask = { id: number; format: Format } & ({ files: string[] } | { stdin: ArrayBuffer });

/** A task's outputs, in input order. */
export interface CliReply {
  id: number;
  outputs: Output[];
}

const port = parentPort;
if (port) {
  port.on("message", (task: CliTask) => {
    const outputs =
      "files" in task
        ? classifyFiles(task.files, task.format)
        : classifyStdin(Buffer.from(task.stdin), task.format);
    // The results' bytes are moved to the command's thread, not copied.
    const transfer = outputs.flatMap((o) => ("out" in o ? [o.out.buffer as ArrayBuffer] : []));
    port.postMessage({ id: task.id, outputs } satisfies CliReply, transfer);
  });
}
