#!/usr/bin/env node
// Whether two builds of classify() say the same thing: every mail of the development corpus, of samples/, of the
// hostile suite (4 KB runs) and N mutations of them (default 20,000, a fixed seed) classified by both builds in one
// process, each report compared as JSON. Prints the count of mails compared and of differing reports (the first few
// named, with the first differing character). For speed work on src/core, where no result may change.
//
//   node bench/classify-same.mjs --old DIR [--new DIR] [--fuzz N] [--seed S]
//
// DIR is a checkout (or a copy) with dist/ built, as for bench/classify-ab.mjs.
import { readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { opt, root } from "./lib/args.mjs";

const oldDir = opt("--old");
const newDir = opt("--new", root);
if (!oldDir) throw new Error("--old DIR is required (a checkout with dist/ built)");
const fuzzCount = Number(opt("--fuzz", "20000"));
const seed = Number(opt("--seed", "20261207"));
const load = async (dir) => (await import(join(resolve(dir), "dist", "src", "core", "classify.js"))).classify;
const [classifyOld, classifyNew] = [await load(oldDir), await load(newDir)];
const { CONTEXTS, UNITS, run, mutate, rng } = await import("../test/core/hostile.mjs");

const emlIn = (dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".eml"))
    .sort()
    .map((f) => ({ name: join(dir, f), mail: readFileSync(join(dir, f)) }));
const corpus = [...emlIn(join(root, "..", "shared", "corpus", "emails")), ...emlIn(join(root, "samples"))];
const hostile = [];
for (const c of CONTEXTS)
  for (const u of UNITS)
    hostile.push({
      name: `hostile ${c.name} ${JSON.stringify(u)}`,
      mail: Buffer.from(c.mail(run(u, 4096), u), "latin1"),
    });

let compared = 0;
let differing = 0;
const compare = (name, mail) => {
  compared++;
  const a = JSON.stringify(classifyOld(mail));
  const b = JSON.stringify(classifyNew(mail));
  if (a === b) return;
  differing++;
  if (differing <= 5) {
    let i = 0;
    while (i < a.length && a[i] === b[i]) i++;
    console.log(
      `differs: ${name} at ${i}\n  old ${a.slice(Math.max(0, i - 80), i + 80)}\n  new ${b.slice(Math.max(0, i - 80), i + 80)}`,
    );
  }
};
for (const { name, mail } of [...corpus, ...hostile]) compare(name, mail);
// Each mail twice more, in another order: a cache of the last mail (or text) must not change an answer.
for (const { name, mail } of [...corpus].reverse()) compare(name, mail);
const rand = rng(seed);
const pools = [corpus.map((x) => x.mail), hostile.map((x) => x.mail)];
for (let i = 0; i < fuzzCount; i++) {
  const pool = pools[i % 2];
  compare(`mutation #${i} (seed ${seed})`, mutate(pool[Math.floor(rand() * pool.length)], rand));
}
console.log(
  `compared ${compared} mails (${corpus.length} corpus and samples/, ${hostile.length} hostile, ${fuzzCount} mutations, seed ${seed}): ${differing} differ`,
);
process.exitCode = differing === 0 ? 0 : 1;
