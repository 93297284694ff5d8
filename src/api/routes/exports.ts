// Exports of a tenant's suppressions, streamed in constant memory (a COPY whose lines are written out as CSV or
// NDJSON as they come; see src/store/exports.ts). The hashed form carries the SHA-256 of the normalised address
// instead of the address, for sharing. Each export holds a database connection for as long as its reader takes,
// so an API process runs at most `apiMaxExports` at once (429 with Retry-After beyond): lookups keep their
// connections.
import type { FastifyInstance } from "fastify";
import { CLASSES, REASONS } from "../../core/report.js";
import { EXPORT_FORMATS, exportHeader, exportStream, type ExportFormat } from "../../store/exports.js";
import { SUPPRESSION_STATES } from "../../store/lookups.js";
import { SUPPRESSION_SOURCES } from "../../store/suppressions.js";
import { requireScope } from "../auth.js";
import type { ApiDeps } from "../deps.js";
import { ApiError } from "../errors.js";
import { filterOf, type FilterQuery } from "./suppressions.js";

interface ExportQuery extends FilterQuery {
  format: ExportFormat;
  hashed: boolean;
}

export default async function exportsRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const now = deps.now ?? (() => new Date());
  const max = deps.config.apiMaxExports;
  let running = 0;

  app.get<{ Querystring: ExportQuery }>(
    "/exports/suppressions",
    {
      preHandler: requireScope("read"),
      schema: {
        tags: ["exports"],
        summary: "Export suppressions (CSV or NDJSON, streamed), with the filters of the list",
        description: `CSV columns: ${exportHeader(false)} (\`addressHash\` instead of \`address\` when hashed; NDJSON: the same names). Times are RFC 3339 UTC with milliseconds; an empty \`expiresAt\` means permanent.`,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            format: { type: "string", enum: [...EXPORT_FORMATS], default: "csv" },
            hashed: {
              type: "boolean",
              default: false,
              description:
                "The keyed hash of the normalised address (HMAC-SHA256 hex with the server's address key) instead of the address",
            },
            reason: { type: "string", enum: [...REASONS] },
            class: { type: "string", enum: [...CLASSES] },
            stream: { type: "string", minLength: 1, maxLength: 100 },
            source: { type: "string", enum: [...SUPPRESSION_SOURCES] },
            since: { type: "string", format: "date-time" },
            until: { type: "string", format: "date-time" },
            state: { type: "string", enum: [...SUPPRESSION_STATES], default: "active" },
          },
        },
        response: { 400: { $ref: "Error#" }, 401: { $ref: "Error#" }, 429: { $ref: "Error#" } },
      },
    },
    async (request, reply) => {
      const { format, hashed, ...rest } = request.query;
      const filter = filterOf(request.auth.tenant, rest);
      if (max > 0 && running >= max)
        throw new ApiError(
          429,
          "too_many_exports",
          `${max} exports are already running in this API process; try again shortly`,
          { maxExports: max },
          { "retry-after": "5" },
        );
      running++;
      // The COPY's socket chunks are Buffers by the hundred MB: V8 collects them on its own terms meanwhile.
      const restoreHeapGrowth = deps.heapGrowth?.relax();
      const done = () => {
        running--;
        restoreHeapGrowth?.();
      };
      let body;
      try {
        body = await exportStream(deps.db, filter, now(), { format, hashed });
      } catch (err) {
        done();
        throw err;
      }
      // Ended, failed or abandoned by its reader: the stream closes once in every case.
      body.once("close", done);
      const ext = format === "csv" ? "csv" : "ndjson";
      reply
        .type(format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8")
        .header(
          "content-disposition",
          `attachment; filename="suppressions${hashed ? "-hashed" : ""}.${ext}"`,
        );
      // Fastify pipes it with backpressure and destroys it if the client goes away, which frees its connection.
      return reply.send(body);
    },
  );
}
