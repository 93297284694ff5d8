// POST /v1/sends: what was sent, per message or as counts, as NDJSON (streamed, any size) or JSON (`sends`).
// Each record is checked alone and reported by its line; messages are recorded once per Message-ID, counts once
// per batch id. See src/monitor/sends-import.ts.
import type { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { providerLabel } from "../../metrics.js";
import { PROVIDERS } from "../../core/provider.js";
import { MAX_AGE_DAYS, SEND_ERROR_CODES } from "../../core/send-record.js";
import { importSends, jsonSends, MAX_LINE_BYTES, ndjsonSends } from "../../monitor/sends-import.js";
import { requireScope } from "../auth.js";
import { acceptBulkBodies, bulkFormatOf } from "../bulk.js";
import type { ApiDeps } from "../deps.js";
import { ApiError } from "../errors.js";

const BATCH_ID = "^[A-Za-z0-9._:-]{1,100}$";

const message = {
  type: "object",
  description: "A message sent",
  required: ["recipient", "stream", "messageId", "sentAt"],
  additionalProperties: false,
  properties: {
    recipient: { type: "string", maxLength: 400 },
    stream: { type: "string", maxLength: 20 },
    campaign: { type: "string", maxLength: 200 },
    sendingIp: { type: "string", maxLength: 45 },
    messageId: { type: "string", maxLength: 998, description: "With or without its angle brackets" },
    sentAt: { type: "string", format: "date-time" },
    sendingDomain: {
      type: "string",
      maxLength: 253,
      description:
        "The domain it was sent from (its From's; an IDN in either form): a bounce tied to it that shows no sending domain of its own takes it",
    },
    from: {
      type: "string",
      maxLength: 998,
      description: "Its From (or envelope sender): `sendingDomain` is taken from it when not given",
    },
  },
} as const;

const counts = {
  type: "object",
  description: "Messages sent in one hour, counted",
  required: ["stream", "hour", "count"],
  additionalProperties: false,
  properties: {
    stream: { type: "string", maxLength: 20 },
    campaign: { type: "string", maxLength: 200 },
    sendingIp: { type: "string", maxLength: 45 },
    recipientDomain: { type: "string", maxLength: 255, description: "Either this or `provider`" },
    provider: { type: "string", enum: [...PROVIDERS] },
    hour: { type: "string", format: "date-time", description: "Any time within the hour" },
    count: { type: "integer", minimum: 0 },
  },
} as const;

export default async function sends(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  acceptBulkBodies(app);
  const now = deps.now ?? (() => new Date());

  app.post<{ Querystring: { batchId?: string }; Body: Readable | { sends: unknown[] } }>(
    "/sends",
    {
      preHandler: requireScope("write"),
      schema: {
        tags: ["monitoring"],
        summary: "Report what was sent (per message or counts; NDJSON streamed, or JSON)",
        description: `Records are either messages (\`recipient\`, \`stream\`, \`messageId\`, \`sentAt\`, optionally
\`campaign\`, \`sendingIp\`) or counts (\`stream\`, \`hour\`, \`count\`, \`recipientDomain\` or \`provider\`, optionally
\`campaign\`, \`sendingIp\`). NDJSON (\`application/x-ndjson\`, one record a line, any size, streamed; a line over
${MAX_LINE_BYTES} bytes is skipped and reported) or JSON (\`{"sends": [...]}\`, within the body limit). Each record
is checked alone: an invalid one is reported in \`errors\` by its line (JSON: its place, from 1) and the others
are kept. A message is recorded once per Message-ID (a retried upload's are \`duplicates\`); counts need a
\`batchId\`, recorded once (a retried batch's counts are \`duplicates\`). Dates more than 5 minutes ahead or
${MAX_AGE_DAYS} days back are refused. Sends count as \`sent\` in \`GET /v1/stats\`; a bounce whose returned
original carries a recorded Message-ID gets that send's campaign and sending IP (and its \`sendingDomain\`, or the
domain of its \`from\`, when the bounce shows none).`,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            batchId: {
              type: "string",
              pattern: BATCH_ID,
              description: "The upload's id: its counts are recorded once under it (required for counts)",
            },
          },
        },
        body: {
          content: {
            "application/json": {
              schema: {
                type: "object",
                required: ["sends"],
                additionalProperties: false,
                properties: {
                  sends: {
                    type: "array",
                    description:
                      "Shapes are checked here (a malformed record refuses the body); values (dates, streams) record by record",
                    items: { anyOf: [message, counts] },
                  },
                },
              },
            },
          },
        },
        response: {
          200: {
            type: "object",
            additionalProperties: false,
            required: [
              "received",
              "accepted",
              "counted",
              "duplicates",
              "invalid",
              "errors",
              "errorsTruncated",
              "batchId",
              "batchDuplicate",
            ],
            properties: {
              received: { type: "integer" },
              accepted: { type: "integer", description: "Messages recorded now" },
              counted: { type: "integer", description: "Counts records added now" },
              duplicates: {
                type: "integer",
                description: "Messages already recorded, or counts of a batch already recorded",
              },
              invalid: { type: "integer" },
              errors: {
                type: "array",
                items: {
                  type: "object",
                  additionalProperties: false,
                  required: ["line", "code", "message"],
                  properties: {
                    line: { type: "integer" },
                    code: { type: "string", enum: [...SEND_ERROR_CODES] },
                    message: { type: "string" },
                  },
                },
              },
              errorsTruncated: { type: "boolean", description: "More than 1,000 errors: the first listed" },
              batchId: { type: "string", nullable: true },
              batchDuplicate: { type: "boolean", description: "The batch id had been recorded before" },
            },
          },
          400: { $ref: "Error#" },
          401: { $ref: "Error#" },
          403: { $ref: "Error#" },
          415: { $ref: "Error#" },
        },
      },
    },
    async (request) => {
      const type = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
      const body = request.body;
      let inputs;
      if (type === "application/json") {
        const b = body as { sends?: unknown };
        const extra = b && typeof b === "object" ? Object.keys(b).filter((k) => k !== "sends") : [];
        if (!b || typeof b !== "object" || Array.isArray(b) || !Array.isArray(b.sends) || extra.length)
          throw new ApiError(
            400,
            "validation_failed",
            extra.length
              ? `unknown field "${extra[0]}": the body is {"sends": [...]}`
              : 'the body is {"sends": [...]}',
          );
        inputs = jsonSends(b.sends);
      } else {
        if (bulkFormatOf(request.headers["content-type"]) !== "ndjson")
          throw new ApiError(415, "unsupported_media_type", "send application/x-ndjson or application/json");
        inputs = ndjsonSends(body as Readable);
      }
      return importSends(deps.db, inputs, {
        tenant: request.auth.tenant,
        now: now(),
        streams: deps.config.streams,
        caseSensitiveLocalPart: deps.config.caseSensitiveLocalPart,
        batchId: request.query.batchId,
        providers: deps.providers,
        onSent: (counts) => {
          for (const c of counts)
            deps.metrics?.sends.inc(
              { tenant: request.auth.tenant, stream: c.stream, provider: providerLabel(c.provider) },
              c.n,
            );
        },
      });
    },
  );
}
