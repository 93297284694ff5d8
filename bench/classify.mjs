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
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
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
