#!/usr/bin/env node
// How often the classifier leaves a failed recipient without guidance (issue 14 §3): over the development corpus
// (../shared/corpus/emails) and samples/, the share of failed recipients (of bounce reports: not deliveries,
// feedback or auto-replies) that come out `undetermined` (neither the reason nor the permanence known), beside the
// share whose reason is `undefined` and the share whose permanence is unknown (`permanent: null`). Runs the built
// command (`npm run build` first): `rebound classify --format ndjson` on each folder.
//
//   node bench/undetermined.mjs [--list] [--corpus DIR] [--bin bin/rebound.js]
//
// --list prints each undetermined recipient: its file, rule and the start of its diagnostic.
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { args, opt, root } from "./lib/args.mjs";

const bin = resolve(opt("--bin", join(root, "bin", "rebound.js")));
const sets = [
  ["corpus", resolve(opt("--corpus", join(root, "..", "shared", "corpus", "emails")))],
  ["samples", join(root, "samples")],
];
const pct = (n, d) => (d ? `${((n / d) * 100).toFixed(1)}%` : "n/a").padStart(6);
const NOT_FAILURES = new Set(["delivered", "feedback", "vacation"]);

for (const [name, dir] of sets) {
  const run = spawnSync(process.execPath, [bin, "classify", "--format", "ndjson", dir], {
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  if (run.error || !run.stdout) throw run.error ?? new Error(`${bin} classify ${dir}: ${run.stderr}`);
  let mails = 0;
  let failed = 0;
  let undetermined = 0;
  let undefinedReason = 0;
  let unknownPermanence = 0;
  const listed = [];
  for (const line of run.stdout.split("\n")) {
    if (!line) continue;
    const r = JSON.parse(line);
    mails++;
    if (r.kind !== "bounce") continue;
    for (const x of r.recipients) {
      if (NOT_FAILURES.has(x.reason)) continue;
      failed++;
      if (x.reason === "undefined") undefinedReason++;
      if (x.permanent === null) unknownPermanence++;
      if (x.class === "undetermined") {
        undetermined++;
        listed.push(
          `  ${r.file}${r.message ? ` #${r.message}` : ""}  ${x.recipient}  [${x.rule}]  ${(x.diagnostic ?? "").slice(0, 100)}`,
        );
      }
    }
  }
  console.log(
    `${name.padEnd(8)} ${mails} mails, ${failed} failed recipients: undetermined ${pct(undetermined, failed)} (${undetermined}); reason undefined ${pct(undefinedReason, failed)} (${undefinedReason}); permanence unknown ${pct(unknownPermanence, failed)} (${unknownPermanence})`,
  );
  if (args.includes("--list")) for (const l of listed) console.log(l);
}
