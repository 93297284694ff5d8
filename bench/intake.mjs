// Intake benchmark: `rebound start --role intake` and `--role worker` as two processes on real PostgreSQL and
// Redis, fed 4 KB DSNs (signed VERP return paths) over loopback SMTP with PIPELINING.
//
//   (a) 20 connections, many mails each (a large sender's MTA)
//   (b) 200 connections, one mail each (the world's MTAs), reconnecting for every mail
//
// Prints: mails/s accepted durably (each one a committed row before its 250), p50/p99 transaction time
// (MAIL FROM to the 250 after DATA), p99 session time for (b) (connect to QUIT, which includes smtp-server's
// fixed 100 ms greeting delay), the worker's drain rate, and the RSS of both processes. Runs Postfix's
// smtp-source too when it is installed.
//
//   node --import tsx bench/intake.mjs [--phase a,b,smtp-source] [--mails 20000] [--mails-b 10000] [--no-worker]
//                                      [--dist] [--profile DIR] [--rate R] [--no-rollups]
//   --rate R: offer at most R mails/s (mail k is not sent before k/R s after the start), to see whether the
//   worker keeps up with that rate: the backlog (accepted, not yet processed) is sampled as the mails come.
//   --drain: accept the phases' mails with no worker, then start it: its drain rate alone, and its CPU and its
//   PostgreSQL backends' per mail (the figure to compare builds or --no-rollups by).
//   --no-rollups: the worker runs without rollup maintenance (bench/lib/no-rollups.mjs makes addToRollups do
//   nothing as the module loads), to measure what the rollups cost it: run with and without in turns.
//   env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), REDIS_URL (redis://127.0.0.1:6379)
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import pg from "pg";

const { encodeVerp } = await import("../src/core/verp.ts");
// The run's queues in Redis are dropped at its end (jobs left waiting by --no-worker, the queues' own keys).
const { dropQueueKeys } = await import("../test/helpers/redis.ts");

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const PHASES = arg("phase", "a,b,smtp-source").split(",");
const MAILS_A = Number(arg("mails", "20000"));
const MAILS_B = Number(arg("mails-b", "10000"));
const RATE = Number(arg("rate", "0"));
/**
 * --drain: the phases' mails are accepted with no worker running; then the worker starts and the time it takes to
 * process them all is its throughput alone (not sharing the cores with the intake and the client).
 */
const DRAIN = args.includes("--drain");
/** --no-worker: the intake alone (acceptance only; mails stay pending). */
const WITH_WORKER = !args.includes("--no-worker") && !DRAIN;
/** --dist: the roles run from the build (`npm run build` first), as in production; default: from the sources. */
const FROM_DIST = args.includes("--dist");
/** --no-rollups: the worker without rollup maintenance (a module hook of the bench's, not an option of Rebound). */
const NO_ROLLUPS = args.includes("--no-rollups");
/** --profile DIR: the roles write V8 CPU profiles there (node --cpu-prof) when they stop. */
const PROFILE_DIR = arg("profile", undefined);
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const DOMAIN = "bounces.bench.example";
const KEY = { id: "b1", secret: "bench-secret-0000000001" };
const root = fileURLToPath(new URL("..", import.meta.url));
const cli = fileURLToPath(new URL("../test/helpers/rebound-cli.ts", import.meta.url));
const schema = `bench_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;

// A 4 KB DSN: the Exim fixture, its text part padded to 4096 bytes in all.
const template = readFileSync(
  new URL("../test/fixtures/e2e/dsn-exim-user-unknown.eml", import.meta.url),
  "utf8",
).replace(/\r?\n/g, "\r\n");
function dsn(i) {
  const rcpt = `user${i}.${randomBytes(3).toString("hex")}@example.org`;
  const rp = encodeVerp({ recipient: rcpt, stream: "marketing", tenant: "acme" }, [KEY], DOMAIN);
  let text = template
    .replaceAll("{{RECIPIENT}}", rcpt)
    .replaceAll("{{RETURN_PATH}}", rp)
    .replaceAll("{{ID}}", `${i}x${randomBytes(4).toString("hex")}`);
  const pad = 4096 - Buffer.byteLength(text) - 2;
  if (pad > 0) {
    const filler = (
      "This line pads the report to four kilobytes, as real bounces are. ".repeat(2).slice(0, 70) + "\r\n"
    ).repeat(Math.ceil(pad / 72));
    text = text.replace(
      "This message was created automatically",
      filler.slice(0, pad) + "\r\nThis message was created automatically",
    );
  }
  return { rp, data: Buffer.from(text + (text.endsWith("\r\n") ? "" : "\r\n") + ".\r\n") };
}

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

function startRole(role, port) {
  const prof = PROFILE_DIR
    ? ["--cpu-prof", "--cpu-prof-dir", PROFILE_DIR, "--cpu-prof-name", `${role}.cpuprofile`]
    : [];
  const entry = FROM_DIST
    ? [fileURLToPath(new URL("../bin/rebound.js", import.meta.url))]
    : ["--import", "tsx", cli];
  const hook =
    NO_ROLLUPS && role === "worker"
      ? ["--import", fileURLToPath(new URL("./lib/no-rollups.mjs", import.meta.url))]
      : [];
  const child = spawn(
    process.execPath,
    [...prof, ...entry.slice(0, -1), ...hook, ...entry.slice(-1), "start", "--role", role],
    {
      cwd: root,
      stdio: ["ignore", "ignore", "pipe"],
      env: {
        ...process.env,
        // Our roles' connections carry the schema as their application name: their backends' CPU is ours.
        DATABASE_URL: `${DATABASE_URL}${DATABASE_URL.includes("?") ? "&" : "?"}application_name=${schema}`,
        REDIS_URL,
        REBOUND_DATABASE_SCHEMA: schema,
        REBOUND_QUEUE_PREFIX: `bench-${schema}`,
        REBOUND_DOMAINS: DOMAIN,
        REBOUND_SMTP_HOST: "127.0.0.1",
        REBOUND_SMTP_PORT: String(port),
        REBOUND_SMTP_RATE_LIMIT_PER_MINUTE: "0",
        // Every client here is 127.0.0.1, and phase (a) sends about a thousand mails per connection.
        REBOUND_SMTP_MAX_CONNECTIONS_PER_IP: "0",
        REBOUND_SMTP_MAX_TRANSACTIONS_PER_CONNECTION: "0",
        // smtp-source sends to x@ (a plain local part).
        REBOUND_SMTP_LOCAL_PARTS: "*",
        REBOUND_SMTP_MAX_CONNECTIONS: "2000",
        REBOUND_VERP_KEYS: `${KEY.id}:${KEY.secret}`,
        REBOUND_LOG_LEVEL: "warn",
      },
    },
  );
  return new Promise((resolve, reject) => {
    let err = "";
    child.stderr.on("data", (d) => {
      err += d.toString();
      if (err.includes("rebound: running")) resolve(child);
    });
    child.once("exit", (code) => reject(new Error(`${role} exited (${code}): ${err.slice(-2000)}`)));
  });
}

function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

/** A minimal pipelining SMTP client: replies are read in order. */
class Client {
  static open(port) {
    return new Promise((resolve, reject) => {
      const c = new Client(connect({ port, host: "127.0.0.1" }));
      c.socket.once("error", reject);
      c.read().then((g) => (g.code === 220 ? resolve(c) : reject(new Error(g.text))), reject);
    });
  }
  constructor(socket) {
    this.socket = socket;
    this.buf = "";
    this.waiting = [];
    this.ready = [];
    socket.setNoDelay(true);
    socket.setEncoding("latin1");
    socket.on("data", (d) => {
      this.buf += d;
      let i;
      while ((i = this.buf.indexOf("\r\n")) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        if (line[3] === "-") continue;
        const r = { code: Number(line.slice(0, 3)), text: line };
        const w = this.waiting.shift();
        if (w) w.resolve(r);
        else this.ready.push(r);
      }
    });
    socket.on("close", () => {
      for (const w of this.waiting.splice(0)) w.reject(new Error("connection closed"));
    });
  }
  read() {
    const r = this.ready.shift();
    if (r) return Promise.resolve(r);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }
  async cmd(line) {
    this.socket.write(line + "\r\n");
    return this.read();
  }
  async send(m) {
    this.socket.write(`MAIL FROM:<>\r\nRCPT TO:<${m.rp}>\r\nDATA\r\n`);
    const replies = [await this.read(), await this.read(), await this.read()];
    if (replies[2].code !== 354) throw new Error(replies.map((r) => r.text).join(" | "));
    this.socket.write(m.data);
    const r = await this.read();
    if (r.code !== 250) throw new Error(r.text);
    return r;
  }
  async quit() {
    this.socket.write("QUIT\r\n");
    await this.read().catch(() => undefined);
    this.socket.end();
  }
}

/** CPU seconds (user + system, or system alone) a process has used so far; 0 when it is gone. */
function cpuSecs(pid, only) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((only === "system" ? 0 : Number(f[11])) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}
/**
 * CPU seconds of the postmaster's children that have exited: a backend that closes during a phase (the pools
 * close idle connections after 10 s) takes its CPU out of the live backends' sum, into this one.
 */
function reapedPostgresSecs() {
  try {
    const postmaster = execFileSync("pgrep", ["-o", "-x", "postgres"], { encoding: "utf8" }).trim();
    const f = readFileSync(`/proc/${postmaster}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return 0;
  }
}
/** Pids of every process whose command name is `name` (postgres backends, redis-server). */
function pidsOf(name) {
  try {
    return execFileSync("pgrep", ["-x", name], { encoding: "utf8" }).split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
/** Pids of the PostgreSQL backends serving our roles (not other users of the server). */
async function backendPids(db) {
  const r = await db.query("select pid from pg_stat_activity where application_name = $1", [schema]);
  return r.rows.map((x) => x.pid);
}
/** CPU seconds used so far by our processes, our PostgreSQL backends and Redis. */
async function cpuSnapshot(pids, db) {
  return snapshotOf(pids, await backendPids(db));
}
function snapshotOf(pids, backends) {
  const sum = (ps) => ps.reduce((a, p) => a + cpuSecs(p), 0);
  return {
    intake: cpuSecs(pids.intake),
    intakeKernel: cpuSecs(pids.intake, "system"),
    worker: pids.worker ? cpuSecs(pids.worker) : 0,
    workerKernel: pids.worker ? cpuSecs(pids.worker, "system") : 0,
    client: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
    // Our live backends, and every backend that has exited (ours, and on a quiet machine only ours).
    postgres: sum(backends) + reapedPostgresSecs(),
    redis: sum(pidsOf("redis-server")),
  };
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/**
 * The mails not finished, by status: the backlog is the pending and processing ones. Counted through the index of
 * unfinished mails, so that sampling it every 0.5 s stays cheap however many mails the run has processed.
 */
async function unfinished(db) {
  const r = await db.query(
    `select status, count(*)::int n from "${schema}".inbound_mails
      where status in ('pending', 'processing', 'failed') group by status`,
  );
  const st = Object.fromEntries(r.rows.map((x) => [x.status, x.n]));
  return { backlog: (st.pending ?? 0) + (st.processing ?? 0), failed: st.failed ?? 0 };
}

async function phase(name, { port, db, pids, connections, total, reconnect }) {
  const mails = Array.from({ length: total }, (_, i) => dsn(`${name}${i}`));
  const tx = [];
  const sessions = [];
  let next = 0;
  let failed = 0;
  const rss = { intake: [], worker: [] };
  // The backlog: mails accepted and not processed yet, sampled with the RSS.
  const backlog = [];
  let accepting = true;
  let sampling = false;
  const sampler = setInterval(() => {
    rss.intake.push(rssMb(pids.intake));
    if (pids.worker) rss.worker.push(rssMb(pids.worker));
    if (WITH_WORKER && accepting && !sampling) {
      sampling = true;
      unfinished(db)
        .then(
          (u) => backlog.push(u.backlog),
          () => {},
        )
        .finally(() => (sampling = false));
    }
  }, 500);
  const t0 = performance.now();
  const phaseStart = new Date();
  const cpu0 = await cpuSnapshot(pids, db);
  await Promise.all(
    Array.from({ length: connections }, async () => {
      let c;
      while (next < total) {
        const k = next++;
        const m = mails[k];
        if (RATE > 0) {
          const wait = t0 + (k * 1000) / RATE - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        const s0 = performance.now();
        try {
          if (!c) {
            c = await Client.open(port);
            await c.cmd("EHLO bench.client");
          }
          const a = performance.now();
          await c.send(m);
          tx.push(performance.now() - a);
          if (reconnect) {
            await c.quit();
            c = undefined;
            sessions.push(performance.now() - s0);
          }
        } catch (e) {
          failed++;
          if (failed < 5) console.error(`  ${name}: ${e.message}`);
          c?.socket.destroy();
          c = undefined;
        }
      }
      if (c) await c.quit();
    }),
  );
  const acceptSecs = (performance.now() - t0) / 1000;
  accepting = false;
  const cpu1 = await cpuSnapshot(pids, db);
  const lastBacklog = WITH_WORKER ? await unfinished(db) : undefined;
  // Drain: until the worker has processed every mail of this phase.
  let status = { backlog: 0, failed: 0 };
  for (; WITH_WORKER;) {
    status = await unfinished(db);
    if (!status.backlog || status.failed) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const drainSecs = (performance.now() - t0) / 1000;
  const cpu2 = await cpuSnapshot(pids, db);
  clearInterval(sampler);
  tx.sort((x, y) => x - y);
  sessions.sort((x, y) => x - y);
  const range = (xs) =>
    `${Math.min(...xs.filter(Number.isFinite))}-${Math.max(...xs.filter(Number.isFinite))} MB`;
  console.log(
    `(${name}) ${connections} connections, ${reconnect ? "one mail per connection" : "many mails per connection"}:`,
  );
  console.log(
    `  accepted ${tx.length}/${total} (failed ${failed}) in ${acceptSecs.toFixed(1)} s: ${(tx.length / acceptSecs).toFixed(0)} mails/s durably`,
  );
  console.log(
    `  transaction (MAIL..250) p50 ${pct(tx, 50).toFixed(1)} ms, p99 ${pct(tx, 99).toFixed(1)} ms, max ${tx.at(-1)?.toFixed(1)} ms`,
  );
  if (sessions.length)
    console.log(
      `  session (connect..QUIT) p50 ${pct(sessions, 50).toFixed(1)} ms, p99 ${pct(sessions, 99).toFixed(1)} ms`,
    );
  if (WITH_WORKER) {
    console.log(
      `  worker: all processed ${drainSecs.toFixed(1)} s after the start: ${(tx.length / drainSecs).toFixed(0)} mails/s drained (failed: ${status.failed})`,
    );
    const left = lastBacklog.backlog;
    console.log(
      `  backlog (accepted, not processed): at most ${Math.max(0, ...backlog)} while accepting (sampled every 0.5 s), ${left} at the last 250, all processed ${(drainSecs - acceptSecs).toFixed(1)} s after it${RATE > 0 ? ` (offered ${RATE} mails/s)` : ""}`,
    );
  }
  // CPU per mail does not depend on what else the machine runs: it bounds the rate on idle cores. PostgreSQL
  // counts our roles' backends (not the WAL writer or checkpointer) and the backends that exited meanwhile;
  // Redis includes whatever else used it.
  const per = (a, b, k) => ((1000 * (b[k] - a[k])) / Math.max(1, tx.length)).toFixed(2);
  const accept = ["intake", "postgres", "redis", "client"]
    .map((k) => `${k} ${per(cpu0, cpu1, k)}`)
    .join(", ");
  console.log(
    `  CPU ms per mail while accepting: ${accept} (the intake's in the kernel: ${per(cpu0, cpu1, "intakeKernel")})`,
  );
  const serverAccept =
    ["intake", "postgres", "redis"].reduce((a, k) => a + (cpu1[k] - cpu0[k]), 0) / Math.max(1, tx.length);
  console.log(
    `  => the intake side (intake + postgres + redis) needs ${(1000 * serverAccept).toFixed(2)} CPU ms per mail: at most ${(2 / serverAccept).toFixed(0)} mails/s on 2 idle cores`,
  );
  if (WITH_WORKER) {
    // The worker's group commits: the mails one transaction processed share its clock reading (processed_at).
    // Larger batches, fewer statements per mail.
    const b = await workerBatches(db, phaseStart);
    console.log(`  worker transactions: ${b.n}, of ${b.mean} mails on average (p50 ${b.p50}, max ${b.max})`);
  }
  if (WITH_WORKER)
    console.log(
      `  CPU ms per mail, whole run: worker ${per(cpu0, cpu2, "worker")} (in the kernel: ${per(cpu0, cpu2, "workerKernel")}), postgres ${per(cpu0, cpu2, "postgres")}, redis ${per(cpu0, cpu2, "redis")}`,
    );
  // Flat memory: the peak of each quarter of the phase (0.5 s samples) should not climb.
  const quarters = (xs) => {
    const q = Math.max(1, Math.ceil(xs.length / 4));
    return Array.from({ length: 4 }, (_, i) =>
      Math.max(...xs.slice(i * q, (i + 1) * q).filter(Number.isFinite)),
    )
      .filter(Number.isFinite)
      .join("/");
  };
  console.log(
    `  RSS intake ${range(rss.intake)}` +
      (WITH_WORKER ? `, worker ${range(rss.worker)}` : "") +
      `; peak per quarter of the phase: intake ${quarters(rss.intake)}` +
      (WITH_WORKER ? `, worker ${quarters(rss.worker)} MB` : " MB"),
  );
}

/** The worker's transactions for the mails received since `since`, and their sizes. */
async function workerBatches(db, since) {
  const r = await db.query(
    `select count(*)::int n, round(avg(k), 1)::float mean,
            percentile_disc(0.5) within group (order by k) p50, max(k) max
     from (select count(*) k from "${schema}".inbound_mails
           where received_at >= $1 and processed_at is not null group by processed_at) b`,
    [since],
  );
  return r.rows[0];
}

function smtpSource(port) {
  try {
    execFileSync("which", ["smtp-source"], { stdio: "ignore" });
  } catch {
    console.log("smtp-source: not installed (Postfix's postfix package); skipped");
    return;
  }
  for (const [c, m] of [
    [20, 10_000],
    [200, 5_000],
  ]) {
    const t = performance.now();
    execFileSync(
      "smtp-source",
      [
        "-s",
        String(c),
        "-m",
        String(m),
        "-l",
        "4096",
        "-f",
        "bench@example.org",
        "-t",
        `x@${DOMAIN}`,
        `127.0.0.1:${port}`,
      ],
      { stdio: "inherit" },
    );
    const s = (performance.now() - t) / 1000;
    console.log(`smtp-source -s ${c} -m ${m} -l 4096: ${(m / s).toFixed(0)} mails/s`);
  }
}

/** CPU seconds of each of our PostgreSQL backends now. */
async function backendCpu(db) {
  return new Map((await backendPids(db)).map((pid) => [pid, cpuSecs(pid)]));
}

/** The worker started on a backlog: how long it takes to process it all, and what that costs per mail. */
async function drain(port, db) {
  const { backlog } = await unfinished(db);
  const w = await startRole("worker", port);
  const t0 = performance.now();
  const since = new Date();
  const cpu0 = cpuSecs(w.pid);
  const pg0 = await backendCpu(db);
  let status;
  for (;;) {
    status = await unfinished(db);
    if (!status.backlog || status.failed) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const secs = (performance.now() - t0) / 1000;
  const worker = cpuSecs(w.pid) - cpu0;
  const pg1 = await backendCpu(db);
  let postgres = 0;
  for (const [pid, c] of pg1) postgres += c - (pg0.get(pid) ?? 0);
  const span = (
    await db.query(
      `select count(*)::int n, extract(epoch from max(processed_at) - min(processed_at))::float secs
         from "${schema}".inbound_mails where processed_at >= $1`,
      [since],
    )
  ).rows[0];
  const b = await workerBatches(db, new Date(0));
  const per = (x) => ((1000 * x) / Math.max(1, backlog)).toFixed(3);
  console.log(
    `(drain) the worker started on ${backlog} accepted mails${NO_ROLLUPS ? ", WITHOUT rollups" : ""}:`,
  );
  console.log(
    `  all processed ${secs.toFixed(1)} s after it was running: ${(backlog / secs).toFixed(0)} mails/s ` +
      `(${(span.n / span.secs).toFixed(0)} mails/s from its first transaction to its last; failed: ${status.failed})`,
  );
  console.log(
    `  CPU ms per mail: worker ${per(worker)}, its PostgreSQL backends ${per(postgres)}, both ${per(worker + postgres)}`,
  );
  console.log(`  worker transactions: ${b.n}, of ${b.mean} mails on average (p50 ${b.p50}, max ${b.max})`);
  console.log(`  load average ${loadavg()[0].toFixed(1)}`);
  return w;
}

const port = await freePort();
console.log(
  `rebound intake bench: ${cpus().length} cores, node ${process.version}, schema ${schema}, load average ` +
    `${loadavg()[0].toFixed(1)}${NO_ROLLUPS ? ", the worker WITHOUT rollups" : ""}`,
);
const intake = await startRole("intake", port);
let worker = WITH_WORKER ? await startRole("worker", port) : undefined;
const db = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
try {
  const ctx = { port, db, pids: { intake: intake.pid, worker: worker?.pid } };
  // Warm-up (JIT, pools, BullMQ scripts).
  await phase("warmup", { ...ctx, connections: 10, total: 500, reconnect: false });
  if (PHASES.includes("a")) await phase("a", { ...ctx, connections: 20, total: MAILS_A, reconnect: false });
  if (PHASES.includes("b")) await phase("b", { ...ctx, connections: 200, total: MAILS_B, reconnect: true });
  if (PHASES.includes("smtp-source")) smtpSource(port);
  if (DRAIN) worker = await drain(port, db);
} finally {
  const children = [intake, worker].filter(Boolean);
  for (const c of children) c.kill("SIGTERM");
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once("exit", r)))));
  await db.query(`drop schema if exists "${schema}" cascade`);
  await db.end();
  await dropQueueKeys(`bench-${schema}`, REDIS_URL);
}
