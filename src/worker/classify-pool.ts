// A pool of worker threads that run classify(), so that a slow mail never holds the event loop that serves SMTP,
// HTTP and the database (issue 11). (`rebound classify` has threads of its own that read the files too:
// src/cli/classify-threads.ts.)
//
// Each thread classifies one mail at a time. A mail gets a hard deadline that counts from the moment its thread
// starts on it (not its wait in the queue, nor a thread's start-up): past it, the thread is terminated and
// replaced, and the mail's promise rejects with ClassifyTimeout. Built on worker_threads rather than piscina
// because piscina's per-task AbortSignal counts the time a task waits for a thread (and for the thread to start),
// so that a queue behind one slow mail, or a cold start, would fail healthy mails as timed out.
//
// The raw bytes are copied into a buffer of their own and transferred (one copy; a Buffer from pg or a slice of
// an mbox file would otherwise clone its whole backing store); the Report comes back by structured clone.
// Threads are unref'd while idle, so a pool never keeps a process alive on its own; close() ends them.
import { availableParallelism } from "node:os";
import type { Worker } from "node:worker_threads";
import type { Report } from "../core/report.js";
import type { ThreadReply, ThreadTask } from "./classify-thread.js";
import { startThread } from "./thread.js";

/** A mail whose classification took longer than the deadline (its thread was terminated). */
export class ClassifyTimeout extends Error {
  readonly code = "classify_timeout";
  constructor(readonly timeoutMs: number) {
    super(`classify_timeout: no result within ${timeoutMs} ms`);
    this.name = "ClassifyTimeout";
  }
}

export interface ClassifyPoolOptions {
  /** Threads at most (default: the machine's cores). Started when first needed. */
  threads?: number;
  /** The deadline of one mail's classification, from the moment its thread starts on it (0: none). */
  timeoutMs: number;
}

export interface ClassifyPool {
  /** The mail's Report; rejects with ClassifyTimeout past the deadline, or with the classifier's error. */
  classify(raw: Uint8Array): Promise<Report>;
  /** Mails handed to the pool and not answered yet (running or waiting for a thread). */
  readonly inFlight: number;
  /** Ends the threads; mails not answered yet reject. */
  close(): Promise<void>;
}

interface Task {
  raw: Uint8Array;
  resolve(r: Report): void;
  reject(err: Error): void;
}

interface Thread {
  worker: Worker;
  ready: boolean;
  task?: Task;
  timer?: NodeJS.Timeout;
}

export function createClassifyPool(opts: ClassifyPoolOptions): ClassifyPool {
  const max = Math.max(1, opts.threads || availableParallelism());
  const threads = new Set<Thread>();
  const waiting: Task[] = [];
  let inFlight = 0;
  let closed = false;

  function start(): void {
    const t: Thread = { worker: startThread("classify-thread", import.meta.url), ready: false };
    threads.add(t);
    t.worker.unref();
    t.worker.on("message", (msg: ThreadReply) => {
      if ("ready" in msg) {
        t.ready = true;
        return next(t);
      }
      const task = t.task;
      if (!task) return;
      settle(t);
      if ("report" in msg) task.resolve(msg.report);
      else task.reject(new Error(msg.error));
      next(t);
    });
    t.worker.on("error", (err) => lost(t, err));
    t.worker.on("exit", (code) => lost(t, new Error(`classifier thread exited (code ${code})`)));
  }

  /**
   * A thread that died (out of memory, an error outside a task): its mail rejects, another starts. One that died
   * before it was ready cannot load the classifier: every mail waiting rejects (no endless restarts).
   */
  function lost(t: Thread, err: Error): void {
    if (!threads.delete(t)) return;
    const task = t.task;
    settle(t);
    task?.reject(err);
    if (!t.ready) for (const w of waiting.splice(0)) w.reject(err);
    else if (!closed && waiting.length) start();
  }

  function settle(t: Thread): void {
    if (t.timer) clearTimeout(t.timer);
    t.timer = undefined;
    t.task = undefined;
    t.worker.unref();
  }

  function next(t: Thread): void {
    const task = waiting.shift();
    if (!task) return;
    t.task = task;
    t.worker.ref();
    const copy = new Uint8Array(task.raw.byteLength);
    copy.set(task.raw);
    const msg: ThreadTask = { raw: copy.buffer };
    t.worker.postMessage(msg, [copy.buffer]);
    if (opts.timeoutMs > 0) {
      t.timer = setTimeout(() => {
        // Terminated, not asked: a thread deep in a regular expression does not read its messages.
        threads.delete(t);
        settle(t);
        void t.worker.terminate();
        task.reject(new ClassifyTimeout(opts.timeoutMs));
        if (!closed && waiting.length) start();
      }, opts.timeoutMs);
    }
  }

  function dispatch(): void {
    for (const t of threads) if (t.ready && !t.task && waiting.length) next(t);
    // A thread more for what still waits, unless the ones starting will take it.
    const starting = [...threads].filter((t) => !t.ready).length;
    if (waiting.length > starting && threads.size < max) start();
  }

  return {
    classify(raw) {
      if (closed) return Promise.reject(new Error("the classifier pool is closed"));
      inFlight++;
      return new Promise<Report>((resolve, reject) => {
        waiting.push({ raw, resolve, reject });
        dispatch();
      }).finally(() => inFlight--);
    },
    get inFlight() {
      return inFlight;
    },
    async close() {
      closed = true;
      for (const task of waiting.splice(0)) task.reject(new Error("the classifier pool is closed"));
      const all = [...threads];
      threads.clear();
      for (const t of all) {
        const task = t.task;
        settle(t);
        task?.reject(new Error("the classifier pool is closed"));
      }
      await Promise.all(all.map((t) => t.worker.terminate()));
    },
  };
}
