#!/usr/bin/env node
// What the classifier thread's code cache (scripts/build-cli.mjs) saves: `rebound classify -j 1` over the
// development corpus (549 mails: one thread's start, load and first pass, where V8 compiles the classifier) with
// the build as it is, and with a copy of the build that has no cache (the same files, the cache left out),
// alternated for R rounds (default 8). Prints each run's CPU (user + system, every thread: GNU time) and the
// medians. Needs `npm run build` first, and /usr/bin/time.
//
//   node bench/classify-cache.mjs [--rounds 8] [--corpus DIR] [--threads 1]
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { opt, root } from "./lib/args.mjs";

const rounds = Number(opt("--rounds", "8"));
const threads = opt("--threads", "1");
const corpus = resolve(opt("--corpus", join(root, "..", "shared", "corpus", "emails")));

const work = mkdtempSync(join(tmpdir(), "rebound-classify-cache-"));
const copy = join(work, "build");
cpSync(join(root, "bin"), join(copy, "bin"), { recursive: true });
cpSync(join(root, "dist"), join(copy, "dist"), { recursive: true });
cpSync(join(root, "package.json"), join(copy, "package.json"));
symlinkSync(join(root, "node_modules"), join(copy, "node_modules"));
rmSync(join(copy, "dist", "src", "cli", "classify-thread.bundle.cjs.cache"));

const builds = { "with cache": root, "without cache": copy };
const cpu = { "with cache": [], "without cache": [] };
const cpuFile = join(work, "cpu");
const load = [loadavg()[0]];
try {
  for (let r = 0; r < rounds; r++) {
    for (const [name, dir] of Object.entries(builds)) {
      const run = spawnSync(
        "/usr/bin/time",
        [
          "-f",
          "%U %S",
          "-o",
          cpuFile,
          process.execPath,
          join(dir, "bin", "rebound.js"),
          "classify",
          "-j",
          threads,
          corpus,
        ],
        { stdio: ["ignore", "ignore", "inherit"] },
      );
      if (run.status !== 0) throw new Error(`${name}: exit ${run.status}`);
      const [u, s] = readFileSync(cpuFile, "utf8").trim().split(/\s+/).map(Number);
      cpu[name].push((u + s) * 1000);
      console.log(`  round ${r + 1} ${name}: CPU ${((u + s) * 1000).toFixed(0)} ms`);
    }
    load.push(loadavg()[0]);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`load average: ${load.map((l) => l.toFixed(2)).join(", ")}`);
for (const name of Object.keys(builds))
  console.log(
    `${name}: median CPU ${median(cpu[name]).toFixed(0)} ms (min ${Math.min(...cpu[name]).toFixed(0)})`,
  );
