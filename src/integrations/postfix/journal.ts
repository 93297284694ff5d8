// Postfix's log from journald, as log shippers read it (Vector's and Fluent Bit's journald sources): `journalctl
// -o json` as a child process, its entries read in batches, each batch with the cursor of its last entry, which
// the caller saves with what the batch made (src/integrations/postfix/log-ingest.ts). A restart passes that
// cursor back: journalctl starts there, and the entry it names, read before, is dropped.
//
// Why `--cursor` and not `--after-cursor`: when the cursor's entry is gone (its journal file vacuumed, rotated
// away), journalctl 252 seeks to the next entry and `--after-cursor` then skips one more, an entry never read.
// Why `--merge`: journalctl 252's `--follow` implies the journal's last boot, so a follower restarted after a
// reboot would skip the rest of the boot before; `--merge` (all journals, every boot) keeps them. Why `--no-tail`
// always: `--follow` implies `--lines=10`, and with a cursor journalctl 252 then writes 10 entries of the backlog
// and waits for new ones; the others are not written.
import { spawn } from "node:child_process";
import { resolve } from "node:path";

export interface JournalSource {
  /** `journalctl --unit` (globs allowed, e.g. `postfix@*`); none: every entry (non-Postfix ones are ignored). */
  units: readonly string[];
  /** `journalctl --directory`: the journal files of this directory instead of the system's. */
  directory?: string;
}

export interface JournalBatch {
  /** journalctl's JSON lines, one per entry, in order. */
  lines: string[];
  /** The `__CURSOR` of the last entry: where the next run starts. */
  cursor: string;
}

export interface JournalReadOptions {
  follow: boolean;
  /** Most entries in a batch. */
  maxLines: number;
  signal?: AbortSignal;
  /** journalctl's own messages (stderr), e.g. journals it may not read. */
  onWarning?: (message: string) => void;
}

/** The name the position is saved under by default: `journal:` + the units, `@` + the directory. */
export function journalPositionName(s: JournalSource): string {
  return `journal:${s.units.join(",")}${s.directory ? `@${resolve(s.directory)}` : ""}`;
}

export function journalctlArgs(s: JournalSource, cursor: string | undefined, follow: boolean): string[] {
  const args = ["--output=json", "--no-pager", "--merge"];
  if (s.directory) args.push(`--directory=${s.directory}`);
  for (const u of s.units) args.push(`--unit=${u}`);
  if (cursor) args.push(`--cursor=${cursor}`);
  if (follow) args.push("--follow", "--no-tail");
  return args;
}

const CURSOR_KEY = '"__CURSOR":"';

/** An entry's cursor (its JSON key cannot occur inside a string value, where a `"` is escaped). */
export function cursorOf(line: string): string | undefined {
  const i = line.indexOf(CURSOR_KEY);
  if (i < 0) return undefined;
  const start = i + CURSOR_KEY.length;
  const end = line.indexOf('"', start);
  return end < 0 ? undefined : line.slice(start, end);
}

/** A line longer than this is not one journalctl writes for a Postfix entry (fields over 4096 bytes are null). */
const MAX_PENDING = 1 << 20;

/**
 * The journal's entries from `cursor` (else from its start), in batches; with `follow` until `signal` aborts.
 * journalctl not found, or exiting with an error (or at all while following), is thrown, with what it said.
 */
export async function* readJournal(
  s: JournalSource,
  cursor: string | undefined,
  opts: JournalReadOptions,
): AsyncGenerator<JournalBatch> {
  const args = journalctlArgs(s, cursor, opts.follow);
  const child = spawn("journalctl", args, { stdio: ["ignore", "pipe", "pipe"] });
  let lines: string[] = [];
  let partial = "";
  let first = true;
  let last = cursor;
  let closed = false;
  let failure: Error | undefined;
  let said = "";
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const take = (line: string) => {
    if (!line) return;
    // `--cursor` starts at the saved entry itself: it was read and counted before.
    const skip = first && cursor !== undefined && cursorOf(line) === cursor;
    first = false;
    if (!skip) lines.push(line);
  };
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop()!;
    for (const p of parts) take(p);
    if (partial.length > MAX_PENDING) {
      failure ??= new Error(`journalctl wrote a line longer than ${MAX_PENDING} bytes`);
      child.kill("SIGTERM");
    }
    if (lines.length >= opts.maxLines) child.stdout.pause();
    notify();
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    said = (said + chunk).slice(-2000);
    for (const l of chunk.split("\n")) if (l.trim()) opts.onWarning?.(l.trim());
  });
  child.on("error", (e: NodeJS.ErrnoException) => {
    failure ??=
      e.code === "ENOENT"
        ? new Error("journalctl was not found (it comes with systemd; is it on PATH?)")
        : new Error(`journalctl could not be started: ${e.message}`);
    closed = true;
    notify();
  });
  child.on("close", (code, signal) => {
    closed = true;
    if (!opts.signal?.aborted) {
      const what = `journalctl ${args.join(" ")}`;
      const tail = said.trim() ? `: ${said.trim().split("\n").slice(-3).join("; ")}` : "";
      if (code !== 0) failure ??= new Error(`${what} failed (${signal ?? `exit ${code}`})${tail}`);
      else if (opts.follow) failure ??= new Error(`${what} stopped while following${tail}`);
    }
    notify();
  });
  const onAbort = () => notify();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      if (opts.signal?.aborted) return;
      if (lines.length === 0 && closed && partial) {
        take(partial);
        partial = "";
      }
      if (lines.length) {
        const batch = lines.length > opts.maxLines ? lines.splice(0, opts.maxLines) : lines;
        if (batch === lines) lines = [];
        child.stdout.resume();
        for (let i = batch.length - 1; i >= 0; i--) {
          const c = cursorOf(batch[i]!);
          if (c) {
            last = c;
            break;
          }
        }
        if (last) yield { lines: batch, cursor: last };
        continue;
      }
      if (closed) {
        if (failure) throw failure;
        return;
      }
      await new Promise<void>((r) => (wake = r));
    }
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  }
}
