// The classifier threads of `rebound classify`: every core reads, classifies and formats a share of the files
// (classify-thread.ts). Each task goes to the thread with the fewest tasks in hand; tasks are small (a few dozen
// files) so that the shares even out. No deadline here (the service's pool, src/worker/classify-pool.ts, has one):
// the command runs on files its user chose.
import type { Worker } from "node:worker_threads";
import { startThread } from "../worker/thread.js";
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
    const t: Thread = { worker: startThread("classify-thread", import.meta.url), pending: new Map() };
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
