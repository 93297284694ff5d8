// Prometheus metrics: one Registry per process, made by createMetrics() (nothing registered at import time).
// The roles take it through their deps (optional) and count at their edges; the backlog gauges (mails not yet
// processed, webhook deliveries not yet delivered) are read from the database on each scrape.
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { isProvider } from "./core/provider.js";
import { COUNTERS, type Counter as RollupCounter, type RollupIncrement } from "./core/rollup.js";
import { deliveryBacklog, mailBacklog } from "./store/backlog.js";
import type { Db } from "./store/db.js";

/** How an SMTP transaction (or a connection refused before one) ended. */
export const SMTP_OUTCOMES = [
  "accepted",
  "rejected_relay",
  "rejected_recipient",
  "rejected_unknown_user",
  "too_many_recipients",
  "too_many_refused",
  "too_many_transactions",
  "too_large",
  "over_budget",
  "tempfail_store",
  "tempfail_timeout",
  "tempfail_busy",
  "rate_limited",
  "too_many_connections",
  "too_many_connections_ip",
  "abandoned",
] as const;
export type SmtpOutcome = (typeof SMTP_OUTCOMES)[number];

/**
 * How a request to an ESP webhook (POST /v1/ingest/<provider>) ended: accepted (verified and answered 200), or
 * refused, by why. The refusals of a failed verification (unsigned, bad_signature, unknown_endpoint, stale) count
 * against the client IP; past REBOUND_ESP_FAILURES_PER_MINUTE they are answered 429 (rate_limited).
 */
export const ESP_REQUEST_OUTCOMES = [
  "accepted",
  "unsigned",
  "bad_signature",
  "unknown_endpoint",
  "stale",
  "rate_limited",
  "malformed",
  "too_large",
  "not_configured",
] as const;
export type EspRequestOutcome = (typeof ESP_REQUEST_OUTCOMES)[number];

/** What became of the items of an accepted ESP webhook request (EspOutcome's counts). */
export const ESP_EVENT_RESULTS = ["recorded", "duplicate", "ignored", "invalid"] as const;
export type EspEventResult = (typeof ESP_EVENT_RESULTS)[number];

/** The send-time lookup servers (the lookup role) and what a lookup came to. */
export const LOOKUP_SERVERS = ["socketmap", "policy"] as const;
export type LookupServer = (typeof LOOKUP_SERVERS)[number];
export const LOOKUP_OUTCOMES = ["suppressed", "not_suppressed", "paused", "error"] as const;
export type LookupOutcome = (typeof LOOKUP_OUTCOMES)[number];

export interface Metrics {
  registry: Registry;
  smtpTransactions: Counter<"outcome">;
  /** Mails through processMail, by outcome status and (for processed mails) kind. */
  mailsProcessed: Counter<"status" | "kind">;
  events: Counter<"class" | "reason">;
  blocks: Counter<"tenant" | "stream" | "provider" | "reason">;
  /** Messages counted as sent (POST /v1/sends, `rebound sends import`), by tenant, stream and provider. */
  sends: Counter<"tenant" | "stream" | "provider">;
  /** What came back, as the rollups count it (OUTCOME_CLASSES), by tenant, stream, provider and class. */
  outcomes: Counter<"tenant" | "stream" | "provider" | "class">;
  /** Tries of process-mail that threw; `final` is "true" on the last try (the mail is then `failed`). */
  processingFailures: Counter<"final">;
  processingSeconds: Histogram;
  /** Mails whose classification passed its deadline (kept as failed with reason classify_timeout). */
  classifyTimeouts: Counter;
  /** Mails handed to the classifier threads and not answered yet (running or waiting for a thread). */
  classifyInFlight: Gauge;
  webhookDeliveries: Counter<"result">;
  /** Send-time lookups by Postfix or Exim (the lookup role), by server and outcome: counted by countLookup. */
  lookups: Counter<"server" | "outcome">;
  /**
   * Counts one lookup in rebound_lookups_total: a plain number added to, put into the counter when it is read
   * (prom-client hashes a child's labels on every inc(), per lookup CPU and garbage at 10,000 lookups/s).
   */
  countLookup(server: LookupServer, outcome: LookupOutcome): void;
  /** When the lookup role's in-memory suppressions were last brought up to date (unix seconds). */
  lookupMirrorFresh: Gauge;
  apiRequests: Counter<"method" | "route" | "status">;
  /** ESP webhook requests by provider and outcome (ESP_REQUEST_OUTCOMES). */
  espRequests: Counter<"provider" | "outcome">;
  /** The items of accepted ESP webhook requests by provider and result (ESP_EVENT_RESULTS). */
  espEvents: Counter<"provider" | "result">;
  apiSeconds: Histogram<"method" | "route">;
  /** Read the backlog gauges from this database on each scrape (the first call wins). */
  watchDb(db: Db): void;
  /** The Prometheus text exposition. */
  render(): Promise<string>;
  contentType: string;
}

export interface MetricsOptions {
  /** Also collect Node's process metrics (CPU, memory, event loop); default true. */
  processMetrics?: boolean;
  /** Labels put on every series (e.g. `{ instance_role: "worker" }`). */
  defaultLabels?: Record<string, string>;
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultLabels) registry.setDefaultLabels(opts.defaultLabels);
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: "rebound_" });
  const registers = [registry];
  let db: Db | undefined;

  // Registered with the registry; read on scrape.
  new Gauge({
    name: "rebound_mails_backlog",
    help: "Inbound mails not processed yet, by status (pending, processing, failed), read from the database",
    labelNames: ["status"] as const,
    registers,
    async collect() {
      if (!db) return;
      const counts = await mailBacklog(db);
      this.reset();
      for (const [status, n] of counts) this.set({ status }, n);
    },
  });
  new Gauge({
    name: "rebound_webhook_deliveries_backlog",
    help: "Webhook deliveries not delivered yet, by status (pending, failed), read from the database",
    labelNames: ["status"] as const,
    registers,
    async collect() {
      if (!db) return;
      const counts = await deliveryBacklog(db);
      this.reset();
      for (const [status, n] of counts) this.set({ status }, n);
    },
  });
  const lookupCounts = new LookupCounts();

  return {
    registry,
    smtpTransactions: new Counter({
      name: "rebound_smtp_transactions_total",
      help: "SMTP transactions (and connections refused before one) by outcome",
      labelNames: ["outcome"] as const,
      registers,
    }),
    mailsProcessed: new Counter({
      name: "rebound_mails_processed_total",
      help: "Inbound mails handled by the worker, by outcome status and kind (bounce, complaint, ...)",
      labelNames: ["status", "kind"] as const,
      registers,
    }),
    events: new Counter({
      name: "rebound_events_total",
      help: "Events recorded from processed mail, by class and reason",
      labelNames: ["class", "reason"] as const,
      registers,
    }),
    blocks: new Counter({
      name: "rebound_blocks_total",
      help: "Blocks counted by the policy (sender-side refusals), by tenant, stream, receiving provider and reason",
      labelNames: ["tenant", "stream", "provider", "reason"] as const,
      registers,
    }),
    sends: new Counter({
      name: "rebound_sends_total",
      help: "Messages counted as sent (POST /v1/sends, sends import), by tenant, stream and receiving provider",
      labelNames: ["tenant", "stream", "provider"] as const,
      registers,
    }),
    outcomes: new Counter({
      name: "rebound_outcomes_total",
      help: "What came back as the rollups count it (delivered, hard, soft, block, complaint, auto_reply, unverified), by tenant, stream, receiving provider and class",
      labelNames: ["tenant", "stream", "provider", "class"] as const,
      registers,
    }),
    processingFailures: new Counter({
      name: "rebound_processing_failures_total",
      help: "Tries of processing a mail that failed (final: the last try; the mail is kept as failed)",
      labelNames: ["final"] as const,
      registers,
    }),
    processingSeconds: new Histogram({
      name: "rebound_processing_duration_seconds",
      help: "Time to process one inbound mail (one transaction)",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    classifyTimeouts: new Counter({
      name: "rebound_classify_timeouts_total",
      help: "Mails whose classification passed REBOUND_CLASSIFY_TIMEOUT_MS (kept as failed, reason classify_timeout; not retried)",
      registers,
    }),
    classifyInFlight: new Gauge({
      name: "rebound_classify_in_flight",
      help: "Mails handed to the classifier threads and not answered yet (running or waiting for a thread)",
      registers,
    }),
    webhookDeliveries: new Counter({
      name: "rebound_webhook_deliveries_total",
      help: "Webhook delivery tries by result (delivered, failed, dead)",
      labelNames: ["result"] as const,
      registers,
    }),
    lookups: new Counter({
      name: "rebound_lookups_total",
      help: "Send-time lookups (socketmap, policy) by outcome (suppressed, not_suppressed, paused, error)",
      labelNames: ["server", "outcome"] as const,
      registers,
      collect() {
        lookupCounts.drain((server, outcome, n) => this.inc({ server, outcome }, n));
      },
    }),
    lookupMirrorFresh: new Gauge({
      name: "rebound_lookup_mirror_fresh_timestamp_seconds",
      help: "Start of the lookup role's last completed read of the suppression log (its answers are as of then)",
      registers,
    }),
    apiRequests: new Counter({
      name: "rebound_api_requests_total",
      help: "HTTP API requests by method, route pattern and status code",
      labelNames: ["method", "route", "status"] as const,
      registers,
    }),
    espRequests: new Counter({
      name: "rebound_esp_requests_total",
      help: "ESP webhook requests (POST /v1/ingest/<provider>) by provider and outcome (accepted, or why refused)",
      labelNames: ["provider", "outcome"] as const,
      registers,
    }),
    espEvents: new Counter({
      name: "rebound_esp_events_total",
      help: "Items of accepted ESP webhook requests by provider and result (recorded, duplicate, ignored, invalid)",
      labelNames: ["provider", "result"] as const,
      registers,
    }),
    apiSeconds: new Histogram({
      name: "rebound_api_request_duration_seconds",
      help: "HTTP API request latency by method and route pattern",
      labelNames: ["method", "route"] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    }),
    countLookup: (server, outcome) => lookupCounts.add(server, outcome),
    watchDb(d) {
      db ??= d;
    },
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}

/** Lookups counted since the counter was last read, by server and outcome: plain numbers, no label objects. */
class LookupCounts {
  private readonly n = new Float64Array(LOOKUP_SERVERS.length * LOOKUP_OUTCOMES.length);

  add(server: LookupServer, outcome: LookupOutcome): void {
    // indexOf over two and four interned strings: a few nanoseconds, no second copy of the vocabularies.
    this.n[LOOKUP_SERVERS.indexOf(server) * LOOKUP_OUTCOMES.length + LOOKUP_OUTCOMES.indexOf(outcome)]!++;
  }

  /** Hands over each non-zero count and sets it back to zero. */
  drain(to: (server: LookupServer, outcome: LookupOutcome, n: number) => void): void {
    for (let s = 0; s < LOOKUP_SERVERS.length; s++)
      for (let o = 0; o < LOOKUP_OUTCOMES.length; o++) {
        const i = s * LOOKUP_OUTCOMES.length + o;
        const n = this.n[i]!;
        if (n === 0) continue;
        this.n[i] = 0;
        to(LOOKUP_SERVERS[s]!, LOOKUP_OUTCOMES[o]!, n);
      }
  }
}

/** The `class` label of rebound_outcomes_total: the rollup counters but `sent` (rebound_sends_total). */
export const OUTCOME_CLASSES = {
  delivered: "delivered",
  hard: "hard",
  soft: "soft",
  block: "block",
  complaint: "complaint",
  autoReply: "auto_reply",
  unverified: "unverified",
} as const satisfies Record<Exclude<RollupCounter, "sent">, string>;

/**
 * Counts what was added to the rollups into rebound_sends_total and rebound_outcomes_total. Only what was added:
 * a re-processed mail's retraction (a negative increment) leaves the counters as they are.
 */
export function countRollups(m: Metrics, increments: readonly RollupIncrement[]): void {
  for (const i of increments) {
    const labels = { tenant: i.tenant, stream: i.stream, provider: providerLabel(i.provider) };
    for (const c of COUNTERS) {
      const n = i.counts[c];
      if (!n || n < 0) continue;
      if (c === "sent") m.sends.inc(labels, n);
      else m.outcomes.inc({ ...labels, class: OUTCOME_CLASSES[c] }, n);
    }
  }
}

/**
 * The provider label of a block: a known provider's name (google, microsoft, ...), or `other` for a domain no
 * provider claims (one series per recipient domain would be unbounded; the alerts API has the domains).
 */
export function providerLabel(provider: string): string {
  return isProvider(provider) ? provider : "other";
}

/**
 * A bare HTTP listener serving `GET /metrics` (for processes that run no API role). With a token, the request
 * must send `Authorization: Bearer TOKEN`.
 */
export async function startMetricsServer(
  metrics: Metrics,
  opts: { host: string; port: number; token?: string },
): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" || path !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    if (opts.token && !bearerMatches(req.headers.authorization, opts.token)) {
      res.writeHead(401, { "content-type": "text/plain", "www-authenticate": 'Bearer realm="rebound"' });
      res.end("unauthorized\n");
      return;
    }
    metrics.render().then(
      (text) => res.writeHead(200, { "content-type": metrics.contentType }).end(text),
      (err: unknown) => {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(`metrics unavailable: ${err instanceof Error ? err.message : String(err)}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  return {
    port: addr.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Whether an Authorization header carries `Bearer token` (compared in constant time). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!m) return false;
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(m[1]!), digest(token));
}
