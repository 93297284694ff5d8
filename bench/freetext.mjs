#!/usr/bin/env node
// How well the classifier reads bounces of no known layout (issue 14 §2-§3): over the sample mails whose names
// match a pattern (default: the free-text, old-MTA and non-English samples, `freetext-*` and `oldmta-*`), each
// with its expected file (samples/NAME.expected.json), it prints
//   - found all: the share of mails where every expected failed recipient is reported, and no other address;
//   - determined: the share of reported failed recipients with a reason or a permanence (class not
//     `undetermined`), beside the shares with a known reason (not undefined/onhold) and a known permanence;
//   - right: the shares whose reason, and whose permanence, equal the expected file's (where it gives them).
// Runs the built library (`npm run build` first).
//
//   node bench/freetext.mjs [--match REGEX] [--dir DIR] [--list]
//
// --list prints each mail that misses: its file, what was expected and what was reported.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { args, opt, root } from "./lib/args.mjs";

const dir = resolve(opt("--dir", join(root, "samples")));
const match = new RegExp(opt("--match", "^(?:freetext|oldmta)-"));
const list = args.includes("--list");
const { classify } = await import(join(root, "dist", "src", "core", "classify.js"));

const NOT_FAILURES = new Set(["delivered", "feedback", "vacation"]);
const pct = (n, d) => (d ? `${((n / d) * 100).toFixed(1)}%` : "n/a").padStart(6);

let mails = 0;
let foundAll = 0;
let failed = 0;
let determined = 0;
let reasonKnown = 0;
let permanenceKnown = 0;
let reasonChecked = 0;
let reasonRight = 0;
let permanentChecked = 0;
let permanentRight = 0;
const misses = [];
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith(".eml") && match.test(f))
  .sort()) {
  const expectedFile = join(dir, file.replace(/\.eml$/, ".expected.json"));
  if (!existsSync(expectedFile)) continue;
  const expected = JSON.parse(readFileSync(expectedFile, "utf8"));
  if ([expected.kind].flat().every((k) => k !== "bounce")) continue;
  const report = classify(readFileSync(join(dir, file)));
  mails++;
  // the failed recipients only: a delivered, relayed or expanded block of a mixed DSN is listed but no failure
  const want = new Map(
    expected.recipients.filter((r) => !NOT_FAILURES.has(r.reason)).map((r) => [r.recipient.toLowerCase(), r]),
  );
  const got = report.recipients.filter((r) => !NOT_FAILURES.has(r.reason));
  const gotSet = new Set(got.map((r) => r.recipient.toLowerCase()));
  const all = [...want.keys()].every((a) => gotSet.has(a)) && gotSet.size === want.size;
  if (all) foundAll++;
  let wrong = !all;
  for (const r of got) {
    failed++;
    if (r.class !== "undetermined") determined++;
    if (r.reason !== "undefined" && r.reason !== "onhold") reasonKnown++;
    if (r.permanent !== null) permanenceKnown++;
    const w = want.get(r.recipient.toLowerCase());
    if (w?.reason !== undefined) {
      reasonChecked++;
      if (w.reason === r.reason) reasonRight++;
      else wrong = true;
    }
    if (w && "permanent" in w) {
      permanentChecked++;
      if (w.permanent === r.permanent) permanentRight++;
      else wrong = true;
    }
  }
  if (wrong)
    misses.push(
      `  ${file}\n    expected ${expected.recipients.map((r) => `${r.recipient} ${r.reason ?? "?"} ${r.permanent ?? "null"}`).join("; ")}\n    reported ${report.kind}: ${got.map((r) => `${r.recipient} ${r.reason} ${r.permanent} [${r.rule}]`).join("; ") || "none"}`,
    );
}
console.log(
  `${mails} bounces (${match.source} in ${dir}): every failed recipient found (and no other) in ${pct(foundAll, mails)} (${foundAll})`,
);
console.log(
  `${failed} failed recipients reported: determined (reason or permanence) ${pct(determined, failed)}; reason known ${pct(reasonKnown, failed)}; permanence known ${pct(permanenceKnown, failed)}`,
);
console.log(
  `right: reason ${pct(reasonRight, reasonChecked)} of ${reasonChecked}; permanence ${pct(permanentRight, permanentChecked)} of ${permanentChecked}`,
);
if (list) for (const m of misses) console.log(m);
