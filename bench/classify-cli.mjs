#!/usr/bin/env node
// The whole `rebound classify` command (start-up, reading, classifying on every core, writing NDJSON) on a folder
// made of the development corpus copied N times (default 50: about 27,450 mails), against Sisimai's make() on
// the same folder when Sisimai (Perl) is installed (`apt-get install libsisimai-perl`). The two alternate, best
// of R rounds each (default 3); prints the wall time of each run, the best of each, their ratio, and the
// machine's load average (the runs share the machine with whatever else runs). Needs `npm run build` first.
//
//   node bench/classify-cli.mjs [--copies 50] [--rounds 3] [--corpus DIR] [--bin bin/rebound.js]...
//
// --bin may be given several times (another build's bin/rebound.js, to compare builds in the same minute).
// The folder is flat (Sisimai reads a Maildir-like folder, not a tree) and made in a temporary folder, removed
// at the end. Sisimai's side is `Sisimai->make(DIR)` alone (its results are counted, not printed): the
// comparison leaves Sisimai its output for free.
import { spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  mkdirSync,
  statSync,
} from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { args, opt, root } from "./lib/args.mjs";

const copies = Number(opt("--copies", "50"));
const rounds = Number(opt("--rounds", "3"));
const corpus = resolve(opt("--corpus", join(root, "..", "shared", "corpus", "emails")));
const bins = args.flatMap((a, i) => (a === "--bin" ? [resolve(args[i + 1])] : []));
if (!bins.length) bins.push(join(root, "bin", "rebound.js"));

const work = mkdtempSync(join(tmpdir(), "rebound-classify-cli-"));
const dir = join(work, "mails");
mkdirSync(dir);
const names = readdirSync(corpus).filter(
  (n) => !n.startsWith(".") && !/\.(json|md)$/i.test(n) && statSync(join(corpus, n)).isFile(),
);
for (let c = 0; c < copies; c++)
  for (const n of names) copyFileSync(join(corpus, n), join(dir, `${String(c).padStart(2, "0")}-${n}`));
const files = names.length * copies;

const sisimai = spawnSync("perl", ["-MSisimai", "-e", "1"]).status === 0;
const SISIMAI_MAKE = "use Sisimai; my $v = Sisimai->make($ARGV[0]); print scalar(@{ $v // [] }), qq(\\n);";

/** GNU time, when installed, gives each run's CPU time (user + system, all its threads). */
const GNU_TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : null;

/**
 * Runs a command to the end, its output read and dropped; resolves with its wall time (ms), CPU time (ms, when
 * GNU time is there) and output size.
 */
function time(cmd, argv) {
  const cpuFile = join(work, "cpu");
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const child = GNU_TIME
      ? spawn(GNU_TIME, ["-f", "%U %S", "-o", cpuFile, cmd, ...argv], {
          stdio: ["ignore", "pipe", "inherit"],
        })
      : spawn(cmd, argv, { stdio: ["ignore", "pipe", "inherit"] });
    let bytes = 0;
    let last = "";
    child.stdout.on("data", (c) => {
      bytes += c.length;
      last = c.toString().slice(-200);
    });
    child.on("error", fail);
    child.on("close", (code) => {
      if (code !== 0) return fail(new Error(`${cmd} ${argv.join(" ")} exited with ${code}`));
      const ms = performance.now() - t0;
      const cpu = GNU_TIME
        ? readFileSync(cpuFile, "utf8")
            .trim()
            .split(/\s+/)
            .reduce((a, x) => a + Number(x) * 1000, 0)
        : NaN;
      done({ ms, cpu, bytes, last: last.trim().split("\n").at(-1) });
    });
  });
}

const runs = new Map();
const record = (name, r) => runs.set(name, [...(runs.get(name) ?? []), r]);
const load = [loadavg()[0]];
console.log(
  `folder: ${files} files (${names.length} of ${corpus} x ${copies}); ${rounds} rounds, alternated; load average ${load[0].toFixed(2)}`,
);
if (!sisimai) console.log("Sisimai not installed (apt-get install libsisimai-perl): rebound alone");
try {
  for (let r = 0; r < rounds; r++) {
    for (const bin of bins) {
      const res = await time(process.execPath, [bin, "classify", dir]);
      record(`rebound ${bin}`, res);
      console.log(
        `  round ${r + 1} rebound ${bin}: ${res.ms.toFixed(0)} ms, CPU ${res.cpu.toFixed(0)} ms (${(res.bytes / 1e6).toFixed(1)} MB out)`,
      );
    }
    if (sisimai) {
      const res = await time("perl", ["-e", SISIMAI_MAKE, dir]);
      record("sisimai", res);
      console.log(
        `  round ${r + 1} sisimai make: ${res.ms.toFixed(0)} ms, CPU ${res.cpu.toFixed(0)} ms (${res.last} results)`,
      );
    }
    load.push(loadavg()[0]);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const best = (name) => Math.min(...runs.get(name).map((r) => r.ms));
const bestCpu = (name) => Math.min(...runs.get(name).map((r) => r.cpu));
console.log(`load average during the runs: ${load.map((l) => l.toFixed(2)).join(", ")} (2 cores)`);
for (const bin of bins) {
  const ms = best(`rebound ${bin}`);
  const cpu = bestCpu(`rebound ${bin}`);
  const line = `best rebound classify (${bin}): ${ms.toFixed(0)} ms (CPU ${cpu.toFixed(0)} ms), ${((files / ms) * 1000).toFixed(0)} files/s`;
  console.log(
    sisimai
      ? `${line}; Sisimai make: ${best("sisimai").toFixed(0)} ms (CPU ${bestCpu("sisimai").toFixed(0)} ms); ratio ${(best("sisimai") / ms).toFixed(1)}x wall, ${(bestCpu("sisimai") / cpu).toFixed(1)}x CPU`
      : line,
  );
}
