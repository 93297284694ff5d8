import type { Readable, Writable } from "node:stream";

/** Where a command reads and writes; tests pass their own. A command sets exitCode for a non-zero exit. */
export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
  exitCode?: number;
}
