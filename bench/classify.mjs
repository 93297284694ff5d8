#!/usr/bin/env node
// Throughput of classify(): the development corpus (../shared/corpus/emails) read once into memory, then
// classified over and over until at least N mails (default 20,000) in one process, on one core. Prints
// mails/s (wall clock and per CPU-second), MB/s and peak RSS. Needs `npm run build` first. With --parse-only, times
// the MIME side alone: parseMail() and the reads of the parsed view that classify() always does. --warmup R runs
// R rounds of the corpus before timing (default 1): V8 keeps optimising functions on background threads for
// some forty rounds, and that compiling (a fifth of the CPU of a default run) is counted in the CPU figure;
// a long-running worker pays it once.
//
//   node bench/classify.mjs [--mails N] [--corpus DIR] [--parse-only] [--warmup R]
//
// With --hostile, times the hostile suite instead (test/core/hostile.mjs: for each context the classifier reads,
// 64 KB runs of each character class a pattern there might loop on): the worst time per mail and µs per KB, per
// context, then the worst unit of some contexts at 16, 32 and 64 KB and at the SMTP size limit (10 MB), to show
// the time grows linearly. With --fuzz N, classifies N mutations of samples/*.eml and of the hostile suite (4 KB
// runs) and counts the crashes (a throw, or an `unparsable` report: an internal error caught by classify()).
//
// Times are CPU time (best of 3 runs per mail: the machine is shared), or wall-clock time with --wall.
//
//   node bench/classify.mjs --hostile [--size BYTES] [--no-limit] [--wall]
//   node bench/classify.mjs --fuzz N [--seed S]
import { readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { args, opt, root } from "./lib/args.mjs";

const target = Number(opt("--mails", "20000"));
const corpus = resolve(opt("--corpus", join(root, "..", "shared", "corpus", "emails")));
const parseOnly = args.includes("--parse-only");
const warmup = Number(opt("--warmup", "1"));
const { classify: classifyMail } = await import(join(root, "dist", "src", "core", "classify.js"));
const { parseMail } = await import(join(root, "dist", "src", "core", "mime.js"));
const { readOriginal } = await import(join(root, "dist", "src", "core", "original.js"));
/** parseMail() and what classify() reads of every parsed mail: the original's identifiers, the mail's own. */
const parseAndRead = (m) => {
  const mail = parseMail(m);
  readOriginal(mail.originalHeaders);
  for (const name of ["message-id", "from", "subject", "date"]) mail.headers.get(name);
  return { kind: mail.statusText === undefined ? "no_status" : "status" };
};
const classify = parseOnly ? parseAndRead : classifyMail;

if (args.includes("--hostile")) {
  await hostile();
  process.exit(0);
}
if (args.includes("--fuzz")) {
  await fuzz(Number(opt("--fuzz", "100000")), Number(opt("--seed", "20261207")));
  process.exit(0);
}

const mails = readdirSync(corpus)
  .filter((f) => f.endsWith(".eml"))
  .sort()
  .map((f) => readFileSync(join(corpus, f)));
const bytes = mails.reduce((n, m) => n + m.length, 0);
if (mails.length === 0) throw new Error(`no .eml files in ${corpus}`);

let peakRss = process.memoryUsage().rss;
const sampleRss = () => {
  const rss = process.memoryUsage().rss;
  if (rss > peakRss) peakRss = rss;
};

// Warm-up: one pass by default (JIT, lazy rule compilation).
for (let r = 0; r < warmup; r++) for (const m of mails) classify(m);

const rounds = Math.ceil(target / mails.length);
let count = 0;
let kinds = {};
const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
for (let r = 0; r < rounds; r++) {
  for (const m of mails) {
    const report = classify(m);
    if (r === 0) kinds[report.kind] = (kinds[report.kind] ?? 0) + 1;
    count++;
  }
  sampleRss();
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
sampleRss();

console.log(`corpus        ${mails.length} mails, ${(bytes / 1024 / 1024).toFixed(1)} MB (${corpus})`);
console.log(
  `${parseOnly ? "parsed    " : "classified"}    ${count} mails in ${seconds.toFixed(2)} s (${rounds} rounds)`,
);
console.log(
  `throughput    ${Math.round(count / seconds)} mails/s wall, ${((bytes * rounds) / 1024 / 1024 / seconds).toFixed(1)} MB/s`,
);
console.log(
  `cpu           ${cpuSeconds.toFixed(2)} s of CPU: ${Math.round(count / cpuSeconds)} mails/s per core-second (what a loaded machine still measures)`,
);
console.log(`per mail      ${((seconds / count) * 1e6).toFixed(1)} µs`);
console.log(`peak RSS      ${(peakRss / 1024 / 1024).toFixed(0)} MB`);
console.log(`kinds         ${JSON.stringify(kinds)}`);

/**
 * Milliseconds of one classify() of `mail`: the CPU time the process spent on it (another process's turn on a
 * shared core is not counted, as wall-clock time would count it), or the wall-clock time with --wall.
 */
function timed(mail) {
  if (args.includes("--wall")) {
    const t = process.hrtime.bigint();
    classifyMail(mail);
    return Number(process.hrtime.bigint() - t) / 1e6;
  }
  const c = process.cpuUsage();
  classifyMail(mail);
  const d = process.cpuUsage(c);
  return (d.user + d.system) / 1000;
}

/** The best of `n` timings of `mail`: one slow run is a pause of the machine (or V8 compiling), not of a pattern. */
function bestOf(n, mail) {
  return Math.min(...Array.from({ length: n }, () => timed(mail)));
}

async function hostile() {
  const { CONTEXTS, UNITS, run } = await import("../test/core/hostile.mjs");
  const size = Number(opt("--size", String(64 * 1024)));
  for (let i = 0; i < 200; i++)
    classifyMail(CONTEXTS[i % CONTEXTS.length].mail(run(UNITS[i % UNITS.length], 256), "a"));
  console.log(
    `hostile suite: ${CONTEXTS.length} contexts x ${UNITS.length} units, runs of ${size / 1024} KB`,
  );
  console.log(
    `${"context".padEnd(24)} ${"worst ms".padStart(9)} ${"µs/KB".padStart(7)} ${"mean ms".padStart(8)}  worst unit`,
  );
  let worst = { ms: 0 };
  const worstUnit = new Map();
  let total = 0;
  let count = 0;
  for (const c of CONTEXTS) {
    let w = { ms: -1 };
    let sum = 0;
    for (const u of UNITS) {
      const mail = c.mail(run(u, size), u);
      const ms = bestOf(3, mail);
      sum += ms;
      if (ms > w.ms) w = { ms, unit: u, kb: mail.length / 1024, context: c.name };
    }
    total += sum;
    count += UNITS.length;
    worstUnit.set(c.name, w);
    if (w.ms > worst.ms) worst = w;
    console.log(
      `${c.name.padEnd(24)} ${w.ms.toFixed(2).padStart(9)} ${((w.ms * 1000) / w.kb).toFixed(1).padStart(7)} ${(sum / UNITS.length).toFixed(2).padStart(8)}  ${JSON.stringify(w.unit)}`,
    );
  }
  console.log(
    `worst         ${worst.ms.toFixed(2)} ms (${worst.context}, ${JSON.stringify(worst.unit)}, ${worst.kb.toFixed(1)} KB); mean ${(total / count).toFixed(2)} ms over ${count} mails`,
  );
  const sizes = [16 * 1024, 32 * 1024, 64 * 1024];
  if (!args.includes("--no-limit")) sizes.push(10 * 1024 * 1024);
  console.log(`\nlinearity (the worst unit of each context; ms, then µs per KB of mail)`);
  console.log(`${"context".padEnd(24)} ${sizes.map((n) => `${n / 1024} KB`.padStart(18)).join("")}`);
  // the contexts whose worst mail was slowest
  const slowest = [...worstUnit.values()].sort((a, b) => b.ms - a.ms).slice(0, Number(opt("--linear", "8")));
  for (const { context: name, unit: u } of slowest) {
    const c = CONTEXTS.find((x) => x.name === name);
    const cells = sizes.map((n) => {
      const mail = c.mail(run(u, n), u);
      const ms = n > 1024 * 1024 ? timed(mail) : bestOf(3, mail);
      return `${ms.toFixed(1)} (${((ms * 1000) / (mail.length / 1024)).toFixed(1)})`.padStart(18);
    });
    console.log(`${`${name} ${JSON.stringify(u)}`.padEnd(24)} ${cells.join("")}`);
  }
}

async function fuzz(n, seed) {
  const { CONTEXTS, UNITS, run, mutate, rng } = await import("../test/core/hostile.mjs");
  const samples = readdirSync(join(root, "samples"))
    .filter((f) => f.endsWith(".eml"))
    .sort()
    .map((f) => readFileSync(join(root, "samples", f)));
  const hostileMails = [];
  for (const c of CONTEXTS)
    for (const u of UNITS) hostileMails.push(Buffer.from(c.mail(run(u, 4096), u), "latin1"));
  const rand = rng(seed);
  let crashes = 0;
  let unparsable = 0;
  let slowest = { ms: 0 };
  const kinds = {};
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const fromSamples = i % 2 === 0;
    const pool = fromSamples ? samples : hostileMails;
    const src = pool[Math.floor(rand() * pool.length)];
    const mail = mutate(src, rand);
    const t = process.hrtime.bigint();
    try {
      const r = classifyMail(mail);
      kinds[r.kind] = (kinds[r.kind] ?? 0) + 1;
      if (r.kind === "unparsable") {
        unparsable++;
        if (unparsable <= 5) console.log(`unparsable #${i}: ${r.error}`);
      }
    } catch (err) {
      crashes++;
      if (crashes <= 5) console.log(`crash #${i}: ${err?.stack ?? err}`);
    }
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (ms > slowest.ms) slowest = { ms, i, kb: mail.length / 1024 };
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(
    `fuzz          ${n} mutated mails (seed ${seed}; half of ${samples.length} samples, half of ${hostileMails.length} hostile mails) in ${seconds.toFixed(1)} s`,
  );
  console.log(`crashes       ${crashes} thrown, ${unparsable} unparsable (internal errors caught)`);
  console.log(`slowest       ${slowest.ms.toFixed(1)} ms (#${slowest.i}, ${slowest.kb?.toFixed(1)} KB)`);
  console.log(`kinds         ${JSON.stringify(kinds)}`);
}
