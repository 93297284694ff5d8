#!/usr/bin/env node
// classify() of two builds compared in one process, for a machine shared with others: both builds' dist/ are
// loaded (each its own module graph), warmed up (--warmup rounds of the corpus each, default 15), then every mail
// is timed with one build and the other in turn (which goes first alternates), --rounds times (default 8); the
// figure is the sum over the mails of each build's best time, per mail. Another process's turn on a core lengthens
// some timings, never the best of eight, and both builds see the same minute. Two copies of one build measured so
// (an A/A run) differ by about 1% on this machine: smaller differences are not told apart.
//
//   node bench/classify-ab.mjs --old DIR --new DIR [--corpus DIR] [--rounds N] [--warmup R]
//
// DIR is a checkout (or a copy) with dist/ built and node_modules/ beside it: for instance
// `git worktree add /tmp/old main && (cd /tmp/old && npm ci && npm run build)`.
import { readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { opt, root } from "./lib/args.mjs";

const oldDir = opt("--old");
const newDir = opt("--new", root);
if (!oldDir) throw new Error("--old DIR is required (a checkout with dist/ built)");
const corpus = resolve(opt("--corpus", join(root, "..", "shared", "corpus", "emails")));
const rounds = Number(opt("--rounds", "8"));
const warmup = Number(opt("--warmup", "15"));
const load = async (dir) => (await import(join(resolve(dir), "dist", "src", "core", "classify.js"))).classify;
const builds = [await load(oldDir), await load(newDir)];
const mails = readdirSync(corpus)
  .filter((f) => f.endsWith(".eml"))
  .sort()
  .map((f) => readFileSync(join(corpus, f)));
if (mails.length === 0) throw new Error(`no .eml files in ${corpus}`);

for (let r = 0; r < warmup; r++) for (const classify of builds) for (const m of mails) classify(m);
const best = builds.map(() => new Array(mails.length).fill(Infinity));
/** Microseconds of one classify() of `m`, the mean of two in a row. */
const time = (classify, m) => {
  const t = process.hrtime.bigint();
  classify(m);
  classify(m);
  return Number(process.hrtime.bigint() - t) / 2e3;
};
for (let r = 0; r < rounds; r++)
  mails.forEach((m, i) => {
    const order = (r + i) % 2 === 0 ? [0, 1] : [1, 0];
    for (const b of order) best[b][i] = Math.min(best[b][i], time(builds[b], m));
  });
const perMail = best.map((xs) => xs.reduce((a, b) => a + b, 0) / mails.length);
console.log(`corpus  ${mails.length} mails (${corpus}), best of ${rounds} per mail, wall clock`);
console.log(`old     ${perMail[0].toFixed(2)} µs a mail (${oldDir})`);
console.log(`new     ${perMail[1].toFixed(2)} µs a mail (${newDir})`);
console.log(`ratio   ${(perMail[1] / perMail[0]).toFixed(3)} (new / old)`);
