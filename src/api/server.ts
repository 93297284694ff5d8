// The HTTP API: fastify, versioned under /v1, one module per resource, one error shape, OpenAPI 3.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { installAuth } from "./auth.js";
import { BulkGate } from "./bulk.js";
import type { ApiDeps, RouteModule } from "./deps.js";
import { installEdge, MAX_PARAM_LENGTH } from "./edge.js";
import { clientError, errorSchema, frameworkError, installErrorHandling } from "./errors.js";
import { installOpenApi } from "./openapi.js";
import health from "./routes/health.js";
import home from "./routes/home.js";
import alerts from "./routes/alerts.js";
import { createMetrics } from "../metrics.js";
import { installMetrics } from "./metrics.js";
import clean from "./routes/clean.js";
import exportsRoute from "./routes/exports.js";
import imports from "./routes/imports.js";
import keys from "./routes/keys.js";
import suppressions from "./routes/suppressions.js";
import addresses from "./routes/addresses.js";
import deliveries from "./routes/deliveries.js";
import sends from "./routes/sends.js";
import stats from "./routes/stats.js";
import events from "./routes/events.js";
import eventMail from "./routes/event-mail.js";
import session from "./routes/session.js";
import { installConsole } from "./console.js";
import verp from "./routes/verp.js";
import webhooks from "./routes/webhooks.js";
import ingest from "./routes/ingest.js";
import dmarc from "./routes/dmarc.js";
import tlsReports from "./routes/tls-reports.js";
import authentication from "./routes/authentication.js";
import { SuppressionIndex } from "./suppression-index.js";
import { PauseCache } from "../alerts/pause-cache.js";
import incidents from "./routes/incidents.js";
import streams from "./routes/streams.js";
import { HeapGrowth } from "../util/heap.js";

export type { ApiDeps, RouteModule } from "./deps.js";

export const API_VERSION = "1.0.0";

/** The resources under /v1. Each is `src/api/routes/<name>.ts`, registered in its own encapsulated scope. */
const ROUTES: RouteModule[] = [
  suppressions,
  clean,
  exportsRoute,
  imports,
  events,
  eventMail,
  deliveries,
  sends,
  stats,
  verp,
  addresses,
  webhooks,
  alerts,
  incidents,
  streams,
  keys,
  dmarc,
  tlsReports,
  authentication,
  session,
];

declare module "fastify" {
  interface FastifyInstance {
    /** The in-memory copy of the suppressions in force that answers most lookups without a query. */
    suppressionIndex: SuppressionIndex;
    /** The cap on list cleanings and imports running at once in this process. */
    bulkGate: BulkGate;
    /** The streams paused, per tenant, for the lookups' `paused` answer. */
    pauseCache: PauseCache;
  }
}

export async function buildApi(given: ApiDeps): Promise<FastifyInstance> {
  // One registry for the routes that count (sends) and GET /metrics that serves it.
  const deps: ApiDeps = { ...given, metrics: given.metrics ?? createMetrics({ processMetrics: false }) };
  const now = deps.now ?? (() => new Date());
  const app = Fastify({
    loggerInstance: deps.logger.child({ role: "api" }) as FastifyBaseLogger,
    // One log line per request would cost more than a lookup; errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.config.apiBodyLimitBytes,
    return503OnClosing: true,
    // An address of 254 characters, percent-encoded, fits; a longer parameter gets a 414 in our shape.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: frameworkError,
    clientErrorHandler: clientError,
    // Bodies are never coerced (`{"addresses": 0}` is not a list); query strings are typed in edge.ts.
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false },
    },
  });
  installEdge(app);
  // JSON only, unless a route says otherwise (CSV and NDJSON lists): a text/plain body gets a 415 that says what to
  // send, not a validation error about a string.
  app.removeContentTypeParser("text/plain");
  installErrorHandling(app);
  app.addSchema(errorSchema);
  await installOpenApi(app, API_VERSION);

  const index = new SuppressionIndex(deps.db, {
    logger: app.log,
    now,
    mirror: deps.suppressionMirror,
    maxStalenessMs: deps.config.lookupMaxStalenessMs,
    pollMs: Math.max(10, Math.floor(deps.config.lookupMaxStalenessMs / 10)),
  });
  app.decorate("suppressionIndex", index);
  app.decorate("bulkGate", new BulkGate(deps.config.apiMaxBulkRequests));
  app.decorate("pauseCache", new PauseCache(deps.db));
  app.addHook("onReady", async () => index.start());
  app.addHook("onClose", async () => index.stop());

  installMetrics(app, deps);
  await app.register(async (root) => health(root, deps));
  await app.register(async (root) => home(root, deps));
  await app.register(async (root) => installConsole(root));
  await app.register(
    async (v1) => {
      installAuth(v1, {
        db: deps.db,
        defaultRateLimitPerMinute: deps.config.apiRateLimitPerMinute,
        authFailuresPerMinute: deps.config.apiAuthFailuresPerMinute,
        now,
      });
      for (const mod of ROUTES) await v1.register(async (scope) => mod(scope, deps));
    },
    { prefix: "/v1" },
  );
  // ESP webhooks: authenticated by their providers' signatures, not by API keys (src/api/routes/ingest.ts).
  await app.register(async (scope) => ingest(scope, deps), { prefix: "/v1/ingest" });
  return app;
}

/** Build the API and listen on `config.httpHost:config.httpPort` (port 0: any free port). */
export async function startApi(
  deps: ApiDeps,
): Promise<{ close(): Promise<void>; port: number; app: FastifyInstance }> {
  // Lookups promote a trickle of garbage to the old generation: bounding it keeps the process's memory flat
  // whatever it served before (see src/util/heap.ts).
  const app = await buildApi({
    ...deps,
    heapGrowth: deps.heapGrowth ?? new HeapGrowth(deps.config.apiHeapGrowthPercent),
  });
  try {
    await app.listen({ host: deps.config.httpHost, port: deps.config.httpPort });
  } catch (err) {
    await app.close(); // stops what onReady started (the suppression index's timer)
    throw err;
  }
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : deps.config.httpPort;
  return {
    app,
    port,
    // Requests in flight get a grace period; then their connections are closed, so that a client that stopped
    // reading an export (its stream paused on backpressure) cannot hold the shutdown forever.
    async close() {
      const timer = setTimeout(() => app.server.closeAllConnections(), deps.config.apiShutdownGraceMs);
      try {
        await app.close();
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
