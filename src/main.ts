// The composition root: config -> logger -> database (migrated) -> queue -> the roles asked for.
//
//   intake  the SMTP MX (spool, enqueue) and the sweeper that enqueues what was left pending
//   worker  process-mails and process-mail jobs, webhook outbox and deliveries
//
// Every role runs retention (src/retention.ts).
//   api     the HTTP API
//   lookup  the socketmap and policy delegation servers Postfix or Exim ask at send time (not by default)
//
// The first three run in one process by default. With REDIS_URL several intake and worker processes share one
// PostgreSQL and Redis; without it the queue is in-process, so intake and worker must run together.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveAddressKey, type AddressKeySource } from "./address-key.js";
import { configWarnings, type Config } from "./config.js";
import type { AddressHasher } from "./core/address.js";
import { createIntake, type Intake } from "./intake/server.js";
import { startSweeper, type Sweeper } from "./intake/sweeper.js";
import { resolveTls } from "./intake/tls.js";
import { createLogger, type Logger } from "./log.js";
import { createMetrics, startMetricsServer, type Metrics } from "./metrics.js";
import { loadPolicy } from "./policy-file.js";
import { startReportSchedule } from "./monitor/report-schedule.js";
import { startRetention } from "./retention.js";
import { createQueue } from "./queue/index.js";
import { migrateToLatest, openDb, type Db, type DbHandle } from "./store/db.js";
import { startWebhookWorker } from "./webhooks/worker.js";
import { createAlertEngine } from "./alerts/engine.js";
import { loadAlerts } from "./alerts/file.js";
import { resolveVerpKeys, type VerpKeySource } from "./verp-keys.js";
import { startMailWorker } from "./worker/runner.js";
import { providerResolverOf } from "./monitor/provider-resolver.js";

export const ROLES = ["intake", "worker", "api", "lookup"] as const;
export type Role = (typeof ROLES)[number];
/** What `rebound start` runs when no role is named. */
export const DEFAULT_ROLES: readonly Role[] = ["intake", "worker", "api"];

export interface App {
  roles: Role[];
  /** The database this process uses (tests read results through it; PGlite allows no second handle). */
  db: Db;
  /** The SMTP port bound (intake role). */
  smtpPort?: number;
  /** The HTTP port bound (api role). */
  httpPort?: number;
  /** The lookup role's socketmap and policy delegation ports. */
  socketmapPort?: number;
  policyPort?: number;
  /** With the lookup role: resolves once its in-memory copy of the suppressions is loaded (lookups asked the
   * database until then). */
  lookupReady?: Promise<void>;
  /** The bare metrics listener's port (when REBOUND_METRICS_PORT is set). */
  metricsPort?: number;
  /** This process's metrics (served at `/metrics`). */
  metrics: Metrics;
  logger: Logger;
  /** The configuration in effect (with the VERP keys read from their file). */
  config: Config;
  /** Where the VERP keys came from (`none`: no bounce is verified, none suppresses). */
  verpKeySource: VerpKeySource;
  /** The keyed hash every table files addresses under, and where its key is kept. */
  hashAddress: AddressHasher;
  addressKeySource: AddressKeySource;
  /** What this start made that is shown once (the first start of an embedded data folder). */
  firstRun: FirstRun;
  /** Graceful shutdown: sessions in flight finish, jobs in flight finish, then connections close. */
  close(): Promise<void>;
}

export interface FirstRun {
  /** The admin key made for the default tenant (its token, and the 0600 file it was also written to). */
  adminKey?: { id: string; tenant: string; token: string; file?: string };
  /** The development VERP key made in the data folder. */
  verpKey?: { id: string; secret: string; file: string };
}

export interface StartOptions {
  logger?: Logger;
  now?: () => Date;
  /** Default: a registry of its own (with Node's process metrics). */
  metrics?: Metrics;
}

export async function startApp(
  givenConfig: Config,
  roles: readonly Role[] = DEFAULT_ROLES,
  opts: StartOptions = {},
): Promise<App> {
  const logger = opts.logger ?? createLogger(givenConfig.logLevel, undefined, givenConfig.logFormat);
  const now = opts.now ?? (() => new Date());
  // The same clock in milliseconds, for the lookups (no Date each).
  const injected = opts.now;
  const nowMs = injected ? () => injected().getTime() : Date.now;
  const has = (r: Role) => roles.includes(r);
  const metrics = opts.metrics ?? createMetrics();
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const c of closers.splice(0).reverse()) {
      await c().catch((err: unknown) =>
        logger.error({ err: err instanceof Error ? err.message : String(err) }, "shutdown step failed"),
      );
    }
  };

  const firstRun: FirstRun = {};
  try {
    // The embedded default makes a development VERP key in its data folder on the first start.
    const verp = resolveVerpKeys(givenConfig, { create: true });
    const config: Config = { ...givenConfig, verpKeys: verp.keys };
    if (verp.created && verp.file) firstRun.verpKey = { ...verp.created, file: verp.file };

    // Validate the policy before anything listens, in every role: a bad file (or `plain` verification without
    // `allowUnverified`) is a configuration error wherever it is found.
    const policy = loadPolicy(config);
    // The alerts file likewise (rules, routes): a typo is refused at start, with its line and the nearest name.
    const alerts = loadAlerts(config);

    const handle = await openDatabase(config, {
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      schema: config.databaseSchema,
      preparedStatements: config.databasePreparedStatements,
      statementTimeoutMs: config.databaseStatementTimeoutMs,
      // The worker holds two batch transactions at once (more only when a failed batch is retried mail by mail).
      poolSize: Math.min(config.workerConcurrency, 16) + 6,
      // The CLI's commands borrow the embedded database while this process holds it.
      share: true,
    });
    closers.push(() => handle.close());
    const db = handle.db;
    // Deprecated names still read (the reports' relay, the alerts file's `email`): said once at start.
    for (const w of [...configWarnings(givenConfig), ...alerts.warnings]) logger.warn(w);
    logger.info(
      {
        embedded: handle.embedded,
        schema: handle.schema,
        queue: config.redisUrl ? "bullmq" : "memory",
        roles,
      },
      "starting",
    );
    if (verp.source === "none" && (has("worker") || has("intake")))
      logger.warn(
        "NO VERP KEY IS CONFIGURED: no bounce can be verified, so NO BOUNCE WILL SUPPRESS ANYONE. " +
          "Set REBOUND_VERP_KEYS (make one with `rebound verp keygen`) or REBOUND_VERP_KEYS_FILE",
      );
    if (!config.redisUrl && has("intake") !== has("worker")) {
      logger.warn("no REDIS_URL: the in-process queue only links an intake and a worker in the same process");
    }

    // The key of the address hashes: from REBOUND_ADDRESS_KEY_FILE, or kept in the database (made on first use).
    const addressKey = await resolveAddressKey(db, config);
    const { hashAddress } = addressKey;
    if (addressKey.created?.refiled.addresses)
      logger.info(addressKey.created.refiled, "addresses re-filed under the keyed hash");
    if (addressKey.created?.refiled.orphans)
      logger.warn(
        addressKey.created.refiled,
        "some rows are filed under a bare SHA-256 of an address no table names any more (erased before keyed " +
          "hashes): they match no lookup",
      );
    if (addressKey.source === "database" && !handle.embedded)
      logger.warn(
        { fingerprint: addressKey.fingerprint },
        "the address-hash key is kept in the database beside the hashes: set REBOUND_ADDRESS_KEY_FILE to keep " +
          "it apart (docs/api.md, Erasure)",
      );

    const queue = createQueue(config, logger);
    closers.push(() => queue.close());

    metrics.watchDb(db);
    // Retention in every role, whichever runs here.
    const retention = startRetention({ db, config, logger, now });
    closers.push(async () => retention.stop());
    const app: App = {
      roles: [...roles],
      db,
      logger,
      metrics,
      config,
      verpKeySource: verp.source,
      hashAddress,
      addressKeySource: addressKey.source,
      firstRun,
      close: closeAll,
    };

    // Recipient domains' mailbox providers (MX lookups, cached): the worker's events and the API's sends.
    const providers = has("worker") || has("api") ? providerResolverOf(config) : undefined;
    if (providers) closers.push(async () => providers.close());

    if (has("worker")) {
      const worker = startMailWorker({
        db,
        config,
        policy,
        hashAddress,
        queue,
        logger,
        now,
        metrics,
        providers,
      });
      closers.push(() => worker.stop());
      // Scheduled reports from the worker role (report_runs: sent once however many workers run).
      const reports = startReportSchedule({ db, config, logger });
      if (reports) closers.push(async () => reports.stop());
      const webhooks = startWebhookWorker(
        { db, queue, logger, now, metrics },
        {
          maxAttempts: config.webhookMaxAttempts,
          timeoutMs: config.webhookTimeoutMs,
          backoffBaseMs: config.webhookBackoffMs,
          allowedNetworks: config.webhookAllowedNetworks,
        },
      );
      closers.push(() => webhooks.stop());
      const engine = createAlertEngine({ db, alerts, logger, now, tenants: [config.defaultTenant] });
      engine.start();
      closers.push(() => engine.stop());
    }

    // The API and the lookup role in one process: one copy of the suppressions in force, one feed, for both.
    let suppressionMirror:
      import("./integrations/postfix/suppression-mirror.js").SuppressionMirror | undefined;
    if (has("api") && has("lookup")) {
      const { suppressionMirrorOf } = await import("./integrations/postfix/index.js");
      const mirror = suppressionMirrorOf({ db, config, logger, metrics, now, nowMs });
      mirror.start();
      closers.push(() => mirror.stop());
      suppressionMirror = mirror;
    }

    if (has("api")) {
      const { startApi } = await import("./api/server.js");
      const { HeapGrowth } = await import("./util/heap.js");
      // The bound is V8's, for the whole process: only where the API runs alone. The intake's and the worker's
      // stream of raw mails would set off a full collection every few MB under it (see src/util/heap.ts).
      const alone = !has("intake") && !has("worker");
      const heapGrowth = new HeapGrowth(alone ? config.apiHeapGrowthPercent : 0);
      const api = await startApi({
        db,
        config,
        hashAddress,
        logger,
        queue,
        now,
        metrics,
        heapGrowth,
        providers,
        alerts,
        suppressionMirror,
      });
      app.httpPort = api.port;
      closers.push(() => api.close());
      // The embedded default is complete on its own: its first start makes an admin key for the default tenant
      // (shown once, and kept in a 0600 file of the data folder). On PostgreSQL the operator makes keys.
      if (handle.embedded) {
        const key = await bootstrapKey(db, config, logger);
        if (key) firstRun.adminKey = key;
      } else await warnWithoutKeys(db, logger);
    }

    if (has("lookup")) {
      const { startLookup } = await import("./integrations/postfix/index.js");
      const lookup = await startLookup({
        db,
        config,
        hashAddress,
        addressKey: addressKey.key,
        logger,
        metrics,
        now,
        nowMs,
        mirror: suppressionMirror,
      });
      app.socketmapPort = lookup.socketmapPort;
      app.policyPort = lookup.policyPort;
      app.lookupReady = lookup.ready;
      closers.push(() => lookup.close());
    }

    if (has("intake")) {
      const tls = await resolveTls(config);
      if (tls.selfSigned)
        logger.warn(
          "STARTTLS uses a self-signed certificate made for development (set REBOUND_TLS_CERT and REBOUND_TLS_KEY)",
        );
      const sweeper: Sweeper = startSweeper(
        { db, queue, logger: logger.child({ role: "sweeper" }), now },
        { intervalMs: config.sweepIntervalMs, staleMs: config.sweepStaleMs },
      );
      closers.push(() => sweeper.stop());
      const intake: Intake = createIntake({ config, db, queue, logger, tls, now, metrics });
      const addr = await intake.listen();
      app.smtpPort = addr.port;
      closers.push(() => intake.close());
      // What a crash or a Redis outage left pending is enqueued now (the in-process queue starts empty).
      sweeper
        .sweep({ all: true })
        .catch((err: unknown) =>
          logger.warn(
            { err: err instanceof Error ? err.message : String(err) },
            "startup sweep failed; the sweeper will retry",
          ),
        );
    }
    if (config.metricsPort !== undefined) {
      const ms = await startMetricsServer(metrics, {
        host: config.httpHost,
        port: config.metricsPort,
        token: config.metricsToken,
      });
      app.metricsPort = ms.port;
      closers.push(() => ms.close());
      logger.info({ port: ms.port }, "metrics listening");
    }
    return app;
  } catch (err) {
    await closeAll();
    throw err;
  }
}

async function bootstrapKey(db: Db, config: Config, logger: Logger): Promise<FirstRun["adminKey"]> {
  const { createKey, listKeys } = await import("./store/keys.js");
  if ((await listKeys(db, { includeRevoked: true })).length > 0) return undefined;
  const tenant = config.defaultTenant;
  const key = await createKey(db, { tenant, scopes: ["read", "write", "admin"], name: "bootstrap" });
  let file: string | undefined;
  if (config.dataDir !== ":memory:") {
    file = join(config.dataDir, "admin-key");
    try {
      writeFileSync(file, `${key.token}\n`, { mode: 0o600 });
    } catch (err) {
      logger.warn({ file, err: (err as Error).message }, "could not keep the first API key in a file");
      file = undefined;
    }
  }
  logger.warn(
    { keyId: key.id, tenant, file },
    "created a first API key (admin scope; keep it, or revoke it)",
  );
  return { id: key.id, tenant, token: key.token, file };
}

async function warnWithoutKeys(db: Db, logger: Logger): Promise<void> {
  const { listKeys } = await import("./store/keys.js");
  if ((await listKeys(db)).length > 0) return;
  logger.warn(
    "no API key exists yet: make one with `rebound keys create --tenant default --scopes read,write,admin` " +
      "(docker compose: `docker compose exec api node bin/rebound.js keys create --tenant default --scopes read,write,admin`)",
  );
}

// Errors that say the database cannot be reached or entered (not that a statement failed).
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "ECONNRESET",
  "EHOSTUNREACH",
]);
const REFUSED_ENTRY = new Set(["28000", "28P01", "3D000"]); // no access, bad password, no such database

/**
 * Open and migrate the database. Not reaching it fails with one line that names it (never its password).
 */
async function openDatabase(config: Config, opts: Parameters<typeof openDb>[0]): Promise<DbHandle> {
  let handle: DbHandle | undefined;
  try {
    handle = await openDb(opts);
    await migrateToLatest(handle.db);
    return handle;
  } catch (err) {
    await handle?.close().catch(() => undefined);
    const code = (err as { code?: string }).code ?? "";
    const message = err instanceof Error ? err.message : String(err);
    if (
      !config.databaseUrl ||
      !(UNREACHABLE.has(code) || REFUSED_ENTRY.has(code) || /timeout/i.test(message))
    )
      throw err;
    let where = "DATABASE_URL";
    try {
      const u = new URL(config.databaseUrl);
      where = `PostgreSQL at ${u.hostname}:${u.port || "5432"}${u.pathname} (DATABASE_URL)`;
    } catch {
      // keep the variable's name alone
    }
    throw new Error(`cannot use ${where}: ${message}`, { cause: err });
  }
}
