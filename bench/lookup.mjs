// Send-time lookup benchmark on real PostgreSQL: N suppressions loaded (default 100,000), the lookup role in its
// own process, then for each protocol (socketmap, policy delegation) C kept-open connections (as Postfix's
// smtpd processes hold them) offering R lookups/s in all for D seconds, 1% of them for suppressed addresses.
// Prints the rate reached and the latency of each lookup (p50, p99, max), measured from the request's write to
// its reply, and the lookup process's CPU per lookup (from /proc), its event loop's delay and its collections
// while measured.
//
// The client (the load) is by default a small C program (bench/lib/lookup-client.c, compiled with `cc` on first
// use): no collector of its own, a few µs of CPU a lookup, requests sent on an even schedule timed to the
// microsecond. The Node client it replaced (`--client node`) spent 20-30 µs a lookup on the same 2 cores, its
// timers fired in bursts on millisecond boundaries (all connections at once) and its own collections counted as
// the server's latency. Each protocol is first loaded for --warmup seconds, not counted (the server's compiler and
// heap settle: without it the protocol measured first paid for both).
//
//   node --import tsx bench/lookup.mjs [--rows 100000] [--rate 10000] [--duration 10] [--connections 20]
//                                      [--warmup 2] [--client c|node] [--only socketmap|policy]
//                                      [--node-flags "--trace-gc ..."]   (for the lookup process)
//                                      [--cpu-prof DIR]   (a CPU profile of the lookup process, written to DIR)
//                                      [--pin SERVER:CLIENT]   (CPU placement by `taskset -c`: e.g. `--pin 1:0`, the
//                                                  lookup process on core 1 and the C client on core 0; a side
//                                                  left empty is not pinned)
//                                      [--floor]   (instead of the lookup role, a server in the same kind of process
//                                                  that answers every request with a constant: what the machine,
//                                                  node's sockets and this client take by themselves)
//                                      [--floor-work US]   (with --floor: the floor spins US µs before each reply, as
//                                                  if it worked: what answering later costs the reply's write)
//                                      [--nice N]   (the lookup process run under `nice -n N`: e.g. -5, a higher
//                                                  priority than the client's and the machine's other work)
//                                      [--histogram]   (the C client's latencies counted in buckets, printed)
//                                      [--alloc-prof]   (where the lookup process allocates while measured: V8's
//                                                  sampling heap profiler, collected objects included; the top
//                                                  functions in bytes per lookup)
//                                      [--trace DIR]   (timelines for bench/lookup-tail.mjs, into DIR: every measured
//                                                  lookup's write and reply as the C client saw them, the lookup
//                                                  process's collections and its mirror's polls and pause reads,
//                                                  each as CLOCK_MONOTONIC ns; with --cpu-prof DIR the profile's
//                                                  samples are on the same clock)
//   env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test)
import { execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  // This file's opening comment is its help.
  const text = readFileSync(new URL(import.meta.url), "utf8");
  console.log(
    text
      .slice(0, text.indexOf("\nimport "))
      .split("\n")
      .map((l) => l.replace(/^\/\/ ?/, ""))
      .join("\n"),
  );
  process.exit(0);
}
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const ROWS = Number(arg("rows", "100000"));
const RATE = Number(arg("rate", "10000"));
const DURATION = Number(arg("duration", "10"));
const CONNECTIONS = Number(arg("connections", "20"));
const CPU_PROF = arg("cpu-prof", undefined);
const TRACE = arg("trace", undefined);
const FLOOR_WORK = Number(arg("floor-work", "0"));
const FLOOR = args.includes("--floor");
const WARMUP = Number(arg("warmup", "2"));
const CLIENT = arg("client", "c");
const ONLY = arg("only", undefined);
const NODE_FLAGS = (arg("node-flags", "") ?? "").split(" ").filter(Boolean);
const [PIN_SERVER, PIN_CLIENT] = (arg("pin", ":") ?? ":").split(":");
const NICE = arg("nice", undefined);
/** A command line run under `taskset -c CPUS` when CPUS is given. */
const pinned = (cpus, file, argv) => (cpus ? ["taskset", ["-c", cpus, file, ...argv]] : [file, argv]);

/**
 * What the server process reports when asked on its stdin: its event loop's delay (perf_hooks, 1 ms resolution
 * floor of 10 µs sampling) and its collections (count, longest, total) since the last "reset".
 */
async function reportOnStdin(timeline) {
  const { monitorEventLoopDelay, PerformanceObserver } = await import("node:perf_hooks");
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  let gc = { n: 0, max: 0, total: 0, minor: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      timeline?.mark("gc", e.startTime, e.startTime + e.duration);
      gc.n++;
      gc.total += e.duration;
      if (e.duration > gc.max) gc.max = e.duration;
      if (e.detail?.kind === 1) gc.minor++;
    }
  }).observe({ entryTypes: ["gc"] });
  const alloc = args.includes("--alloc-prof") ? await allocationSampler() : undefined;
  createInterface({ input: process.stdin }).on("line", async (l) => {
    if (l.startsWith("timeline ")) {
      timeline?.save(l.slice(9));
      return;
    }
    if (l === "reset") {
      eld.reset();
      gc = { n: 0, max: 0, total: 0, minor: 0 };
      await alloc?.start();
      return;
    }
    const ms = (ns) => Math.round(ns / 1e3) / 1e3;
    process.stdout.write(
      JSON.stringify({
        eld: { p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), max: ms(eld.max) },
        gc: { n: gc.n, minor: gc.minor, max: Math.round(gc.max * 1000) / 1000, total: Math.round(gc.total) },
        alloc: await alloc?.stop(),
      }) + "\n",
    );
  });
}

/**
 * --alloc-prof: V8's sampling heap profiler over the inspector, counting objects collected since (what a young
 * collection frees is what makes it come): bytes allocated by function (self), largest first.
 */
async function allocationSampler() {
  const { Session } = await import("node:inspector");
  const session = new Session();
  session.connect();
  const post = (method, params) =>
    new Promise((resolve, reject) =>
      session.post(method, params, (err, r) => (err ? reject(err) : resolve(r))),
    );
  await post("HeapProfiler.enable");
  let on = false;
  return {
    async start() {
      if (on) await post("HeapProfiler.stopSampling");
      await post("HeapProfiler.startSampling", {
        samplingInterval: 512,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
      on = true;
    },
    async stop() {
      if (!on) return undefined;
      on = false;
      const { profile } = await post("HeapProfiler.stopSampling");
      const by = new Map();
      let total = 0;
      const name = (f) =>
        `${f.functionName || "(anonymous)"} ${f.url.replace(/^.*\/(src|lib|node_modules)\//, "$1/")}:${f.lineNumber + 1}`;
      // By function and its caller (a builtin's garbage is its caller's doing).
      const walk = (n, caller) => {
        const where = `${name(n.callFrame)} <- ${caller}`;
        by.set(where, (by.get(where) ?? 0) + n.selfSize);
        total += n.selfSize;
        for (const c of n.children) walk(c, name(n.callFrame));
      };
      walk(profile.head, "");
      return { total, top: [...by].sort((a, b) => b[1] - a[1]).slice(0, 25) };
    },
  };
}

/**
 * The child's timeline under --trace: what it did besides lookups (collections, the mirror's polls, the pauses'
 * reads), as start and end in CLOCK_MONOTONIC ns (performance.now() is uv_hrtime from the process's start: the
 * offset is read once), written to a file when asked.
 */
async function makeTimeline() {
  const { writeFileSync } = await import("node:fs");
  const offset = process.hrtime.bigint() - BigInt(Math.round(performance.now() * 1e6));
  const ns = (ms) => (offset + BigInt(Math.round(ms * 1e6))).toString();
  let lines = [];
  return {
    mark(what, fromMs, toMs) {
      lines.push(`${what} ${ns(fromMs)} ${ns(toMs)}`);
    },
    /** Wraps an async method of a prototype: each call's start and its settling marked. */
    wrap(proto, method, what) {
      const orig = proto[method];
      const mark = this.mark;
      proto[method] = function (...a) {
        const t = performance.now();
        const p = orig.apply(this, a);
        const done = () => mark(what, t, performance.now());
        if (p && typeof p.then === "function") p.then(done, done);
        else done();
        return p;
      };
    },
    save(file) {
      writeFileSync(file, lines.join("\n") + "\n");
      lines = [];
    },
  };
}

/** The floor's child: constant replies, one write per reply (as the lookup role writes them), nothing else. */
async function serveFloor() {
  const { createServer } = await import("node:net");
  const listen = (onData) =>
    new Promise((resolve) => {
      const server = createServer((s) => {
        s.setNoDelay(true);
        s.on("error", () => s.destroy());
        s.on("data", (d) => onData(s, d));
      });
      server.listen(0, "127.0.0.1", () => resolve(server.address().port));
    });
  // A request per read (the client has one in flight per connection): answered when its end is in the chunk.
  const spin = () => {
    if (FLOOR_WORK <= 0) return;
    const until = performance.now() + FLOOR_WORK / 1000;
    while (performance.now() < until);
  };
  const socketmap = await listen((s, d) => {
    if (d[d.length - 1] !== 0x2c) return;
    spin();
    s.write("9:NOTFOUND ,");
  });
  const policy = await listen((s, d) => {
    if (d[d.length - 1] !== 0x0a || d[d.length - 2] !== 0x0a) return;
    spin();
    s.write("action=DUNNO\n\n");
  });
  await reportOnStdin(args.includes("--trace") ? await makeTimeline() : undefined);
  process.stdout.write(JSON.stringify({ socketmap, policy, pid: process.pid }) + "\n");
  process.on("SIGTERM", () => process.exit(0));
}

/** The child: the lookup role alone on one schema, printing its ports once its suppressions are loaded. */
async function serve(schema) {
  const { loadConfig } = await import("../src/config.ts");
  const { createLogger } = await import("../src/log.ts");
  const { startApp } = await import("../src/main.ts");
  const config = loadConfig(
    { databaseUrl: DATABASE_URL, databaseSchema: schema, lookupSocketmapPort: 0, lookupPolicyPort: 0 },
    {},
  );
  const timeline = args.includes("--trace") ? await makeTimeline() : undefined;
  if (timeline) {
    // The lookup role's work besides lookups: the mirror's polls (each from its start to its end, waits for the
    // database included) and the pauses' reads.
    const { SuppressionMirror } = await import("../src/integrations/postfix/suppression-mirror.ts");
    const { PauseCache } = await import("../src/alerts/pause-cache.ts");
    timeline.wrap(SuppressionMirror.prototype, "poll", "poll");
    timeline.wrap(PauseCache.prototype, "get", "pauses");
  }
  const app = await startApp(config, ["lookup"], { logger: createLogger("warn") });
  // Loaded in memory (the sources before it had no such promise: their index loaded within the wait below).
  await app.lookupReady;
  await reportOnStdin(timeline);
  process.stdout.write(
    JSON.stringify({ socketmap: app.socketmapPort, policy: app.policyPort, pid: process.pid }) + "\n",
  );
  process.on("SIGTERM", () => app.close().then(() => process.exit(0)));
}

function cpuSeconds(pid) {
  return userSystem(pid).reduce((a, b) => a + b);
}

/** The process's user and system CPU seconds (the system part: mostly the socket's system calls). */
function userSystem(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return [Number(f[11]) / 100, Number(f[12]) / 100];
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function load(schema) {
  const { openDb, migrateToLatest } = await import("../src/store/db.ts");
  const { insertSuppressionRows } = await import("../src/store/suppressions.ts");
  const { resolveAddressKey } = await import("../src/address-key.ts");
  const { loadConfig } = await import("../src/config.ts");
  const h = await openDb({ databaseUrl: DATABASE_URL, schema, poolSize: 4 });
  await migrateToLatest(h.db);
  // The address key the lookup role will read (made in the database on first use), to file the rows under it.
  const { hashAddress } = await resolveAddressKey(
    h.db,
    loadConfig({ databaseUrl: DATABASE_URL, databaseSchema: schema }, {}),
  );
  const at = new Date();
  for (let i = 0; i < ROWS; i += 5000) {
    const batch = [];
    for (let j = i; j < Math.min(ROWS, i + 5000); j++)
      batch.push({
        tenant: "default",
        address: `s${j}@example.org`,
        addressHash: hashAddress(`s${j}@example.org`),
        stream: "default",
        reason: "userunknown",
        class: "hard",
        source: "import",
        at,
      });
    await insertSuppressionRows(h.db, batch);
  }
  await h.close();
}

/** One protocol: C connections, each sending its share of the rate, one request in flight per connection. */
async function run(port, framing, duration = DURATION) {
  const DURATION = duration;
  const perConn = RATE / CONNECTIONS;
  const lat = [];
  const latHit = [];
  let suppressed = 0;
  const end = Date.now() + DURATION * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, c) => {
      const s = connect(port, "127.0.0.1");
      s.setNoDelay(true);
      await new Promise((r) => s.once("connect", r));
      // Every request made before the clock starts (this client's own work per lookup is part of what is
      // measured: it answers the replies of the other connections one at a time): bytes, not strings.
      const most = Math.ceil(perConn * DURATION * 1.1) + 10;
      const noise = randomBytes(6 * most).toString("hex");
      const requests = Array.from({ length: most }, (_, n) =>
        Buffer.from(
          framing.request(
            (n * CONNECTIONS + c) % 100 === 0
              ? `s${(n * 7919 + c) % ROWS}@example.org`
              : `n${noise.slice(12 * n, 12 * n + 12)}@example.org`,
          ),
        ),
      );
      let buf = "";
      let waiting;
      s.on("data", (d) => {
        // A reply is complete when its last bytes say so (one request in flight): decoded only then.
        buf = buf ? buf + d.toString("latin1") : d.toString("latin1");
        const done = framing.complete(buf);
        if (done) {
          buf = "";
          waiting(done);
        }
      });
      let next = performance.now();
      for (let n = 0; n < most && Date.now() < end; n++) {
        const wait = next - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        next += 1000 / perConn;
        const start = performance.now();
        const reply = await new Promise((resolve) => {
          waiting = resolve;
          s.write(requests[n]);
        });
        const ms = performance.now() - start;
        lat.push(ms);
        if (framing.suppressed(reply)) {
          suppressed++;
          latHit.push(ms);
        }
      }
      s.destroy();
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  latHit.sort((a, b) => a - b);
  return {
    n: lat.length,
    rate: lat.length / secs,
    p50: pct(lat, 50),
    p99: pct(lat, 99),
    max: lat[lat.length - 1],
    suppressed,
    hitP50: pct(latHit, 50) ?? 0,
    hitP99: pct(latHit, 99) ?? 0,
  };
}

/** The C client: compiled once into the temporary directory (again when its source is newer). */
function cClient() {
  const src = new URL("./lib/lookup-client.c", import.meta.url).pathname;
  const dir = join(tmpdir(), "rebound-bench");
  mkdirSync(dir, { recursive: true });
  // Named by its source's hash: another checkout's older client is not taken for this one.
  const hash = createHash("sha256").update(readFileSync(src)).digest("hex").slice(0, 12);
  const bin = join(dir, `lookup-client-${hash}`);
  if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs)
    execFileSync("cc", ["-O2", "-o", bin, src], { stdio: "inherit" });
  return bin;
}

const SOCKETMAP = {
  request: (a) => {
    const body = `suppressed ${a}`;
    return `${Buffer.byteLength(body)}:${body},`;
  },
  complete: (buf) => (buf.charCodeAt(buf.length - 1) === 44 /* , */ ? buf : undefined),
  suppressed: (r) => r.startsWith("OK ", r.indexOf(":") + 1),
};
const POLICY = {
  request: (a) =>
    `request=smtpd_access_policy\nprotocol_state=RCPT\nsender=app@shop.example\nrecipient=${a}\n\n`,
  complete: (buf) => (buf.endsWith("\n\n") ? buf : undefined),
  suppressed: (r) => r.startsWith("action=REJECT"),
};

if (args[0] === "--serve") {
  await (args.includes("--floor") ? serveFloor() : serve(args[1]));
} else {
  const schema = `bench_lookup_${Date.now().toString(36)}`;
  process.stdout.write(`loading ${ROWS} suppressions into ${schema}... `);
  await load(schema);
  console.log("done");
  const [file, argv] = pinned(PIN_SERVER, process.execPath, [
    ...(CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", CPU_PROF] : []),
    ...NODE_FLAGS,
    "--import",
    "tsx",
    new URL(import.meta.url).pathname,
    "--serve",
    schema,
    ...(FLOOR ? ["--floor", "--floor-work", String(FLOOR_WORK)] : []),
    ...(TRACE ? ["--trace"] : []),
    ...(args.includes("--alloc-prof") ? ["--alloc-prof"] : []),
  ]);
  const child = NICE
    ? spawn("nice", ["-n", NICE, file, ...argv], { stdio: ["pipe", "pipe", "inherit"] })
    : spawn(file, argv, { stdio: ["pipe", "pipe", "inherit"] });
  // The child's stdout: JSON lines (its ports, then its reports when asked) to whoever waits for the next one;
  // anything else (--trace-gc of --node-flags) passed on.
  const waiting = [];
  createInterface({ input: child.stdout }).on("line", (l) => {
    if (l.startsWith("{") && waiting.length) waiting.shift()(JSON.parse(l));
    else console.log(`  [lookup] ${l}`);
  });
  const nextJson = () => new Promise((resolve) => waiting.push(resolve));
  const ports = await nextJson();
  if (TRACE) {
    mkdirSync(TRACE, { recursive: true });
    console.log(`lookup process pid ${ports.pid}; timelines into ${TRACE}`);
  }
  await new Promise((r) => setTimeout(r, 2000)); // settling (older sources: their index's first load)
  const bin = CLIENT === "c" ? cClient() : undefined;
  const ask = (what) => {
    if (what === "reset") return Promise.resolve(child.stdin.write("reset\n"));
    const next = nextJson();
    child.stdin.write("report\n");
    return next;
  };
  console.log(
    `${FLOOR ? `FLOOR (constant replies, no lookups${FLOOR_WORK ? `, ${FLOOR_WORK} µs of spinning each` : ""}): ` : ""}offered ${RATE}/s over ${CONNECTIONS} connections for ${DURATION} s after ${WARMUP} s of warm-up, 1% suppressed; ${bin ? "C client" : "Node client"}${PIN_SERVER || PIN_CLIENT ? `; pinned: lookup process on CPU ${PIN_SERVER || "any"}, client on CPU ${PIN_CLIENT || "any"}` : ""}${NICE ? `; lookup process at nice ${NICE}` : ""}${NODE_FLAGS.length ? `; lookup process flags ${NODE_FLAGS.join(" ")}` : ""}`,
  );
  for (const [name, port, framing] of [
    ["socketmap", ports.socketmap, SOCKETMAP],
    ["policy", ports.policy, POLICY],
  ]) {
    if (ONLY && ONLY !== name) continue;
    let r;
    let cpu;
    let split0 = userSystem(child.pid);
    let own;
    let server;
    if (bin) {
      // The warm-up is inside the client's run: the server's figures are taken from its end.
      const cpuAt = { t: 0 };
      const timer = setTimeout(
        () => {
          cpuAt.t = cpuSeconds(child.pid);
          split0 = userSystem(child.pid);
          void ask("reset");
        },
        (WARMUP + 0.02) * 1000,
      );
      r = await new Promise((resolve, reject) => {
        const argv = [port, name, RATE, DURATION, CONNECTIONS, ROWS, WARMUP].map(String);
        if (TRACE) argv.push(join(TRACE, `${FLOOR ? "floor" : "real"}-${name}-client.txt`));
        const c = spawn(...pinned(PIN_CLIENT, bin, argv), {
          stdio: ["ignore", "pipe", "inherit"],
        });
        let out = "";
        c.stdout.on("data", (d) => (out += d));
        c.on("exit", (code) =>
          code === 0 ? resolve(JSON.parse(out.trim())) : reject(new Error(`client ${code}`)),
        );
      });
      clearTimeout(timer);
      if (TRACE)
        child.stdin.write(`timeline ${join(TRACE, `${FLOOR ? "floor" : "real"}-${name}-server.txt`)}\n`);
      server = await ask("report");
      cpu = cpuSeconds(child.pid) - (cpuAt.t || cpuSeconds(child.pid));
      own = { user: r.clientUs * r.n, system: 0 };
    } else {
      if (WARMUP > 0) await run(port, framing, WARMUP);
      const cpu0 = cpuSeconds(child.pid);
      split0 = userSystem(child.pid);
      await ask("reset");
      const own0 = process.cpuUsage();
      r = await run(port, framing);
      server = await ask("report");
      cpu = cpuSeconds(child.pid) - cpu0;
      own = process.cpuUsage(own0);
    }
    const split1 = userSystem(child.pid);
    if (r.hist && args.includes("--histogram")) {
      const shown = r.hist
        .filter(([, n]) => n > 0)
        .map(([b, n]) => `${b < 0 ? "more" : `≤${b}`} ${n}`)
        .join(", ");
      console.log(`  ${name} latency histogram (ms: lookups): ${shown}`);
    }
    if (server.alloc) {
      const per = (b) => (b / r.n).toFixed(0);
      console.log(`  ${name}: ${per(server.alloc.total)} bytes allocated a lookup (sampled), by function:`);
      for (const [where, bytes] of server.alloc.top)
        if (bytes / r.n >= 8) console.log(`    ${per(bytes).padStart(6)} ${where}`);
    }
    console.log(
      `${name.padEnd(9)} ${r.n} lookups, ${r.rate.toFixed(0)}/s; latency p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms, max ${r.max.toFixed(1)} ms; ` +
        `${r.suppressed} suppressed (p50 ${r.hitP50.toFixed(3)} ms, p99 ${r.hitP99.toFixed(3)} ms); lookup process CPU ${((cpu / r.n) * 1e6).toFixed(1)} µs per lookup ` +
        `(user ${(((split1[0] - split0[0]) / r.n) * 1e6).toFixed(1)}, system ${(((split1[1] - split0[1]) / r.n) * 1e6).toFixed(1)}) ` +
        `(this client ${((own.user + own.system) / r.n).toFixed(1)} µs)` +
        (r.p999 !== undefined
          ? `; p90 ${r.p90.toFixed(3)}, p99.9 ${r.p999.toFixed(3)} ms, late ${r.late}, p99 from schedule ${r.schedP99.toFixed(3)} ms`
          : "") +
        `; server event loop delay p99 ${server.eld.p99} ms max ${server.eld.max} ms, collections ${server.gc.n} (longest ${server.gc.max} ms, ${server.gc.total} ms in all)`,
    );
  }
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  const { openDb } = await import("../src/store/db.ts");
  const { sql } = await import("kysely");
  const h = await openDb({ databaseUrl: DATABASE_URL });
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(h.db);
  await h.close();
}
