// List cleaning: a sender's list in (CSV or NDJSON, any size), the same list out, streamed both ways, with
// the suppressed addresses removed or with a status column added; the sender's other columns untouched.
import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { normalizeAddress } from "../../core/address.js";
import { requireScope } from "../auth.js";
import {
  addressColumn,
  addressOfObject,
  acceptBulkBodies,
  BULK_CONTENT_TYPES,
  beginBulk,
  bulkLimitsOf,
  bulkRecords,
  type BulkRecord,
} from "../bulk.js";
import { csvField } from "../csv.js";
import type { ApiDeps } from "../deps.js";
import { applying, governing } from "../present.js";

export const CLEAN_MODES = ["remove", "status"] as const;
export type CleanMode = (typeof CLEAN_MODES)[number];

const STATUS_COLUMN = "rebound_status";
const REASON_COLUMN = "rebound_reason";

interface CleanQuery {
  stream?: string;
  mode: CleanMode;
  column?: string;
  header: boolean;
  invalid: "keep" | "remove";
}

export default async function clean(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  acceptBulkBodies(app);
  const cs = deps.config.caseSensitiveLocalPart;
  const index = app.suppressionIndex;
  const limits = bulkLimitsOf(deps.config);

  app.post<{ Querystring: CleanQuery }>(
    "/clean",
    {
      preHandler: requireScope("read"),
      config: { accepts: BULK_CONTENT_TYPES },
      schema: {
        tags: ["clean"],
        summary: "Clean a list before a campaign (CSV or NDJSON in, the same format out, streamed)",
        description: `Send \`text/csv\` (with a header row, unless \`header=false\`) or \`application/x-ndjson\`. The answer is the
same list: in mode \`remove\`, without the suppressed addresses; in mode \`status\`, every record with two more
columns (CSV) or fields (NDJSON): \`${STATUS_COLUMN}\` (\`ok\`, \`suppressed\` or \`invalid\`) and \`${REASON_COLUMN}\`
(the suppression's reason, or why the address is invalid). Records are passed on as they were written.`,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            stream: {
              type: "string",
              minLength: 1,
              maxLength: 100,
              description: "The stream the list is for; absent: suppressed in any stream counts",
            },
            mode: { type: "string", enum: [...CLEAN_MODES], default: "remove" },
            column: {
              type: "string",
              maxLength: 200,
              description:
                "The address column (CSV header name, or NDJSON field); default: email, address, ...",
            },
            header: {
              type: "boolean",
              default: true,
              description:
                "CSV: the first row is a header (if not, the address is the first column unless `column` is a 0-based index)",
            },
            invalid: {
              type: "string",
              enum: ["keep", "remove"],
              default: "keep",
              description: "Mode remove: also drop invalid addresses",
            },
          },
        },
        response: {
          400: { $ref: "Error#" },
          401: { $ref: "Error#" },
          413: { $ref: "Error#" },
          415: { $ref: "Error#" },
          429: { $ref: "Error#" },
        },
      },
    },
    async (request, reply) => {
      const format = beginBulk(app, request, reply, limits);
      const q = request.query;
      const tenant = request.auth.tenant;
      // A limit passed in the first batch is a 413; later, once the answer has begun, it ends the connection.
      const batches = bulkRecords(request.body as Readable, format, limits);
      const it = batches[Symbol.asyncIterator]();
      const first = await it.next();
      let firstBatch: BulkRecord[] = first.done ? [] : first.value;

      // CSV: find the address column before answering (a missing one is a 400, not a broken stream).
      let col = 0;
      let head = "";
      if (format === "csv") {
        if (q.header) {
          const h = firstBatch[0];
          if (h) {
            col = addressColumn(h.fields ?? [], q.column);
            head = q.mode === "status" ? `${h.raw},${STATUS_COLUMN},${REASON_COLUMN}\n` : `${h.raw}\n`;
            firstBatch = firstBatch.slice(1);
          }
        } else if (q.column !== undefined) {
          col = Number(q.column);
          if (!Number.isInteger(col) || col < 0) col = 0;
        }
      }

      const addressOf = (r: BulkRecord): unknown =>
        format === "csv" ? r.fields?.[col] : r.object ? addressOfObject(r.object, q.column) : undefined;

      async function cleanBatch(batch: BulkRecord[]): Promise<string> {
        const norm = batch.map((r) => {
          if (r.error) return { ok: false as const, error: r.errorCode ?? "unreadable", message: r.error };
          const v = addressOf(r);
          if (typeof v !== "string")
            return { ok: false as const, error: "no_address", message: "the record has no address" };
          return normalizeAddress(v, { caseSensitiveLocalPart: cs });
        });
        const hashes = norm.map((n) => (n.ok ? deps.hashAddress(n.address) : ""));
        const found = await index.lookup(
          tenant,
          hashes.filter((h) => h),
        );
        let out = "";
        for (let i = 0; i < batch.length; i++) {
          const r = batch[i]!;
          const n = norm[i]!;
          const top = n.ok ? governing(applying(found.get(hashes[i]!), q.stream)) : undefined;
          const status = !n.ok ? "invalid" : top ? "suppressed" : "ok";
          if (q.mode === "remove") {
            if (status === "suppressed" || (status === "invalid" && q.invalid === "remove")) continue;
            out += r.raw + "\n";
            continue;
          }
          const why = !n.ok ? n.error : (top?.reason ?? "");
          if (format === "csv") out += `${r.raw},${status},${csvField(why)}\n`;
          else if (r.object)
            out +=
              JSON.stringify({ ...r.object, [STATUS_COLUMN]: status, [REASON_COLUMN]: why || null }) + "\n";
          else
            out +=
              JSON.stringify({
                line: r.line,
                [STATUS_COLUMN]: "invalid",
                [REASON_COLUMN]: r.errorCode ?? "unreadable",
                error: r.error,
              }) + "\n";
        }
        return out;
      }

      async function* output(): AsyncGenerator<string> {
        if (head) yield head;
        if (firstBatch.length) yield await cleanBatch(firstBatch);
        for (;;) {
          const next = await it.next();
          if (next.done) return;
          yield await cleanBatch(next.value);
        }
      }

      reply.type(format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8");
      // A byte stream: it pulls the next page only when the last one has gone out (in object mode it would
      // read ahead 16 pages).
      return reply.send(Readable.from(output(), { objectMode: false }));
    },
  );
}
