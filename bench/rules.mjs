#!/usr/bin/env node
// Throughput of the text rules alone: matchText() over every rule's example text, repeated, in one process.
// Prints the one-time compile cost (literal automaton), µs per call (CPU) and the table sizes.
// Needs `npm run build` first.
//
//   node bench/rules.mjs [--rounds N]
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const i = args.indexOf("--rounds");
const rounds = i >= 0 ? Number(args[i + 1]) : 200;
const { matchText, textRules, statusRules } = await import(
  join(root, "dist", "src", "core", "rules", "index.js")
);

const texts = textRules.map((r) => r.example);
texts.push(
  "Hello, this text names no reason at all; it is here to measure a miss.",
  "550-5.7.1 [192.0.2.1 12] Our system has detected that this message is 550-5.7.1 likely unsolicited mail.",
);
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
let t = cpu();
matchText("warm up");
const compileMs = cpu() - t;
for (let k = 0; k < 5; k++) for (const s of texts) matchText(s);
t = cpu();
let n = 0;
for (let k = 0; k < rounds; k++)
  for (const s of texts) {
    matchText(s);
    n++;
  }
const ms = cpu() - t;
console.log(`rules        ${textRules.length} text rules, ${statusRules.length} status rules`);
console.log(`compile      ${compileMs.toFixed(1)} ms CPU (once per process)`);
console.log(
  `matchText    ${n} calls: ${((ms * 1000) / n).toFixed(2)} µs CPU per call, ${Math.round(n / (ms / 1000))} calls per CPU-second`,
);
