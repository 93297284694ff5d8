// Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the database and the queue answer).
import { sql } from "kysely";
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.js";
import { errorBody } from "../errors.js";
import { everyField } from "../json-schema.js";

export const DEPENDENCY_STATES = ["up", "down", "none"] as const;
export type DependencyState = (typeof DEPENDENCY_STATES)[number];

const dependencyState = { type: "string", enum: [...DEPENDENCY_STATES] } as const;

const aliveSchema = everyField({
  type: "object",
  additionalProperties: false,
  properties: { status: { type: "string", enum: ["ok"] } },
});

const readySchema = everyField({
  type: "object",
  additionalProperties: false,
  properties: {
    status: { type: "string", enum: ["ready"] },
    checks: everyField({
      type: "object",
      additionalProperties: false,
      properties: { database: dependencyState, queue: dependencyState },
    }),
  },
});

export default async function health(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get(
    "/healthz",
    {
      schema: {
        tags: ["health"],
        summary: "The process is up",
        security: [],
        response: { 200: aliveSchema },
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
        response: { 200: readySchema, 503: { $ref: "Error#" } },
      },
    },
    async (request, reply) => {
      // Each dependency is `up`, `down` or `none` (not configured); why one is down goes to the log, never to
      // the (unauthenticated) answer: a driver's error text can name hosts, users and databases.
      const checks: Record<string, DependencyState> = {};
      const down = (name: string) => (err: unknown) => {
        checks[name] = "down";
        request.log.warn({ err, dependency: name }, "readiness check failed");
      };
      await Promise.all([
        withTimeout(sql`select 1`.execute(deps.db), 2_000).then(
          () => (checks.database = "up"),
          down("database"),
        ),
        deps.queue
          ? withTimeout(deps.queue.ping(), 2_000).then(() => (checks.queue = "up"), down("queue"))
          : Promise.resolve((checks.queue = "none")),
      ]);
      const names = Object.keys(checks).filter((k) => checks[k] === "down");
      if (!names.length) return { status: "ready", checks };
      return reply.code(503).send(errorBody("not_ready", `not ready: ${names.join(", ")} down`, checks));
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
