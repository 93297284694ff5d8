// The composition root: config -> logger -> database (migrated) -> queue -> the roles asked for.
//
//   intake  the SMTP MX (spool, enqueue) and the sweeper that enqueues what was left pending
//   worker  process-mails and process-mail jobs, raw retention, webhook outbox and deliveries
//   api     the HTTP API
//   lookup  the socketmap and policy delegation servers Postfix or Exim ask at send time (not by default)
//
// The first three run in one process by default. With REDIS_URL several intake and worker processes share one
// PostgreSQL and Redis; without it the queue is in-process, so intake and worker must run together.
import type { Config } from "./config.js";
import { createIntake, type Intake } from "./intake/server.js";
import { startSweeper, type Sweeper } from "./intake/sweeper.js";
import { resolveTls } from "./intake/tls.js";
import { createLogger, type Logger } from "./log.js";
import { createMetrics, startMetricsServer, type Metrics } from "./metrics.js";
import { loadPolicy } from "./policy-file.js";
import { createQueue } from "./queue/index.js";
import { migrateToLatest, openDb, type Db } from "./store/db.js";
import { startWebhookWorker } from "./webhooks/worker.js";
import { startMailWorker } from "./worker/runner.js";

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
  /** The bare metrics listener's port (when REBOUND_METRICS_PORT is set). */
  metricsPort?: number;
  /** This process's metrics (served at `/metrics`). */
  metrics: Metrics;
  logger: Logger;
  /** Graceful shutdown: sessions in flight finish, jobs in flight finish, then connections close. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  now?: () => Date;
  /** Default: a registry of its own (with Node's process metrics). */
  metrics?: Metrics;
}

export async function startApp(
  config: Config,
  roles: readonly Role[] = DEFAULT_ROLES,
  opts: StartOptions = {},
): Promise<App> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const now = opts.now ?? (() => new Date());
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

  try {
    // Validate the policy before anything listens: a bad file is a configuration error.
    const policy = has("worker") ? loadPolicy(config) : undefined;

    const handle = await openDb({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      schema: config.databaseSchema,
      preparedStatements: config.databasePreparedStatements,
      // The worker holds two batch transactions at once (more only when a failed batch is retried mail by mail).
      poolSize: Math.min(config.workerConcurrency, 16) + 6,
    });
    closers.push(() => handle.close());
    await migrateToLatest(handle.db);
    const db = handle.db;
    logger.info(
      {
        embedded: handle.embedded,
        schema: handle.schema,
        queue: config.redisUrl ? "bullmq" : "memory",
        roles,
      },
      "starting",
    );
    if (!config.redisUrl && has("intake") !== has("worker")) {
      logger.warn("no REDIS_URL: the in-process queue only links an intake and a worker in the same process");
    }

    const queue = createQueue(config, logger);
    closers.push(() => queue.close());

    metrics.watchDb(db);
    const app: App = { roles: [...roles], db, logger, metrics, close: closeAll };

    if (has("worker") && policy) {
      const worker = startMailWorker({ db, config, policy, queue, logger, now, metrics });
      closers.push(() => worker.stop());
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
    }

    if (has("api")) {
      const { startApi } = await import("./api/server.js");
      const { HeapGrowth } = await import("./util/heap.js");
      // The bound is V8's, for the whole process: only where the API runs alone. The intake's and the worker's
      // stream of raw mails would set off a full collection every few MB under it (see src/util/heap.ts).
      const alone = !has("intake") && !has("worker");
      const heapGrowth = new HeapGrowth(alone ? config.apiHeapGrowthPercent : 0);
      const api = await startApi({ db, config, logger, queue, now, metrics, heapGrowth });
      app.httpPort = api.port;
      closers.push(() => api.close());
      // The embedded database belongs to this process alone (no `rebound keys create` beside it), so a first
      // start makes one admin key for the default tenant and shows its token once.
      if (handle.embedded) await bootstrapKey(db, config.defaultTenant, logger);
    }

    if (has("lookup")) {
      const { startLookup } = await import("./integrations/postfix/index.js");
      const lookup = await startLookup({ db, config, logger, metrics, now });
      app.socketmapPort = lookup.socketmapPort;
      app.policyPort = lookup.policyPort;
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

async function bootstrapKey(db: Db, tenant: string, logger: Logger): Promise<void> {
  const { createKey, listKeys } = await import("./store/keys.js");
  if ((await listKeys(db, { includeRevoked: true })).length > 0) return;
  const key = await createKey(db, { tenant, scopes: ["read", "write", "admin"], name: "bootstrap" });
  logger.warn({ keyId: key.id, tenant }, "created a first API key (shown once below; keep it, or revoke it)");
  process.stderr.write(`rebound: first API key for tenant "${tenant}": ${key.token}\n`);
}
