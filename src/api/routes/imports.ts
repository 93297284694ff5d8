// Imports: a list of suppressions (CSV or NDJSON, millions of rows, streamed) moved over from a hosted
// provider. Valid rows are kept (in batches), invalid ones reported by line; one bad row aborts nothing.
import type { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { REASONS, type Reason } from "../../core/report.js";
import { requireScope } from "../auth.js";
import { acceptBulkBodies, beginBulk, BULK_CONTENT_TYPES, bulkLimitsOf } from "../bulk.js";
import type { ApiDeps } from "../deps.js";
import { importList, STREAM_RE } from "../import-list.js";
import { everyField } from "../json-schema.js";

interface ImportQuery {
  stream: string;
  reason: Reason;
  column?: string;
}

export default async function imports(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  acceptBulkBodies(app);
  const now = deps.now ?? (() => new Date());
  const index = app.suppressionIndex;
  const limits = bulkLimitsOf(deps.config);

  app.post<{ Querystring: ImportQuery }>(
    "/suppressions/import",
    {
      preHandler: requireScope("write"),
      config: { accepts: BULK_CONTENT_TYPES },
      schema: {
        tags: ["suppressions"],
        summary: "Import suppressions (CSV or NDJSON, streamed; per-row errors, valid rows kept)",
        description: `CSV with a header row, or NDJSON objects. Fields: the address (\`email\`, \`address\`, ... or \`column\`),
and optionally \`stream\`, \`reason\` (one of Rebound's reasons), \`class\`, \`expiresAt\`, \`since\` or \`firstSeen\`
(when the provider suppressed it), \`note\` (Rebound's export names; \`expires_at\` and \`first_seen\` are read too). A
suppression already in force is kept as it is (\`unchanged\`). A record with a control character (NUL, ...) is an
error of its own (\`control_character\`); the valid records are kept.`,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            stream: {
              type: "string",
              pattern: STREAM_RE.source,
              default: "*",
              description: "For rows that name none (default `*`: every stream)",
            },
            reason: {
              type: "string",
              enum: [...REASONS],
              default: "suppressed",
              description: "For rows that name none",
            },
            column: { type: "string", maxLength: 200, description: "The address column or field" },
          },
        },
        response: {
          200: everyField({
            type: "object",
            additionalProperties: false,
            properties: {
              received: { type: "integer" },
              imported: { type: "integer" },
              unchanged: { type: "integer", description: "Already suppressed" },
              duplicates: { type: "integer", description: "Repeated close by within the body" },
              invalid: { type: "integer" },
              errors: {
                type: "array",
                items: everyField({
                  type: "object",
                  additionalProperties: false,
                  properties: {
                    line: { type: "integer" },
                    code: { type: "string" },
                    message: { type: "string" },
                  },
                }),
              },
              errorsTruncated: { type: "boolean" },
            },
          }),
          400: { $ref: "Error#" },
          401: { $ref: "Error#" },
          403: { $ref: "Error#" },
          413: { $ref: "Error#" },
          415: { $ref: "Error#" },
          429: { $ref: "Error#" },
        },
      },
    },
    async (request, reply) => {
      const format = beginBulk(app, request, reply, limits);
      return importList(deps.db, request.body as Readable, {
        format,
        limits,
        tenant: request.auth.tenant,
        hashAddress: deps.hashAddress,
        actor: request.auth.keyId,
        stream: request.query.stream,
        reason: request.query.reason,
        column: request.query.column,
        caseSensitiveLocalPart: deps.config.caseSensitiveLocalPart,
        at: now(),
        onImported: (tenant, hashes) => hashes.forEach((h) => index.note(tenant, h)),
      });
    },
  );
}
