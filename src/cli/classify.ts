// `rebound classify [--format ndjson|pretty] PATH...`: classify mail files, folders (recursively, sorted),
// mbox files (split on `From ` lines) and `-` (stdin). One result per mail; exit 0 when mails were read.
//
// Every core: the files are handed out a few dozen at a time to classifier threads (classify-threads.ts), which
// read, classify and format them; this thread lists the folders and writes the threads' outputs in input order as
// they come, a bounded window of tasks at a time, so that memory stays the window's whatever the size of the
// folder. Start-up loads no part of the classifier here: the threads load it while the folders are listed.
import { once } from "node:events";
import { availableParallelism } from "node:os";
import { setFlagsFromString } from "node:v8";
import type { Readable } from "node:stream";
import { InvalidArgumentError, type Command } from "commander";
import { FORMATS, listFiles, reasonOf, type Format, type Output } from "./classify-files.js";
import { startCliThreads } from "./classify-threads.js";
import type { CliIo } from "./io.js";

export { FORMATS, type Format } from "./classify-files.js";

export function register(cmd: Command, io: CliIo): void {
  cmd
    .option("-f, --format <format>", "output format: ndjson or pretty", parseFormat, "ndjson" as Format)
    .option("-j, --threads <count>", "classifier threads (default: one per core)", parseThreads)
    .argument("<paths...>", "mail files, folders (recursive), mbox files, or - for stdin")
    .action(async (paths: string[], opts: { format: Format; threads?: number }) => {
      io.exitCode = await classifyPaths(paths, opts.format, io, opts.threads);
    });
}

function parseFormat(value: string): Format {
  if (!(FORMATS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`expected one of ${FORMATS.join(", ")}`);
  return value as Format;
}

function parseThreads(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new InvalidArgumentError("expected a whole number from 1 to 256");
  return n;
}

/** Files per task: enough that a message to a thread costs little beside them, few enough that shares even out. */
const FILES_PER_TASK = 64;
/** Tasks in the threads or waiting for their turn to be written, per thread. */
const WINDOW_PER_THREAD = 32;

/**
 * V8 flags for the classifier threads (the flags are the process's: set by the command, before its threads start).
 *
 * - The budget of bytecode inlined into one optimised function (default 920). Each classifier thread compiles the
 *   classifier's hot functions for itself, on V8's background threads, while the command runs: with the default,
 *   that compiling was about a quarter of the command's CPU (the classifier's large functions inline dozens of
 *   callees). At 250 it costs some 350 ms of CPU less per thread for the same classifying time.
 * - No regexp tier-up: by default V8 compiles a pattern to bytecode, interprets it once, then compiles it again to
 *   machine code on its second use. Each fresh thread meets the classifier's hundreds of patterns for the first
 *   time, so it paid both compiles for most of them; compiled once, straight to machine code, a thread's first
 *   pass over the corpus costs some 20% less (the results are the same: one regexp engine, two back ends).
 * - Young generation: each thread allocates some 600 MB over the 27,450-file folder, and a scavenge copies only
 *   what survives (about 150 KB each time), so their number is what costs: a 16 MB semi-space from the start (the
 *   default starts at 1 MB and grows to about 8 MB) halves it (150 scavenges to 70-77 on the folder). Scavenged by
 *   the thread alone (no parallel scavenge): the cores are busy with the classifier threads, so helpers only add
 *   the cost of waiting for each other. The command's RSS on the folder: 196 MB -> 210 MB.
 *
 * All measured in docs/performance.md. The build makes the threads' code cache with these flags
 * (scripts/build-cli.mjs): V8 refuses a cache made with other flags.
 */
export const V8_FLAGS =
  "--max-inlined-bytecode-size-cumulative=250 --no-regexp-tier-up --min-semi-space-size=16 --no-parallel-scavenge";

/** Classify every mail under `paths`, writing one result per mail. Resolves to the exit code. */
export async function classifyPaths(
  paths: string[],
  format: Format,
  io: CliIo,
  count = availableParallelism(),
): Promise<number> {
  setFlagsFromString(V8_FLAGS);
  const threads = startCliThreads(count);
  /** The tasks handed out, in input order; the first is written as soon as its outputs are back. */
  const window: Promise<Output[]>[] = [];
  let failed = 0;
  const writeFirst = async (): Promise<void> => {
    for (const o of await window.shift()!) {
      if ("err" in o) {
        failed++;
        io.stderr.write(o.err);
      } else if (!io.stdout.write(o.out)) await once(io.stdout, "drain");
    }
  };
  const push = async (outputs: Promise<Output[]>): Promise<void> => {
    // Awaited in its turn (writeFirst); a rejection before then is not unhandled.
    outputs.catch(() => undefined);
    window.push(outputs);
    if (window.length >= count * WINDOW_PER_THREAD) await writeFirst();
  };
  try {
    for (const path of paths) {
      if (path === "-") {
        const raw = await readAll(io.stdin);
        // A buffer of its own, transferred to the thread.
        const stdin = new Uint8Array(raw).buffer;
        await push(threads.run({ format, stdin }));
        continue;
      }
      let files: string[];
      try {
        files = listFiles(path);
      } catch (err) {
        await push(Promise.resolve([{ err: `rebound classify: cannot read ${path}: ${reasonOf(err)}\n` }]));
        continue;
      }
      for (let i = 0; i < files.length; i += FILES_PER_TASK)
        await push(threads.run({ format, files: files.slice(i, i + FILES_PER_TASK) }));
    }
    while (window.length) await writeFirst();
  } finally {
    await threads.close();
  }
  return failed > 0 ? 1 : 0;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}
