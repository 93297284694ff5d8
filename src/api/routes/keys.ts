// POST /v1/keys: make an API key (admin scope), for the key's own tenant or another. The token is in this answer
// only (stored as its SHA-256). The same as `rebound keys create`, for deployments where the CLI is out of reach.
import type { FastifyInstance } from "fastify";
import { createKey, SCOPES, type Scope } from "../../store/keys.js";
import { requireScope } from "../auth.js";
import type { ApiDeps } from "../deps.js";

interface Body {
  tenant?: string;
  scopes: Scope[];
  name?: string;
  rateLimitPerMinute?: number | null;
}

const keySchema = {
  type: "object",
  required: ["id", "tenant", "name", "scopes", "rateLimitPerMinute", "createdAt", "token"],
  properties: {
    id: { type: "string" },
    tenant: { type: "string" },
    name: { type: ["string", "null"] },
    scopes: { type: "array", items: { type: "string", enum: [...SCOPES] } },
    rateLimitPerMinute: { type: ["integer", "null"] },
    createdAt: { type: "string", format: "date-time" },
    token: {
      type: "string",
      description: "send as `Authorization: Bearer <token>`; shown only in this answer",
    },
  },
} as const;

export default async function keys(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.post<{ Body: Body }>(
    "/keys",
    {
      preHandler: requireScope("admin"),
      schema: {
        tags: ["keys"],
        summary: "Make an API key",
        description:
          "Needs `admin`. The key is bound to `tenant` (default: the calling key's tenant). `admin` implies `write`, " +
          "`write` implies `read`. The token is shown in this answer only: keep it.",
        body: {
          type: "object",
          required: ["scopes"],
          additionalProperties: false,
          properties: {
            tenant: {
              type: "string",
              pattern: "^[a-z0-9][a-z0-9_-]{0,19}$",
              description: "1-20 lower-case letters, digits, `_` or `-` (a tenant a return path can carry)",
            },
            scopes: {
              type: "array",
              minItems: 1,
              uniqueItems: true,
              items: { type: "string", enum: [...SCOPES] },
            },
            name: { type: "string", minLength: 1, maxLength: 200, pattern: "^[^\\u0000-\\u001f\\u007f]*$" },
            rateLimitPerMinute: {
              type: ["integer", "null"],
              minimum: 0,
              maximum: 1_000_000_000,
              description: "requests per minute for this key (0: unlimited; null or absent: the server's)",
            },
          },
        },
        response: {
          201: keySchema,
          400: { $ref: "Error#" },
          401: { $ref: "Error#" },
          403: { $ref: "Error#" },
        },
      },
    },
    async (request, reply) => {
      const key = await createKey(deps.db, {
        tenant: request.body.tenant ?? request.auth.tenant,
        scopes: request.body.scopes,
        name: request.body.name,
        rateLimitPerMinute: request.body.rateLimitPerMinute ?? null,
      });
      return reply.code(201).send({
        id: key.id,
        tenant: key.tenant,
        name: key.name,
        scopes: key.scopes,
        rateLimitPerMinute: key.rateLimitPerMinute,
        createdAt: key.createdAt.toISOString(),
        token: key.token,
      });
    },
  );
}
