// Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the database and the queue answer).
import { sql } from "kysely";
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.js";
import { errorBody } from "../errors.js";

const statusSchema = {
  type: "object",
  properties: {
    status: { type: "string" },
    checks: { type: "object", additionalProperties: { type: "string" } },
  },
};

export default async function health(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get(
    "/healthz",
    {
      schema: {
        tags: ["health"],
        summary: "The process is up",
        security: [],
        response: { 200: statusSchema },
      },
    },
    async () => ({ status: "ok" }),
  );

  app.get(
    "/readyz",
    {
      schema: {
        tags: ["health"],
        summary: "The database and the queue are reachable",
        security: [],
        response: { 200: statusSchema, 503: { $ref: "Error#" } },
      },
    },
    async (_req, reply) => {
      const checks: Record<string, string> = {};
      await Promise.all([
        sql`select 1`.execute(deps.db).then(
          () => (checks.database = "ok"),
          (e: unknown) => (checks.database = `unreachable: ${e instanceof Error ? e.message : String(e)}`),
        ),
        deps.queue
          ? withTimeout(deps.queue.ping(), 2_000).then(
              () => (checks.queue = "ok"),
              (e: unknown) => (checks.queue = `unreachable: ${e instanceof Error ? e.message : String(e)}`),
            )
          : Promise.resolve((checks.queue = "none")),
      ]);
      const ok = Object.values(checks).every((v) => v === "ok" || v === "none");
      if (ok) return { status: "ready", checks };
      return reply.code(503).send(errorBody("not_ready", "a dependency is unreachable", checks));
    },
  );
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e)),
    );
  });
}
