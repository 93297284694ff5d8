#!/usr/bin/env node
// classify() alone, for an instruction count: the development corpus read into memory (sorted by name), then
// classified --rounds times (default 6) in this process, nothing timed or printed but the recipients found. Run it
// under `valgrind --tool=callgrind` twice, with two numbers of rounds: the difference of the two counts over the
// difference of their mails is a warm mail's cost, start-up and warm-up taken out; counted instructions do not
// change with the machine's load as times do. `--dir` loads another build's classifier (a checkout with
// `npm run build` done) to compare two builds. Needs `npm run build` first.
//
//   valgrind --tool=callgrind node bench/classify-steady.mjs --rounds 2 [--dir OTHER] [--corpus DIR]
//   valgrind --tool=callgrind node bench/classify-steady.mjs --rounds 6 [--dir OTHER] [--corpus DIR]
import { readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { opt, root } from "./lib/args.mjs";

const dir = resolve(opt("--dir", root));
const rounds = Number(opt("--rounds", "6"));
const corpus = resolve(opt("--corpus", join(root, "..", "shared", "corpus", "emails")));
const { classify } = await import(join(dir, "dist", "src", "core", "classify.js"));
const mails = readdirSync(corpus)
  .filter((f) => f.endsWith(".eml"))
  .sort()
  .map((f) => readFileSync(join(corpus, f)));
let recipients = 0;
for (let r = 0; r < rounds; r++) for (const m of mails) recipients += classify(m).recipients.length;
console.log(`${rounds} rounds of ${mails.length} mails: ${recipients} recipients`);
