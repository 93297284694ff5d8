#!/usr/bin/env node
// Where classify()'s steady-state time goes: the development corpus read once into memory, classified --warmup
// rounds (default 30: V8 has compiled what it will), then profiled in-process (the inspector's CPU profiler,
// one sample every --interval µs, default 200) over --rounds rounds (default 40). Prints the functions by self
// time and by inclusive time (a function's share of the samples that have it on their stack), and, with
// --by-kind, the best time per mail (best of 5) summed by the kind of mail (a complete delivery-status, a
// text bounce read by a layout, ...). Needs `npm run build` first. A sampling profile is a share of the
// time, so the machine's load matters less than for bench/classify.mjs; run it on a quiet machine all the same.
//
//   node bench/classify-profile.mjs [--corpus DIR] [--warmup R] [--rounds N] [--interval US] [--top K] [--by-kind]
//   node bench/classify-profile.mjs --save FILE.cpuprofile   (also writes the profile, for Chrome's DevTools)
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join, resolve } from "node:path";
import { args, opt, root } from "./lib/args.mjs";

const corpus = resolve(opt("--corpus", join(root, "..", "shared", "corpus", "emails")));
const warmup = Number(opt("--warmup", "30"));
const rounds = Number(opt("--rounds", "40"));
const top = Number(opt("--top", "30"));
const { classify } = await import(join(root, "dist", "src", "core", "classify.js"));
const files = readdirSync(corpus)
  .filter((f) => f.endsWith(".eml"))
  .sort();
const mails = files.map((f) => readFileSync(join(corpus, f)));
if (mails.length === 0) throw new Error(`no .eml files in ${corpus}`);

for (let r = 0; r < warmup; r++) for (const m of mails) classify(m);
const session = new Session();
session.connect();
await session.post("Profiler.enable");
await session.post("Profiler.setSamplingInterval", { interval: Number(opt("--interval", "200")) });
await session.post("Profiler.start");
const cpu0 = process.cpuUsage();
for (let r = 0; r < rounds; r++) for (const m of mails) classify(m);
const cpu = process.cpuUsage(cpu0);
const { profile } = await session.post("Profiler.stop");
session.disconnect();
if (opt("--save")) writeFileSync(opt("--save"), JSON.stringify(profile));

const count = rounds * mails.length;
console.log(
  `${count} mails (${rounds} rounds of ${mails.length}, after ${warmup} rounds of warm-up): ${((cpu.user + cpu.system) / count).toFixed(1)} µs of CPU a mail, profiler included`,
);

// Time per node, each node's parent, and a name per function (name, file, line).
const time = new Map();
for (let i = 0; i < profile.samples.length; i++)
  time.set(profile.samples[i], (time.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const nameOf = (n) => {
  const f = n.callFrame;
  const file = f.url ? ` ${f.url.split("/").slice(-2).join("/")}:${f.lineNumber + 1}` : "";
  return `${f.functionName || "(anonymous)"}${file}`;
};
const self = new Map();
const inclusive = new Map();
let total = 0;
/** Whether a node runs under the profiler's own calls (its stop), which are no part of classify(). */
const profilerOwn = (id) => {
  for (let p = id; p !== undefined; p = parent.get(p))
    if (byId.get(p).callFrame.url.startsWith("node:inspector")) return true;
  return false;
};
for (const n of profile.nodes) {
  const t = time.get(n.id) ?? 0;
  if (t === 0 || profilerOwn(n.id)) continue;
  total += t;
  const name = nameOf(n);
  self.set(name, (self.get(name) ?? 0) + t);
  // each function once per sample, however deep it recurses
  const seen = new Set();
  for (let id = n.id; id !== undefined; id = parent.get(id)) {
    const k = nameOf(byId.get(id));
    if (seen.has(k)) continue;
    seen.add(k);
    inclusive.set(k, (inclusive.get(k) ?? 0) + t);
  }
}
const table = (title, m, skip) => {
  console.log(`\n${title}`);
  const rows = [...m].filter(([k]) => !skip(k)).sort((x, y) => y[1] - x[1]);
  for (const [k, t] of rows.slice(0, top))
    console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${k}`);
};
const outside = (k) => k.startsWith("(root)") || k.includes("classify-profile.mjs");
table("self time", self, outside);
table("inclusive time", inclusive, outside);

if (args.includes("--by-kind")) {
  const best = new Array(mails.length).fill(Infinity);
  for (let r = 0; r < 5; r++)
    mails.forEach((m, i) => {
      const t = process.hrtime.bigint();
      classify(m);
      const us = Number(process.hrtime.bigint() - t) / 1e3;
      if (us < best[i]) best[i] = us;
    });
  const kinds = new Map();
  mails.forEach((m, i) => {
    const r = classify(m);
    const parser = r.recipients?.[0]?.parser;
    const k = `${r.kind}/${r.source === "rfc3464" ? "delivery-status" : parser ? `${parser} (${r.source})` : "none"}`;
    const key = k.replace(/ \(.*\)$/, "");
    const g = kinds.get(key) ?? { n: 0, us: 0 };
    g.n++;
    g.us += best[i];
    kinds.set(key, g);
  });
  const sum = best.reduce((a, b) => a + b, 0);
  console.log(
    `\nbest time per mail (best of 5, wall clock), by kind: ${(sum / mails.length).toFixed(1)} µs a mail in all`,
  );
  for (const [k, g] of [...kinds].sort((x, y) => y[1].us - x[1].us))
    console.log(
      `${k.padEnd(32)} ${String(g.n).padStart(5)} mails ${(g.us / g.n).toFixed(1).padStart(7)} µs a mail ${((100 * g.us) / sum).toFixed(0).padStart(4)}%`,
    );
}
