#!/usr/bin/env node
// One classifier thread's life in `rebound classify`, in phases: loading the classifier, the first pass over the
// development corpus (V8 compiling every function and pattern on first use), the second, then R more passes
// (default 23: 25 passes are about the 13,700 mails each of the command's two threads gets on the 50-copy
// folder). Prints this thread's CPU per phase (Linux: /proc/thread-self/schedstat) and the process's CPU, whose
// difference is V8's background threads (optimising compilers, concurrent GC). Needs `npm run build` first.
//
//   node bench/classify-cold.mjs [--rounds R] [--v8 FLAGS]
//
// --v8 sets V8 flags before the classifier loads, as `rebound classify` does (`--v8 default` sets none; the
// default is the command's own, src/cli/classify.ts): run both, alternated, to compare.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { opt, root } from "./lib/args.mjs";

const rounds = Number(opt("--rounds", "23"));
const flags = opt("--v8", "--max-inlined-bytecode-size-cumulative=250 --no-regexp-tier-up");
const corpus = join(root, "..", "shared", "corpus", "emails");

/** This thread's CPU time (ms). */
const threadCpu = () => Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]) / 1e6;
/** The process's CPU time, every thread (ms). */
const processCpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

if (flags !== "default") setFlagsFromString(flags);
const files = readdirSync(corpus)
  .filter((f) => f.endsWith(".eml"))
  .sort();
const mails = files.map((f) => readFileSync(join(corpus, f)));
const p0 = processCpu();
const t0 = threadCpu();
const { classify } = await import(join(root, "dist", "src", "core", "classify.js"));
const marks = [threadCpu()];
for (let r = 0; r < rounds + 2; r++) {
  for (const m of mails) classify(m);
  marks.push(threadCpu());
}
const p1 = processCpu();
const ms = (x) => `${x.toFixed(0)} ms`;
const rest = marks.at(-1) - marks[2];
console.log(`V8 flags: ${flags}; ${mails.length} mails a pass, ${rounds + 2} passes`);
console.log(
  `this thread: load ${ms(marks[0] - t0)}, pass 1 ${ms(marks[1] - marks[0])}, pass 2 ${ms(marks[2] - marks[1])}, ` +
    `passes 3-${rounds + 2} ${ms(rest)} (${((rest / (rounds * mails.length)) * 1000).toFixed(0)} µs a mail); ` +
    `total ${ms(marks.at(-1) - t0)}`,
);
console.log(
  `process (V8's background threads too): ${ms(p1 - p0)}; background ${ms(p1 - p0 - (marks.at(-1) - t0))}`,
);
