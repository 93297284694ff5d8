// What the slow lookups of a bench/lookup.mjs run waited for: reads the timelines of `--trace DIR` (each measured
// lookup's write and reply as the C client saw them; the lookup process's collections, its mirror's polls and its
// pauses' reads) and, when the run had `--cpu-prof DIR` too (the same DIR; best with `--node-flags
// "--cpu-prof-interval 100"`), the lookup process's CPU profile, whose samples are on the same clock
// (CLOCK_MONOTONIC). For every lookup slower than --threshold ms it says what the lookup process did while it
// waited, and sorts the slow ones by the first cause that applies:
//
//   gc        a collection of the lookup process overlapped the wait
//   feed      the mirror's feed or the pauses' read ran (their code, the database client's) during the wait
//   other     samples of other code of the process (neither lookups nor the feed: timers, the bench's reporter)
//   runqueue  (with --sched) the lookup process's main thread was runnable and waiting for a core for more than
//             0.1 ms of the wait
//   client    (with --sched) the C client was runnable and waiting for a core for more than 0.1 ms of the wait
//   off-cpu   the profile has a gap of more than 3 sampling intervals in the wait: the process was not running
//             (descheduled: the machine's other work)
//   lookups   the process was busy answering other lookups the whole wait (queueing behind its own work)
//   idle      the process was idle some of the wait and none of the above: the time is outside it (the kernel's
//             loopback, the client waiting for a core)
//
//   node bench/lookup-tail.mjs --dir DIR [--run real|floor] [--only socketmap|policy] [--threshold 1]
//                              [--sched FILE --pid PID]   (FILE: `perf sched timehist -i DATA` of a
//                                 `perf sched record -k CLOCK_MONOTONIC -a` taken while the run was measured; PID:
//                                 the lookup process's, printed by --trace)
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const DIR = arg("dir", undefined);
if (!DIR) throw new Error("--dir DIR: the --trace directory of a bench/lookup.mjs run");
const RUN = arg("run", "real");
const ONLY = arg("only", undefined);
const THRESHOLD_NS = Number(arg("threshold", "1")) * 1e6;

/** The profile's samples: times (ns) and categories, in order. */
function profileSamples() {
  // The main thread's (thread 0; the others are the module loader's and workers').
  const f = readdirSync(DIR).find((n) => /\.\d+\.0\.\d+\.cpuprofile$/.test(n));
  if (!f) return undefined;
  const p = JSON.parse(readFileSync(join(DIR, f), "utf8"));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const category = new Map();
  const categoryOf = (id) => {
    let c = category.get(id);
    if (c) return c;
    const names = [];
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const cf = byId.get(at).callFrame;
      names.push(`${cf.functionName} ${cf.url}`);
    }
    const leaf = names[0];
    const has = (re) => names.some((n) => re.test(n));
    if (leaf.startsWith("(idle)")) c = "idle";
    else if (leaf.startsWith("(garbage collector)")) c = "gc";
    // The lookups' own path first (it runs through the mirror's answer and the pauses' current list too).
    else if (has(/postfix\/(socketmap|policy|netstring)\.ts/)) c = "lookups";
    else if (
      has(
        /^(poll|load|flush|schedule) .*suppression-mirror|pause-cache|stream-pauses|src\/store\/|node_modules\/(pg|pg-protocol|pg-pool|kysely)\//,
      )
    )
      c = "feed";
    else if (has(/writeUtf8String|writeBuffer|onStreamRead/)) c = "lookups";
    else if (leaf.startsWith("(program)")) c = "program";
    else c = "other";
    category.set(id, c);
    return c;
  };
  const t = new Float64Array(p.samples.length);
  const cat = new Array(p.samples.length);
  let at = p.startTime * 1000;
  for (let i = 0; i < p.samples.length; i++) {
    at += p.timeDeltas[i] * 1000;
    t[i] = at;
    cat[i] = categoryOf(p.samples[i]);
  }
  const deltas = [...p.timeDeltas].sort((a, b) => a - b);
  return { t, cat, interval: deltas[Math.floor(deltas.length / 2)] * 1000 };
}

function lowerBound(a, x) {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (a[m] < x) lo = m + 1;
    else hi = m;
  }
  return lo;
}

const prof = profileSamples();

/**
 * From `perf sched timehist`: the intervals each thread of interest spent runnable but not running (its "sch
 * delay" before each time it ran), in ns: the lookup process's main thread (tid = PID) and the C client.
 */
function schedWaits() {
  const file = arg("sched", undefined);
  if (!file) return undefined;
  const pid = arg("pid", undefined);
  const server = [];
  const client = [];
  for (const l of readFileSync(file, "utf8").split("\n")) {
    // time cpu task[tid/pid] wait sch-delay run
    const m =
      /^\s*(\d+\.\d+)\s+\[\d+\]\s+(\S.*?)\[(\d+)(?:\/(\d+))?\]\s+(\d+\.\d+)\s+(\d+\.\d+)\s+(\d+\.\d+)/.exec(
        l,
      );
    if (!m) continue;
    const end = Number(m[1]) * 1e9;
    const run = Number(m[7]) * 1e6;
    const delay = Number(m[6]) * 1e6;
    if (delay <= 0) continue;
    const iv = [end - run - delay, end - run];
    if (m[3] === pid) server.push(iv);
    else if (m[2].startsWith("lookup-client")) client.push(iv);
  }
  return { server, client };
}
/** How much of [from, to) the intervals cover (ns). */
const covered = (ivs, from, to) => {
  let ns = 0;
  for (const [a, b] of ivs) if (a < to && b > from) ns += Math.min(b, to) - Math.max(a, from);
  return ns;
};
const sched = schedWaits();
for (const proto of ["socketmap", "policy"]) {
  if (ONLY && ONLY !== proto) continue;
  const cf = join(DIR, `${RUN}-${proto}-client.txt`);
  if (!existsSync(cf)) continue;
  const lookups = readFileSync(cf, "utf8")
    .trim()
    .split("\n")
    .map((l) => l.split(" ").map(Number));
  const events = existsSync(join(DIR, `${RUN}-${proto}-server.txt`))
    ? readFileSync(join(DIR, `${RUN}-${proto}-server.txt`), "utf8")
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((l) => {
          const [what, from, to] = l.split(" ");
          return { what, from: Number(from), to: Number(to) };
        })
    : [];
  const overlaps = (what, from, to) => events.some((e) => e.what === what && e.from < to && e.to > from);
  const slow = lookups.filter(([s, r]) => r - s > THRESHOLD_NS);
  const causes = {};
  const detail = [];
  for (const [s, r, sup] of slow) {
    const counts = { idle: 0, gc: 0, feed: 0, lookups: 0, program: 0, other: 0 };
    let gap = 0;
    if (prof) {
      let i = lowerBound(prof.t, s);
      let prev = i > 0 ? prof.t[i - 1] : s;
      for (; i < prof.t.length && prof.t[i] <= r; i++) {
        counts[prof.cat[i]]++;
        if (prof.t[i] - prev > 3 * prof.interval) gap = Math.max(gap, prof.t[i] - prev);
        prev = prof.t[i];
      }
    }
    const cause = overlaps("gc", s, r)
      ? "gc"
      : counts.feed > 0
        ? "feed"
        : counts.other > 0
          ? "other"
          : sched && covered(sched.server, s, r) > 1e5
            ? "runqueue"
            : sched && covered(sched.client, s, r) > 1e5
              ? "client"
              : gap > 0
                ? "off-cpu"
                : !prof
                  ? "unknown"
                  : counts.idle === 0
                    ? "lookups"
                    : "idle";
    causes[cause] = (causes[cause] ?? 0) + 1;
    detail.push({ ms: (r - s) / 1e6, cause, sup, counts, gapMs: gap / 1e6, polls: overlaps("poll", s, r) });
  }
  const lat = lookups.map(([s, r]) => (r - s) / 1e6).sort((a, b) => a - b);
  const p = (q) => lat[Math.min(lat.length - 1, Math.floor((q / 100) * lat.length))].toFixed(3);
  const gcs = events.filter((e) => e.what === "gc");
  const span = lookups.length ? [lookups[0][0], lookups[lookups.length - 1][1]] : [0, 0];
  const inSpan = (e) => e.from < span[1] && e.to > span[0];
  console.log(
    `${RUN} ${proto}: ${lookups.length} lookups, p50 ${p(50)} p99 ${p(99)} p99.9 ${p(99.9)} ms; ${slow.length} over ${THRESHOLD_NS / 1e6} ms (${((100 * slow.length) / lookups.length).toFixed(2)}%): ` +
      Object.entries(causes)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(", ") +
      `; suppressed: ${slow.filter((l) => l[2] === 1).length} of the slow, ${lookups.filter((l) => l[2] === 1).length} of all` +
      `; while measured: ${gcs.filter(inSpan).length} collections, ${events.filter((e) => e.what === "poll" && inSpan(e)).length} polls, ${events.filter((e) => e.what === "pauses" && inSpan(e)).length} pause reads` +
      (prof ? `; profile interval ${(prof.interval / 1e3).toFixed(0)} µs` : ""),
  );
  if (args.includes("--detail"))
    for (const d of detail.slice(0, 400))
      console.log(
        `  ${d.ms.toFixed(3)} ms ${d.cause}${d.sup ? " (suppressed)" : ""}${d.polls ? " [poll in flight]" : ""} gap ${d.gapMs.toFixed(2)} ms samples ${JSON.stringify(d.counts)}`,
      );
}
