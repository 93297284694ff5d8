#!/usr/bin/env node
// What reading a mail file costs a classifier thread of `rebound classify`: readFileSync (open, fstat, a buffer
// of the file's size, read, close) against open, read into one reused buffer until a read returns nothing, close
// (src/cli/classify-mails.ts), over the files of a folder, alternated for R rounds (default 4). Prints this
// thread's CPU a file (Linux: /proc/thread-self/schedstat).
//
// Needs `npm run build` first.
//
//   node bench/classify-read.mjs [--dir DIR] [--files 10000] [--rounds 4]
import { readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { opt, root } from "./lib/args.mjs";

const dir = resolve(opt("--dir", join(root, "..", "shared", "corpus", "emails")));
const count = Number(opt("--files", "10000"));
const rounds = Number(opt("--rounds", "4"));
const names = readdirSync(dir).sort();
const files = Array.from({ length: Math.min(count, names.length) }, (_, i) => join(dir, names[i]));

// The command's own reading (the build's, `npm run build` first).
const { readWhole } = await import(join(root, "dist", "src", "cli", "classify-mails.js"));
const ways = {
  readFileSync: (f) => readFileSync(f).length,
  "reused buffer": (f) => readWhole(f).length,
};
const threadCpu = () => Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]) / 1e3;
console.log(`${files.length} files of ${dir}, ${rounds} rounds`);
for (let r = 0; r < rounds; r++)
  for (const [name, read] of Object.entries(ways)) {
    const t0 = threadCpu();
    let bytes = 0;
    for (const f of files) bytes += read(f);
    console.log(
      `  round ${r + 1} ${name}: ${((threadCpu() - t0) / files.length).toFixed(2)} µs a file (${bytes} bytes)`,
    );
  }
