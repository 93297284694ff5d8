// The classifier threads of `rebound classify`: every core reads, classifies and formats a share of the files
// (classify-thread.ts). Each task goes to the thread with the fewest tasks in hand; tasks are small (a few dozen
// files) so that the shares even out. No deadline here (the service's pool, src/worker/classify-pool.ts, has one):
// the command runs on files its user chose.
import { statSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { startThread } from "../worker/thread.js";
import { BUNDLE } from "./classify-bundle.js";
import type { Output } from "./classify-files.js";
import type { CliReply, CliTask } from "./classify-thread.js";

type TaskOf<T> = T extends unknown ? Omit<T, "id"> : never;

export interface CliThreads {
  /** The task's outputs, in input order; rejects when its thread dies. */
  run(task: TaskOf<CliTask>): Promise<Output[]>;
  /** Ends the threads. */
  close(): Promise<void>;
}

interface Pending {
  resolve(o: Output[]): void;
  reject(err: Error): void;
}

interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
  dead?: Error;
}

/**
 * The built command's thread runs the bundle `npm run build` makes of classify-thread.js and all it imports, with
 * its code cache (scripts/build-cli.mjs, classify-thread-cached.ts): one file to load instead of some 130 modules.
 * Used while it is at least as new as the module it was made from (a `tsc` alone after an edit leaves it stale);
 * else, and from the TypeScript sources, the module itself.
 */
function startClassifierThread(): Worker {
  const entry = new URL("./classify-thread.js", import.meta.url);
  const bundle = new URL(`./${BUNDLE}`, import.meta.url);
  if (import.meta.url.endsWith(".js")) {
    const built = statSync(bundle, { throwIfNoEntry: false });
    if (built && built.mtimeMs >= statSync(entry).mtimeMs)
      return new Worker(new URL("./classify-thread-cached.js", import.meta.url));
  }
  return startThread("classify-thread", import.meta.url);
}

export function startCliThreads(count: number): CliThreads {
  const threads: Thread[] = [];
  let nextId = 0;
  const lost = (t: Thread, err: Error): void => {
    if (t.dead) return;
    t.dead = err;
    for (const p of t.pending.values()) p.reject(err);
    t.pending.clear();
  };
  for (let i = 0; i < Math.max(1, count); i++) {
    const t: Thread = { worker: startClassifierThread(), pending: new Map() };
    t.worker.on("message", (msg: CliReply) => {
      const p = t.pending.get(msg.id);
      t.pending.delete(msg.id);
      p?.resolve(msg.outputs);
    });
    t.worker.on("error", (err) => lost(t, err));
    t.worker.on("exit", (code) => lost(t, new Error(`classifier thread exited (code ${code})`)));
    threads.push(t);
  }
  return {
    run(task) {
      let t: Thread | undefined;
      for (const c of threads) if (!c.dead && (!t || c.pending.size < t.pending.size)) t = c;
      if (!t) return Promise.reject(threads[0]?.dead ?? new Error("no classifier thread"));
      const id = nextId++;
      const thread = t;
      return new Promise<Output[]>((resolve, reject) => {
        thread.pending.set(id, { resolve, reject });
        if ("stdin" in task) thread.worker.postMessage({ ...task, id }, [task.stdin]);
        else thread.worker.postMessage({ ...task, id });
      });
    },
    async close() {
      for (const t of threads) lost(t, new Error("the classifier threads are closed"));
      await Promise.all(threads.map((t) => t.worker.terminate()));
    },
  };
}
