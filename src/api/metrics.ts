// GET /metrics (Prometheus text, outside /v1: no API key; REBOUND_METRICS_TOKEN asks for a bearer token) and
// the per-request counter and latency histogram, labelled by route pattern (never by the raw URL).
import type { FastifyInstance } from "fastify";
import { bearerMatches, createMetrics } from "../metrics.js";
import type { ApiDeps } from "./deps.js";
import { ApiError } from "./errors.js";

export function installMetrics(app: FastifyInstance, deps: ApiDeps): void {
  const metrics = deps.metrics ?? createMetrics({ processMetrics: false });
  metrics.watchDb(deps.db);
  const token = deps.config.metricsToken;

  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    if (route === "/metrics") return;
    const method = request.method;
    metrics.apiRequests.inc({ method, route, status: String(reply.statusCode) });
    metrics.apiSeconds.observe({ method, route }, reply.elapsedTime / 1000);
  });

  app.get(
    "/metrics",
    {
      schema: {
        tags: ["health"],
        summary: "Prometheus metrics (text exposition format)",
        description:
          "Unauthenticated unless REBOUND_METRICS_TOKEN is set (then `Authorization: Bearer <token>`).",
        security: [],
      },
    },
    async (request, reply) => {
      if (token && !bearerMatches(request.headers.authorization, token)) {
        reply.header("www-authenticate", 'Bearer realm="rebound-metrics"');
        throw new ApiError(401, "unauthorized", "the metrics token is required");
      }
      const text = await metrics.render();
      return reply.type(metrics.contentType).send(text);
    },
  );
}
