// Imports: a list of suppressions (CSV or NDJSON, millions of rows, streamed) moved over from a hosted
// provider. Valid rows are kept (in batches), invalid ones reported by line; one bad row aborts nothing.
import type { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { hashAddress, normalizeAddress } from "../../core/address.js";
import { CLASSES, classOf, REASONS, type BounceClass, type Reason } from "../../core/report.js";
import { importSuppressions, type ImportRow } from "../../store/suppression-import.js";
import { requireScope } from "../auth.js";
import {
  acceptBulkBodies,
  addressColumn,
  addressOfObject,
  bulkFormatOf,
  bulkRecords,
  type BulkRecord,
} from "../bulk.js";
import type { ApiDeps } from "../deps.js";

const MAX_LISTED_ERRORS = 1_000;
const STREAM_RE = /^[A-Za-z0-9._:*-]{1,100}$/;

interface ImportQuery {
  stream: string;
  reason: Reason;
  column?: string;
}

export interface RowError {
  line: number;
  code: string;
  message: string;
}

export default async function imports(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  acceptBulkBodies(app);
  const now = deps.now ?? (() => new Date());
  const cs = deps.config.caseSensitiveLocalPart;
  const index = app.suppressionIndex;

  app.post<{ Querystring: ImportQuery }>(
    "/suppressions/import",
    {
      preHandler: requireScope("write"),
      schema: {
        tags: ["suppressions"],
        summary: "Import suppressions (CSV or NDJSON, streamed; per-row errors, valid rows kept)",
        description: `CSV with a header row, or NDJSON objects. Fields: the address (\`email\`, \`address\`, ... or \`column\`),
and optionally \`stream\`, \`reason\` (one of Rebound's reasons), \`class\`, \`expires_at\`, \`since\` (when the
provider suppressed it), \`note\`. A suppression already in force is kept as it is (\`unchanged\`).`,
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
          200: {
            type: "object",
            properties: {
              received: { type: "integer" },
              imported: { type: "integer" },
              unchanged: { type: "integer", description: "Already suppressed" },
              duplicates: { type: "integer", description: "Repeated close by within the body" },
              invalid: { type: "integer" },
              errors: {
                type: "array",
                items: {
                  type: "object",
                  properties: {
                    line: { type: "integer" },
                    code: { type: "string" },
                    message: { type: "string" },
                  },
                },
              },
              errorsTruncated: { type: "boolean" },
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
      const format = bulkFormatOf(request.headers["content-type"]);
      const q = request.query;
      const tenant = request.auth.tenant;
      const actor = request.auth.keyId;
      const at = now();
      const summary = {
        received: 0,
        imported: 0,
        unchanged: 0,
        duplicates: 0,
        invalid: 0,
        errors: [] as RowError[],
        errorsTruncated: false,
      };
      let cols: Record<string, number> | undefined;
      let addrCol = 0;

      const fail = (line: number, code: string, message: string) => {
        summary.invalid++;
        if (summary.errors.length < MAX_LISTED_ERRORS) summary.errors.push({ line, code, message });
        else summary.errorsTruncated = true;
      };

      const fieldsOf = (r: BulkRecord): Record<string, unknown> | undefined => {
        if (format === "ndjson") return r.object;
        const o: Record<string, unknown> = {};
        for (const [name, i] of Object.entries(cols!)) o[name] = r.fields?.[i];
        o.__address = r.fields?.[addrCol];
        return o;
      };

      const rowOf = (r: BulkRecord): ImportRow | undefined => {
        const f = fieldsOf(r);
        if (!f) return void fail(r.line, "unreadable", r.error ?? "the record cannot be read");
        const rawAddress = format === "csv" ? f.__address : addressOfObject(f, q.column);
        if (typeof rawAddress !== "string")
          return void fail(r.line, "no_address", "the record has no address");
        const n = normalizeAddress(rawAddress, { caseSensitiveLocalPart: cs });
        if (!n.ok) return void fail(r.line, n.error, n.message);
        const str = (k: string) =>
          typeof f[k] === "string" && (f[k] as string).trim() !== "" ? (f[k] as string).trim() : undefined;
        const stream = str("stream") ?? q.stream;
        if (!STREAM_RE.test(stream)) return void fail(r.line, "bad_stream", `invalid stream "${stream}"`);
        const reason = (str("reason") ?? q.reason) as Reason;
        if (!(REASONS as readonly string[]).includes(reason))
          return void fail(r.line, "bad_reason", `unknown reason "${reason}" (known: ${REASONS.join(", ")})`);
        const cls = (str("class") ?? classOf(reason)) as BounceClass;
        if (!(CLASSES as readonly string[]).includes(cls))
          return void fail(r.line, "bad_class", `unknown class "${cls}"`);
        const time = (k: string): Date | null | false => {
          const v = str(k);
          if (v === undefined) return null;
          const d = new Date(v);
          return Number.isNaN(d.getTime()) ? false : d;
        };
        const expiresAt = time("expires_at");
        if (expiresAt === false)
          return void fail(r.line, "bad_expires_at", `expires_at is not a date: "${str("expires_at")}"`);
        if (expiresAt && expiresAt.getTime() <= at.getTime())
          return void fail(r.line, "expired", "expires_at has passed");
        const since = time("since") ?? time("first_seen");
        if (since === false) return void fail(r.line, "bad_since", "since is not a date");
        const note = str("note") ?? null;
        if (note && note.length > 1000)
          return void fail(r.line, "bad_note", "the note is longer than 1000 characters");
        return {
          stream,
          address: n.address,
          addressHash: hashAddress(n.address),
          addressOriginal: rawAddress.trim(),
          reason,
          class: cls,
          expiresAt,
          note,
          since,
        };
      };

      for await (let batch of bulkRecords(request.body as Readable, format, 1_000)) {
        if (format === "csv" && !cols) {
          const header = batch[0]!;
          addrCol = addressColumn(header.fields ?? [], q.column);
          cols = {};
          (header.fields ?? []).forEach((h, i) => (cols![h.trim().toLowerCase()] = i));
          batch = batch.slice(1);
        }
        // Repeats within a batch are dropped here; a repeat in a later batch finds the row in force (unchanged).
        const seen = new Set<string>();
        const rows: ImportRow[] = [];
        for (const r of batch) {
          summary.received++;
          const row = rowOf(r);
          if (!row) continue;
          const key = `${row.stream}\u0000${row.addressHash}`;
          if (seen.has(key)) {
            summary.duplicates++;
            continue;
          }
          seen.add(key);
          rows.push(row);
        }
        const added = await importSuppressions(deps.db, tenant, rows, actor, at);
        for (const r of rows) index.note(tenant, r.addressHash);
        summary.imported += added;
        summary.unchanged += rows.length - added;
      }
      return summary;
    },
  );
}
