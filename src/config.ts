// Configuration: one schema, read once. The only module that reads process.env.
import { domainToASCII } from "node:url";
import { z } from "zod";
import { parseCidr } from "./webhooks/egress.js";
import { REPORT_PERIODS } from "./core/deliverability-report.js";

const csv = z.string().transform((s) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean),
);

/** Comma-separated networks (`10.0.0.0/8`, `fd00::/8`, a bare address); a list when given as an override. */
const cidrs = z.union([z.string(), z.array(z.string())]).transform((v, ctx) => {
  const list = (typeof v === "string" ? v.split(",") : v).map((x) => x.trim()).filter(Boolean);
  for (const c of list)
    if (!parseCidr(c)) ctx.addIssue({ code: "custom", message: `"${c}" is not a network (address/prefix)` });
  return list;
});

/** Domains, each stored in its ASCII form (an IDN's A-label, `xn--...`): either spelling may be configured. */
const domainList = z.union([z.string(), z.array(z.string())]).transform((v, ctx) => {
  const list = (typeof v === "string" ? v.split(",") : v).map((x) => x.trim()).filter(Boolean);
  const out: string[] = [];
  for (const d of list) {
    const ascii = asciiDomain(d);
    if (!ascii) ctx.addIssue({ code: "custom", message: `"${d}" is not a domain name` });
    else if (!out.includes(ascii)) out.push(ascii);
  }
  return out;
});

/** A domain in its lower-case ASCII form (IDNs as A-labels), without a trailing dot; "" when it is not one. */
export function asciiDomain(d: string): string {
  const s = d.trim().replace(/\.$/, "");
  if (!s || s.includes("@")) return "";
  return domainToASCII(s.toLowerCase());
}

/** The local parts the MX takes besides signed return paths: `*` for every one. */
export const DEFAULT_SMTP_LOCAL_PARTS = [
  "postmaster",
  "abuse",
  "fbl",
  "feedback",
  "complaints",
  "arf",
  "bounce",
  "bounces",
  // DMARC aggregate (rua=mailto:dmarc@...) and SMTP TLS reports (rua=mailto:tlsrpt@...): docs/integrations.md.
  "dmarc",
  "dmarc-reports",
  "tlsrpt",
] as const;
const localParts = z.union([z.string(), z.array(z.string())]).transform((v, ctx) => {
  const list = (typeof v === "string" ? v.split(",") : v).map((x) => x.trim().toLowerCase()).filter(Boolean);
  for (const l of list)
    if (l !== "*" && !/^[^\s@<>(),;:"\\[\]]{1,64}$/.test(l))
      ctx.addIssue({ code: "custom", message: `"${l}" is not a local part (or \`*\` for every one)` });
  return list;
});

/** `key=value` pairs, comma-separated, keys lower-cased then mapped by `key` ("": not one; `shape` names the
 * form in errors). */
const pairs = (shape: string, key: (k: string) => string = (k) => k) =>
  z.string().transform((s, ctx) => {
    const map = new Map<string, string>();
    for (const part of s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean)) {
      const i = part.lastIndexOf("=");
      const k = i > 0 ? key(part.slice(0, i).trim().toLowerCase()) : "";
      const value = i > 0 ? part.slice(i + 1).trim() : "";
      if (!k || !value) {
        ctx.addIssue({ code: "custom", message: `"${part}" is not \`${shape}\`` });
        return z.NEVER;
      }
      map.set(k, value);
    }
    return map;
  });
/** `sender-or-domain=stream` pairs: which stream a sender's mail belongs to. */
const senderStreams = pairs("sender-or-domain=stream");
/** `domain=tenant` pairs: whose reports about a domain are (the domain in its ASCII form). */
const domainTenants = pairs("domain=tenant", asciiDomain);

const int = (dflt: number) => z.coerce.number().int().nonnegative().default(dflt);

/** `kid:secret` pairs, comma-separated; the first signs, all verify (rotation). */
const verpKeys = z.string().transform((s, ctx) => {
  const keys: { id: string; secret: string }[] = [];
  for (const part of s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean)) {
    const i = part.indexOf(":");
    const id = i > 0 ? part.slice(0, i) : "";
    const secret = i > 0 ? part.slice(i + 1) : "";
    if (!/^[a-z0-9]{1,8}$/i.test(id) || secret.length < 16) {
      ctx.addIssue({
        code: "custom",
        message:
          "REBOUND_VERP_KEYS must be `id:secret` pairs: id 1-8 letters or digits, secret at least 16 characters",
      });
      return z.NEVER;
    }
    keys.push({ id: id.toLowerCase(), secret });
  }
  return keys;
});

/** Parse `id:secret,...` (a keys file's content); ConfigError naming `where` when malformed. */
export function parseVerpKeys(text: string, where: string): { id: string; secret: string }[] {
  const parsed = verpKeys.safeParse(text.trim());
  if (!parsed.success)
    throw new ConfigError(`${where}: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  return parsed.data;
}

export class ConfigError extends Error {}

export const LOG_FORMATS = ["auto", "pretty", "json"] as const;

export const configSchema = z.object({
  /** PostgreSQL; unset: embedded PGlite in `${dataDir}/pglite`. */
  databaseUrl: z.string().url().optional(),
  /** PostgreSQL schema to use (default `public`). */
  databaseSchema: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default("public"),
  /**
   * Whether the statements every mail goes through are named prepared statements (parsed once per connection).
   * Off behind a pooler that does not keep them across transactions (PgBouncer before 1.21 in transaction mode).
   */
  databasePreparedStatements: z.stringbool().default(true),
  /** PostgreSQL's statement_timeout on every connection (COPY streams and migrations run without it; 0: none). */
  databaseStatementTimeoutMs: int(60_000),
  /** Redis for BullMQ; unset: an in-process queue. */
  redisUrl: z.string().optional(),
  dataDir: z.string().default("./data"),
  /** The domains this MX receives for (VERP bounce domains and feedback-loop domains). */
  domains: domainList.default(["localhost"]),
  /** Address the SMTP server binds: loopback unless told otherwise (`0.0.0.0`: every interface). */
  smtpHost: z.string().default("127.0.0.1"),
  smtpPort: int(2525),
  smtpHostname: z.string().optional(),
  smtpMaxMessageBytes: int(10 * 1024 * 1024),
  smtpMaxRecipients: int(100),
  smtpMaxConnections: int(1000),
  /** Connections at once from one client (an IPv4 address, an IPv6 /64) before `421 4.7.0` (0: unlimited). */
  smtpMaxConnectionsPerIp: int(50),
  /** Mail transactions (MAIL FROM commands) on one connection before `421 4.7.0` and a close (0: unlimited). */
  smtpMaxTransactionsPerConnection: int(1000),
  /** Bytes of mail being received and not yet stored, over all sessions, before `452 4.3.1` (0: unlimited). */
  smtpMaxReceivingBytes: int(256 * 1024 * 1024),
  /** How long a session waits for its mail to be committed before `451 4.3.0` (0: no limit). */
  smtpSpoolTimeoutMs: int(20_000),
  /** Mails waiting for the next group commit before `451 4.3.2` at once (0: unlimited). */
  smtpMaxQueuedMails: int(2000),
  /** Plain local parts taken besides signed return paths (`*`: every one). */
  smtpLocalParts: localParts.default([...DEFAULT_SMTP_LOCAL_PARTS]),
  /** Connections per IP per minute before `421 4.7.0` (0: unlimited). */
  smtpRateLimitPerMinute: int(600),
  smtpSocketTimeoutMs: int(60_000),
  /** Wait before the 220 greeting; a client that talks before it gets `421 You talk too soon` (0: greet at once). */
  smtpGreetingDelayMs: int(0),
  smtpProxyProtocol: z.stringbool().default(false),
  /** The networks of the proxies whose connections start with a PROXY protocol header (turns it on). */
  smtpProxyFrom: cidrs.default([]),
  tlsCertPath: z.string().optional(),
  tlsKeyPath: z.string().optional(),
  /** Address the HTTP API binds: loopback unless told otherwise (`0.0.0.0`: every interface). */
  httpHost: z.string().default("127.0.0.1"),
  httpPort: int(8025),
  /** Requests per minute per API key, unless the key has its own limit (0: unlimited). */
  apiRateLimitPerMinute: int(3_000_000),
  /** Largest JSON body the API accepts (streamed CSV/NDJSON bodies: apiBulkMaxBytes). */
  apiBodyLimitBytes: int(1024 * 1024),
  /** Largest CSV or NDJSON body (list cleaning, imports), streamed: beyond, 413. */
  apiBulkMaxBytes: int(1024 * 1024 * 1024),
  /** Longest record (CSV record or NDJSON line) of such a body, in characters: beyond, 413 naming its line. */
  apiBulkMaxRecordChars: z.coerce.number().int().min(256).default(65_536),
  /** List cleanings and imports at once per API process; beyond, 429 with Retry-After (0: no limit). */
  apiMaxBulkRequests: int(4),
  /** Failed authentications per client IP and minute before 429 `rate_limited` (0: no limit). */
  apiAuthFailuresPerMinute: int(60),
  /** Exports streamed at once by one API process (each holds a database connection); beyond: 429 (0: no limit). */
  apiMaxExports: int(4),
  /** A process serving the API alone (`--role api`) lets its old generation grow to this much above its live
   * size between full collections (0: V8's own heuristic, which allows up to 300%); see src/util/heap.ts. */
  apiHeapGrowthPercent: int(25),
  verpKeys: verpKeys.default([]),
  /** Signed return paths older than this many days are refused (0: never; their week of issue is signed in). */
  verpMaxAgeDays: z.coerce.number().int().min(0).max(3650).default(0),
  /** A file holding the VERP keys (`id:secret,...`), read when REBOUND_VERP_KEYS is unset; embedded default:
   * `${dataDir}/verp-keys`, made with a development key on the first start (src/verp-keys.ts). */
  verpKeysFile: z.string().optional(),
  /** A file holding the key of the address hashes (HMAC-SHA256; base64url or hex, >= 32 bytes): kept apart
   * from the data. Unset: the first process makes one and keeps it in the database (src/address-key.ts). */
  addressKeyFile: z.string().optional(),
  /** Path of the policy file (JSON); unset: the documented defaults. */
  policyPath: z.string().optional(),
  /** Path of the alerts file (JSON: rules, routes; docs/monitoring.md); unset: the shipped rules, no routes. */
  alertsPath: z.string().optional(),
  /** The tenant of mail that carries no signed VERP. */
  defaultTenant: z.string().default("default"),
  defaultStream: z.string().default("default"),
  /** How long raw mail is kept; after that only metadata stays. */
  rawRetentionDays: int(30),
  /** How long events are kept (0: forever). */
  eventRetentionDays: int(0),
  /** How long the metadata of processed mails is kept, envelope included (0: forever). */
  mailRetentionDays: int(0),
  /** How long the suppression log is kept (0: forever; webhook history has its own ages, docs/webhooks.md). */
  logRetentionDays: int(0),
  /** How long the hourly rollups are kept (0: forever); the daily ones answer for older days. */
  rollupHourlyRetentionDays: int(100),
  /** How long the daily rollups are kept (0: forever). */
  rollupDailyRetentionDays: int(800),
  /** How long a resolved incident is kept after it resolved, with its history and notifications (0: forever;
   * incidents in force are never deleted). */
  incidentRetentionDays: int(400),
  /** Local parts are compared case-insensitively unless this is set. */
  caseSensitiveLocalPart: z.stringbool().default(false),
  /** Tries of a webhook delivery before it is `dead`. */
  webhookMaxAttempts: z.coerce.number().int().min(1).default(10),
  /** Time an endpoint has to answer a webhook POST. */
  webhookTimeoutMs: z.coerce.number().int().min(100).default(10_000),
  /** First wait after a failed webhook try; doubles on each further one (at most 6 hours). */
  webhookBackoffMs: int(30_000),
  /** Networks webhooks may go to although not public (loopback, private, link-local... are refused otherwise). */
  webhookAllowedNetworks: cidrs.default([]),
  /** Grace given to SMTP sessions in flight on shutdown before they are closed with 421. */
  smtpShutdownTimeoutMs: int(30_000),
  /** Grace given to HTTP requests in flight on shutdown (an export to a reader that stopped reading would
   * otherwise hold it forever); then their connections are closed. */
  apiShutdownGraceMs: int(10_000),
  /** Key prefix of the BullMQ queues in Redis (several deployments can share one Redis). */
  queuePrefix: z
    .string()
    .regex(/^[A-Za-z0-9_:.-]+$/)
    .default("rebound"),
  /** Tries of a job before it is given up (the mail is then marked `failed`, kept, re-processable). */
  jobAttempts: int(8),
  /** First retry delay of a failed job; doubles on each try. */
  jobBackoffMs: int(2_000),
  /** One-mail jobs run at once by one worker process (the intake's batch jobs: a quarter as many). */
  workerConcurrency: int(64),
  /** Most mails processed in one transaction (jobs running at once are grouped; 1: a transaction per mail). */
  workerBatchSize: z.coerce.number().int().min(1).default(32),
  /** The deadline of one mail's classification (in a classifier thread): past it the mail is kept as `failed`
   * (classify_timeout), not retried; `rebound reprocess` after a fix (0: no deadline). */
  classifyTimeoutMs: int(2000),
  /** Classifier threads of a worker process (0: one per core). */
  classifyThreads: int(0),
  /** A job whose worker died is retried after this long (BullMQ lock duration / stalled check). */
  queueStalledMs: int(30_000),
  /** How often the sweeper looks for mails accepted but never enqueued (Redis was down, a crash). */
  sweepIntervalMs: int(15_000),
  /** A pending mail enqueued longer ago than this is enqueued again (jobs dedupe on the mail id). */
  sweepStaleMs: int(300_000),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** `pretty` (human lines), `json` (one JSON object a line), or `auto`: pretty when the log goes to a terminal. */
  logFormat: z.enum(LOG_FORMATS).default("auto"),
  /** When set, `GET /metrics` needs `Authorization: Bearer <token>`; unset: unauthenticated. */
  metricsToken: z.string().min(1).optional(),
  /** A bare `/metrics` listener on this port (for processes without the api role); unset: none. */
  metricsPort: z.coerce.number().int().nonnegative().optional(),
  /** Blocks per tenant, stream, provider and reason within the window that raise a block alert. */
  blockAlertThreshold: z.coerce.number().int().min(1).default(10),
  /** The default window of `GET /v1/alerts/blocks` (when no `since` is given). */
  blockAlertWindowMinutes: z.coerce.number().int().min(1).default(60),
  /** Where the worker looks up the MX hosts of recipient domains the provider table does not know: `system`
   * (the system's resolvers), `off` (no lookups: such domains are `other`), or `ip[:port],...`. */
  providerDns: z.string().default("system"),
  /** How long one MX lookup may take before the domain counts as `other` (and is looked up again later). */
  providerDnsTimeoutMs: z.coerce.number().int().min(50).default(2_000),
  /** The streams sends may name (`POST /v1/sends`); empty: any well-formed stream name. */
  streams: csv.default([]),
  /** Where the lookup role's socketmap and policy servers listen (they have no authentication: keep it private). */
  lookupHost: z.string().default("127.0.0.1"),
  lookupSocketmapPort: int(2526),
  lookupPolicyPort: int(2527),
  /** The tenant whose suppressions the lookup servers answer for (default: the default tenant). */
  lookupTenant: z.string().min(1).optional(),
  /** Which stream a sender's mail belongs to, for lookups whose sender is not a signed return path. */
  lookupSenderStreams: senderStreams.default(new Map()),
  /**
   * The lookup servers answer from memory while their copy of the suppressions is at most this old (ms), and ask
   * the database otherwise: an added, removed or expired suppression is in every answer after this long.
   */
  lookupMaxStalenessMs: int(2000),
  /** The bounce mailboxes `rebound ingest imap` reads (a JSON file: docs/integrations.md). */
  imapAccountsPath: z.string().min(1).optional(),
  /** When the deliverability report goes out (a cron pattern, UTC, e.g. `0 7 * * 1`); unset: never. */
  reportSchedule: z.string().min(1).optional(),
  /** The period the scheduled report covers: the last complete week (Monday to Monday, UTC) or month. */
  reportPeriod: z.enum(REPORT_PERIODS).default("week"),
  /** The tenants a report is made for (empty: the default tenant). */
  reportTenants: csv.default([]),
  /** Who the scheduled report is mailed to. */
  reportTo: csv.default([]),
  /** The SMTP relay everything Rebound mails goes through: scheduled reports and the alerts' e-mail routes
   * (`smtp://host:port`, `smtps://user:pass@host`). */
  mailRelayUrl: z.url({ protocol: /^smtps?$/ }).optional(),
  /** The sender of everything Rebound mails. */
  mailFrom: z.string().min(3).default("rebound@localhost"),
  /** The POP3 mailboxes `rebound ingest pop3` reads (a JSON file: docs/integrations.md). */
  pop3AccountsPath: z.string().min(1).optional(),
  /** The ESP endpoints `POST /v1/ingest/<provider>` take (a JSON file: docs/integrations.md); unset: none. */
  espConfigPath: z.string().min(1).optional(),
  /** A signed ESP webhook whose signed time is further than this from now is refused (a replay). */
  espMaxAgeMinutes: z.coerce.number().int().min(1).max(1440).default(15),
  /** Refused ESP webhook requests (bad signature or credentials, unsigned, stale) per client IP and minute that
   * are answered 401; beyond, 429 `rate_limited` with Retry-After. Verified requests are never limited (0: no limit). */
  espFailuresPerMinute: int(30),
  /** How long an ESP event's id is remembered, so that a webhook sent again records nothing twice (days, 1 at
   * least: far beyond any provider's retries). */
  espEventRetentionDays: z.coerce.number().int().min(1).default(30),
  /** DMARC aggregate reports (with their rows) and RFC 6591 authentication failure reports older than this many
   * days (by arrival) are deleted (0: kept forever). */
  dmarcRetentionDays: int(400),
  /** SMTP TLS reports older than this many days (by arrival) are deleted (0: kept forever). */
  tlsReportRetentionDays: int(400),
  /** `domain=tenant` pairs: the tenant of a DMARC, TLS or authentication failure report about the domain (or a
   * subdomain of it); a report about another domain goes to the default tenant. */
  domainTenants: domainTenants.default(new Map()),
});

export type Config = z.infer<typeof configSchema>;

/** Environment variable of each setting (every one is documented in README.md; a test checks). */
export const ENV: Record<keyof Config, string> = {
  databaseUrl: "DATABASE_URL",
  databaseSchema: "REBOUND_DATABASE_SCHEMA",
  databasePreparedStatements: "REBOUND_DATABASE_PREPARED_STATEMENTS",
  databaseStatementTimeoutMs: "REBOUND_DATABASE_STATEMENT_TIMEOUT_MS",
  redisUrl: "REDIS_URL",
  dataDir: "REBOUND_DATA_DIR",
  domains: "REBOUND_DOMAINS",
  smtpHost: "REBOUND_SMTP_HOST",
  smtpPort: "REBOUND_SMTP_PORT",
  smtpHostname: "REBOUND_SMTP_HOSTNAME",
  smtpMaxMessageBytes: "REBOUND_SMTP_MAX_MESSAGE_BYTES",
  smtpMaxRecipients: "REBOUND_SMTP_MAX_RECIPIENTS",
  smtpMaxConnections: "REBOUND_SMTP_MAX_CONNECTIONS",
  smtpMaxConnectionsPerIp: "REBOUND_SMTP_MAX_CONNECTIONS_PER_IP",
  smtpMaxTransactionsPerConnection: "REBOUND_SMTP_MAX_TRANSACTIONS_PER_CONNECTION",
  smtpMaxReceivingBytes: "REBOUND_SMTP_MAX_RECEIVING_BYTES",
  smtpSpoolTimeoutMs: "REBOUND_SMTP_SPOOL_TIMEOUT_MS",
  smtpMaxQueuedMails: "REBOUND_SMTP_MAX_QUEUED_MAILS",
  smtpLocalParts: "REBOUND_SMTP_LOCAL_PARTS",
  smtpRateLimitPerMinute: "REBOUND_SMTP_RATE_LIMIT_PER_MINUTE",
  smtpSocketTimeoutMs: "REBOUND_SMTP_SOCKET_TIMEOUT_MS",
  smtpGreetingDelayMs: "REBOUND_SMTP_GREETING_DELAY_MS",
  smtpProxyProtocol: "REBOUND_SMTP_PROXY_PROTOCOL",
  smtpProxyFrom: "REBOUND_SMTP_PROXY_FROM",
  tlsCertPath: "REBOUND_TLS_CERT",
  tlsKeyPath: "REBOUND_TLS_KEY",
  httpHost: "REBOUND_HTTP_HOST",
  httpPort: "REBOUND_HTTP_PORT",
  apiRateLimitPerMinute: "REBOUND_API_RATE_LIMIT_PER_MINUTE",
  apiBodyLimitBytes: "REBOUND_API_BODY_LIMIT_BYTES",
  apiMaxExports: "REBOUND_API_MAX_EXPORTS",
  apiBulkMaxBytes: "REBOUND_API_BULK_MAX_BYTES",
  apiBulkMaxRecordChars: "REBOUND_API_BULK_MAX_RECORD_CHARS",
  apiMaxBulkRequests: "REBOUND_API_MAX_BULK_REQUESTS",
  apiAuthFailuresPerMinute: "REBOUND_API_AUTH_FAILURES_PER_MINUTE",
  apiHeapGrowthPercent: "REBOUND_API_HEAP_GROWTH_PERCENT",
  verpKeys: "REBOUND_VERP_KEYS",
  verpMaxAgeDays: "REBOUND_VERP_MAX_AGE_DAYS",
  verpKeysFile: "REBOUND_VERP_KEYS_FILE",
  addressKeyFile: "REBOUND_ADDRESS_KEY_FILE",
  policyPath: "REBOUND_POLICY",
  alertsPath: "REBOUND_ALERTS",
  defaultTenant: "REBOUND_DEFAULT_TENANT",
  defaultStream: "REBOUND_DEFAULT_STREAM",
  rawRetentionDays: "REBOUND_RAW_RETENTION_DAYS",
  eventRetentionDays: "REBOUND_EVENT_RETENTION_DAYS",
  mailRetentionDays: "REBOUND_MAIL_RETENTION_DAYS",
  logRetentionDays: "REBOUND_LOG_RETENTION_DAYS",
  rollupHourlyRetentionDays: "REBOUND_ROLLUP_HOURLY_RETENTION_DAYS",
  rollupDailyRetentionDays: "REBOUND_ROLLUP_DAILY_RETENTION_DAYS",
  incidentRetentionDays: "REBOUND_INCIDENT_RETENTION_DAYS",
  caseSensitiveLocalPart: "REBOUND_CASE_SENSITIVE_LOCAL_PART",
  webhookMaxAttempts: "REBOUND_WEBHOOK_MAX_ATTEMPTS",
  webhookTimeoutMs: "REBOUND_WEBHOOK_TIMEOUT_MS",
  webhookBackoffMs: "REBOUND_WEBHOOK_BACKOFF_MS",
  webhookAllowedNetworks: "REBOUND_WEBHOOK_ALLOWED_NETWORKS",
  smtpShutdownTimeoutMs: "REBOUND_SMTP_SHUTDOWN_TIMEOUT_MS",
  apiShutdownGraceMs: "REBOUND_API_SHUTDOWN_GRACE_MS",
  queuePrefix: "REBOUND_QUEUE_PREFIX",
  jobAttempts: "REBOUND_JOB_ATTEMPTS",
  jobBackoffMs: "REBOUND_JOB_BACKOFF_MS",
  workerConcurrency: "REBOUND_WORKER_CONCURRENCY",
  workerBatchSize: "REBOUND_WORKER_BATCH_SIZE",
  classifyTimeoutMs: "REBOUND_CLASSIFY_TIMEOUT_MS",
  classifyThreads: "REBOUND_CLASSIFY_THREADS",
  queueStalledMs: "REBOUND_QUEUE_STALLED_MS",
  sweepIntervalMs: "REBOUND_SWEEP_INTERVAL_MS",
  sweepStaleMs: "REBOUND_SWEEP_STALE_MS",
  logLevel: "REBOUND_LOG_LEVEL",
  logFormat: "REBOUND_LOG_FORMAT",
  metricsToken: "REBOUND_METRICS_TOKEN",
  metricsPort: "REBOUND_METRICS_PORT",
  blockAlertThreshold: "REBOUND_BLOCK_ALERT_THRESHOLD",
  blockAlertWindowMinutes: "REBOUND_BLOCK_ALERT_WINDOW_MINUTES",
  providerDns: "REBOUND_PROVIDER_DNS",
  providerDnsTimeoutMs: "REBOUND_PROVIDER_DNS_TIMEOUT_MS",
  streams: "REBOUND_STREAMS",
  lookupHost: "REBOUND_LOOKUP_HOST",
  lookupSocketmapPort: "REBOUND_LOOKUP_SOCKETMAP_PORT",
  lookupPolicyPort: "REBOUND_LOOKUP_POLICY_PORT",
  lookupTenant: "REBOUND_LOOKUP_TENANT",
  lookupSenderStreams: "REBOUND_LOOKUP_SENDER_STREAMS",
  lookupMaxStalenessMs: "REBOUND_LOOKUP_MAX_STALENESS_MS",
  imapAccountsPath: "REBOUND_IMAP_ACCOUNTS",
  reportSchedule: "REBOUND_REPORT_SCHEDULE",
  reportPeriod: "REBOUND_REPORT_PERIOD",
  reportTenants: "REBOUND_REPORT_TENANTS",
  reportTo: "REBOUND_REPORT_TO",
  mailRelayUrl: "REBOUND_MAIL_RELAY_URL",
  mailFrom: "REBOUND_MAIL_FROM",
  pop3AccountsPath: "REBOUND_POP3_ACCOUNTS",
  espConfigPath: "REBOUND_ESP_CONFIG",
  espMaxAgeMinutes: "REBOUND_ESP_MAX_AGE_MINUTES",
  espFailuresPerMinute: "REBOUND_ESP_FAILURES_PER_MINUTE",
  espEventRetentionDays: "REBOUND_ESP_EVENT_RETENTION_DAYS",
  dmarcRetentionDays: "REBOUND_DMARC_RETENTION_DAYS",
  tlsReportRetentionDays: "REBOUND_TLS_REPORT_RETENTION_DAYS",
  domainTenants: "REBOUND_DOMAIN_TENANTS",
};

/**
 * Old names still read for one release, each for the setting that replaced it (a warning at start says so):
 * the reports' relay and sender became the one relay of everything Rebound mails.
 */
export const DEPRECATED_ENV: Record<string, keyof Config> = {
  REBOUND_REPORT_SMTP_URL: "mailRelayUrl",
  REBOUND_REPORT_FROM: "mailFrom",
};

// What loadConfig found to warn of (deprecated names), per configuration it returned.
const warningsOf = new WeakMap<Config, string[]>();

/** The warnings of a configuration loadConfig returned (deprecated variables), to log at start. */
export function configWarnings(c: Config): string[] {
  return warningsOf.get(c) ?? [];
}

/**
 * Parse configuration from an environment (default: process.env) plus explicit overrides (from CLI flags or
 * tests). Throws ConfigError with every problem named by its variable.
 */
export function loadConfig(
  overrides: Partial<Record<keyof Config, unknown>> = {},
  env: NodeJS.ProcessEnv = process.env,
): Config {
  const unknown = unknownVariables(env);
  if (unknown.length) throw new ConfigError(`invalid configuration:\n  ${unknown.join("\n  ")}`);
  const input: Record<string, unknown> = {};
  const warnings: string[] = [];
  for (const [old, key] of Object.entries(DEPRECATED_ENV)) {
    const v = env[old];
    if (v === undefined || v === "") continue;
    const name = ENV[key];
    const current = env[name];
    if (current !== undefined && current !== "") {
      if (current !== v)
        warnings.push(`${old} is deprecated and ignored: ${name} is set and wins; unset ${old}`);
      else warnings.push(`${old} is deprecated: unset it (${name} has the same value)`);
    } else {
      input[key] = v;
      warnings.push(`${old} is deprecated: rename it ${name} (the old name is read for one more release)`);
    }
  }
  for (const [key, name] of Object.entries(ENV)) {
    const v = env[name];
    if (v !== undefined && v !== "") input[key] = v;
  }
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) input[k] = v;
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const key = String(i.path[0] ?? "");
      const name = ENV[key as keyof Config] ?? key;
      const old = Object.keys(DEPRECATED_ENV).find((o) => DEPRECATED_ENV[o] === key && env[o] && !env[name]);
      return `${old ? `${old} (deprecated name of ${name})` : name}: ${i.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join("\n  ")}`);
  }
  const c = parsed.data;
  if (c.smtpProxyProtocol && c.smtpProxyFrom.length === 0)
    throw new ConfigError(
      `invalid configuration:\n  ${ENV.smtpProxyProtocol}: a PROXY protocol header is trusted only from the proxies' networks: set ${ENV.smtpProxyFrom} (CIDRs) instead`,
    );
  if (c.reportSchedule && (!c.reportTo.length || !c.mailRelayUrl))
    throw new ConfigError(
      `invalid configuration:\n  ${ENV.reportSchedule}: a scheduled report needs ${ENV.reportTo} (who gets it) and ${ENV.mailRelayUrl} (the relay it goes through)`,
    );
  warningsOf.set(c, warnings);
  return c;
}

/**
 * `REBOUND_*` variables that name no setting (a misspelling would otherwise be ignored in silence), each with the
 * closest known name when one is near.
 */
export function unknownVariables(env: NodeJS.ProcessEnv): string[] {
  const known = new Set([...Object.values(ENV), ...Object.keys(DEPRECATED_ENV)]);
  const problems: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith("REBOUND_") || known.has(name)) continue;
    const near = closest(name, Object.values(ENV));
    problems.push(
      `${name}: no such setting${near ? ` (did you mean ${near}?)` : ""}; see the table in README.md`,
    );
  }
  return problems;
}

function closest(name: string, names: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of names) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  // A name within a third of its length (at most a few typos, or a word left out) is a likely intent.
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Levenshtein distance, O(|a| * |b|) on names of a few dozen characters. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
