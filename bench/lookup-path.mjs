// The lookup servers' own JavaScript per request, without sockets or the machine's scheduling: the socketmap and
// policy servers (src/integrations/postfix) handed requests by a stand-in socket in this process, their replies
// taken by its write(), the suppression check a stub (not the HMAC and table: src/core's and the mirror's) and
// the lookups counted in a real Metrics registry. With --check real, the check is each build's own (its
// suppressionCheck over a SuppressionMirror of 10,000 suppressions, marked loaded and fresh, its address hasher and,
// where the build has one, its AddressDigest): what a lookup costs in the process but the sockets and the machine. Prints the CPU per request (process.cpuUsage, user + system:
// no I/O here) and the young-generation collections per 100,000 requests. With --base DIR, the same from another
// checkout's sources (e.g. a `git archive` of main with node_modules linked), alternated round by round with
// these, in one process: what a change of the servers' code saves, on a machine too busy for bench/lookup.mjs's
// latencies to say.
//
//   node --import tsx bench/lookup-path.mjs [--requests 200000] [--rounds 5] [--base DIR] [--check stub|real]
import { EventEmitter } from "node:events";
import net from "node:net";
import { syncBuiltinESMExports } from "node:module";
import { PerformanceObserver } from "node:perf_hooks";
import { resolve } from "node:path";

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const REQUESTS = Number(arg("requests", "200000"));
const ROUNDS = Number(arg("rounds", "5"));
const BASE = arg("base", undefined);
const CHECK = arg("check", "stub");

// net.createServer replaced before the servers are imported: each server's connection handler is kept, and
// handed stand-in sockets.
const handlers = [];
net.createServer = (onConnection) => {
  handlers.push(onConnection);
  const server = new EventEmitter();
  server.listen = (_port, _host, cb) => cb();
  server.address = () => ({ port: handlers.length });
  server.close = (cb) => cb?.();
  return server;
};
syncBuiltinESMExports();

/** A socket that takes writes and counts replies. */
class StandIn extends EventEmitter {
  destroyed = false;
  remoteAddress = "127.0.0.1";
  replies = 0;
  bytes = 0;
  setNoDelay() {}
  setEncoding() {
    this.strings = true;
  }
  write(s) {
    this.replies++;
    this.bytes += s.length;
    return true;
  }
  destroy() {
    this.destroyed = true;
  }
}

/** The build's own check over a mirror of 10,000 suppressions (s0@example.org...), as its lookup role makes it. */
async function realCheck(root) {
  const { existsSync } = await import("node:fs");
  const { suppressionCheck } = await import(`${root}/src/integrations/postfix/check.ts`);
  const { SuppressionMirror } = await import(`${root}/src/integrations/postfix/suppression-mirror.ts`);
  const { addressHasher } = await import(`${root}/src/core/address.ts`);
  const key = Buffer.alloc(32, 7);
  const hashAddress = addressHasher(key);
  const mirror = new SuppressionMirror(null, { logger: { warn() {}, info() {} } });
  // Loaded and fresh for ever (no database: the load and the polls are not this bench's).
  mirror.loaded = true;
  mirror.freshAt = Infinity;
  const since = Date.now();
  for (let i = 0; i < 10_000; i++)
    mirror.map.add("default", hashAddress(`s${i}@example.org`), {
      stream: "default",
      reason: "userunknown",
      class: "hard",
      since,
      until: Infinity,
    });
  const digestFile = `${root}/src/integrations/postfix/address-digest.ts`;
  const digest = existsSync(digestFile)
    ? new (await import(digestFile)).AddressDigest(key, false)
    : undefined;
  return suppressionCheck(mirror, false, hashAddress, digest);
}

async function servers(root, label) {
  const { startSocketmapServer } = await import(`${root}/src/integrations/postfix/socketmap.ts`);
  const { startPolicyServer } = await import(`${root}/src/integrations/postfix/policy.ts`);
  const { createMetrics } = await import(`${root}/src/metrics.ts`);
  const metrics = createMetrics({ processMetrics: false });
  // The counting as each build's lookup role does it (src/integrations/postfix/index.ts).
  let onLookup;
  if (metrics.countLookup) onLookup = metrics.countLookup;
  else {
    const children = { socketmap: new Map(), policy: new Map() };
    onLookup = (server, outcome) => {
      let c = children[server].get(outcome);
      if (!c) children[server].set(outcome, (c = metrics.lookups.labels({ server, outcome })));
      c.inc();
    };
  }
  const common = {
    check: CHECK === "real" ? await realCheck(root) : () => undefined,
    // No pause in force (as the lookup role's pauseCheck says of a tenant with none: `none`).
    paused: Object.assign(() => undefined, { none: () => true }),
    tenant: "default",
    defaultStream: "default",
    logger: { warn() {}, info() {} },
    onLookup,
  };
  const first = handlers.length;
  await startSocketmapServer(common, "127.0.0.1", 0);
  await startPolicyServer(
    { ...common, verpKeys: [], senderStreams: new Map(), defaultTenant: "default" },
    "127.0.0.1",
    0,
  );
  const [sm, po] = handlers.slice(first);
  return { label, sm, po, metrics };
}

// Requests as Postfix sends them: the socketmap's netstring as bytes, the policy's attribute lines (Postfix 3's
// set at RCPT, some 25 of them) as the text a utf8 socket hands over.
// With --check real, 1% for suppressed addresses, as bench/lookup.mjs asks.
const addresses = Array.from({ length: 4096 }, (_, i) =>
  i % 100 === 0 ? `s${i}@example.org` : `n${(i * 2654435761) >>> 0}x@example.org`,
);
const smRequests = addresses.map((a) => {
  const body = `suppressed ${a}`;
  return Buffer.from(`${Buffer.byteLength(body)}:${body},`);
});
const poRequests = addresses.map(
  (a) =>
    [
      "request=smtpd_access_policy",
      "protocol_state=RCPT",
      "protocol_name=ESMTP",
      "client_address=192.0.2.10",
      "client_name=mail.shop.example",
      "reverse_client_name=mail.shop.example",
      "helo_name=mail.shop.example",
      "sender=app@shop.example",
      `recipient=${a}`,
      "recipient_count=0",
      "queue_id=",
      "instance=123.456.7",
      "size=12345",
      "etrn_domain=",
      "stress=",
      "sasl_method=",
      "sasl_username=",
      "sasl_sender=",
      "ccert_subject=",
      "ccert_issuer=",
      "ccert_fingerprint=",
      "encryption_protocol=TLSv1.3",
      "encryption_cipher=TLS_AES_256_GCM_SHA384",
      "encryption_keysize=256",
      "policy_context=",
      "server_address=192.0.2.1",
      "server_port=25",
      "compatibility_level=3.6",
      "mail_version=3.7.11",
    ].join("\n") + "\n\n",
);

let minors = 0;
new PerformanceObserver((l) => {
  for (const e of l.getEntries()) if (e.detail?.kind === 1) minors++;
}).observe({ entryTypes: ["gc"] });

async function drive(handler, requests, n) {
  const s = new StandIn();
  handler(s);
  const m0 = minors;
  const c0 = process.cpuUsage();
  // The policy server of older builds set the socket's encoding (text chunks); newer ones read bytes.
  const chunks = s.strings
    ? requests.map(String)
    : requests.map((r) => (typeof r === "string" ? Buffer.from(r) : r));
  for (let i = 0; i < n; i++) s.emit("data", chunks[i & 4095]);
  const c = process.cpuUsage(c0);
  if (s.replies !== n) throw new Error(`${s.replies} replies to ${n} requests`);
  // The observer hears of the collections after the loop has yielded.
  await new Promise((r) => setTimeout(r, 20));
  return { us: (c.user + c.system) / n, minors: minors - m0 };
}

const builds = [await servers(resolve(new URL("..", import.meta.url).pathname), "this checkout")];
if (BASE) builds.push(await servers(resolve(BASE), `base (${BASE})`));
// Warm-up: each path compiled before it is measured.
for (const b of builds) {
  await drive(b.sm, smRequests, 50_000);
  await drive(b.po, poRequests, 50_000);
}
const results = new Map(builds.map((b) => [b.label, { sm: [], po: [], smGc: 0, poGc: 0 }]));
for (let r = 0; r < ROUNDS; r++)
  for (const b of r % 2 ? [...builds].reverse() : builds) {
    const x = results.get(b.label);
    const sm = await drive(b.sm, smRequests, REQUESTS);
    const po = await drive(b.po, poRequests, REQUESTS);
    x.sm.push(sm.us);
    x.po.push(po.us);
    x.smGc += sm.minors;
    x.poGc += po.minors;
  }
const fmt = (a) => {
  const s = [...a].sort((p, q) => p - q);
  return `median ${s[s.length >> 1].toFixed(2)} µs (${s[0].toFixed(2)}-${s[s.length - 1].toFixed(2)})`;
};
for (const [label, x] of results)
  console.log(
    `${label}: socketmap ${fmt(x.sm)}, ${((x.smGc / (REQUESTS * ROUNDS)) * 1e5).toFixed(1)} young collections per 100,000; ` +
      `policy (29 attributes) ${fmt(x.po)}, ${((x.poGc / (REQUESTS * ROUNDS)) * 1e5).toFixed(1)} per 100,000 ` +
      `(${REQUESTS} requests a round, ${ROUNDS} rounds)`,
  );
