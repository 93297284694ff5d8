// Streamed bulk bodies (CSV or NDJSON) read as batches of records with a line number, for list cleaning
// and imports. The body is never held whole: at most one chunk and one batch are in memory.
import type { FastifyInstance } from "fastify";
import type { Readable } from "node:stream";
import { CsvReader } from "./csv.js";
import { BODY_CONTROL, controlIn, controlMessage } from "./edge.js";
import { ApiError } from "./errors.js";

export const BULK_FORMATS = ["csv", "ndjson"] as const;
export type BulkFormat = (typeof BULK_FORMATS)[number];

const CSV_TYPES = ["text/csv", "application/csv"];
const NDJSON_TYPES = [
  "application/x-ndjson",
  "application/ndjson",
  "application/jsonl",
  "application/x-jsonlines",
];
/** The content types of a bulk body, for the route's `config.accepts` (named in 415 answers). */
export const BULK_CONTENT_TYPES = [...CSV_TYPES, ...NDJSON_TYPES] as const;

/** Let a scope take CSV and NDJSON bodies as streams (no body limit: they are read as they come). */
export function acceptBulkBodies(app: FastifyInstance): void {
  app.addContentTypeParser([...CSV_TYPES, ...NDJSON_TYPES], (_req, payload, done) => done(null, payload));
}

export function bulkFormatOf(contentType: string | undefined): BulkFormat {
  const t = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (CSV_TYPES.includes(t)) return "csv";
  if (NDJSON_TYPES.includes(t)) return "ndjson";
  throw new ApiError(
    415,
    "unsupported_media_type",
    `the content type "${contentType ?? ""}" is not accepted here: send the list as text/csv or application/x-ndjson`,
    { accepted: BULK_CONTENT_TYPES },
    { "accept-post": BULK_CONTENT_TYPES.join(", ") },
  );
}

export interface BulkRecord {
  /** 1-based line of the record in the body (CSV: the header is line 1). */
  line: number;
  /** CSV: the fields. */
  fields?: string[];
  /** NDJSON: the parsed object (undefined when the line is not a JSON object). */
  object?: Record<string, unknown>;
  /** Why the record cannot be used (an NDJSON line that is not a JSON object; a control character). */
  error?: string;
  /** Its code: `unreadable` or `control_character`. */
  errorCode?: "unreadable" | "control_character";
  /** The record's exact text. */
  raw: string;
}

/** Batches of records of a streamed body (empty lines skipped). */
export async function* bulkRecords(
  body: Readable,
  format: BulkFormat,
  batchSize = 2_000,
): AsyncGenerator<BulkRecord[]> {
  body.setEncoding("utf8");
  let batch: BulkRecord[] = [];
  let line = 0;
  if (format === "csv") {
    const reader = new CsvReader();
    const take = function* (recs: ReturnType<CsvReader["push"]>) {
      for (const r of recs) {
        line++;
        if (r.raw === "") continue;
        batch.push(
          BODY_CONTROL.test(r.raw)
            ? {
                line,
                fields: r.fields,
                raw: r.raw,
                error: controlMessage("the record"),
                errorCode: "control_character" as const,
              }
            : { line, fields: r.fields, raw: r.raw },
        );
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
    };
    for await (const chunk of body as AsyncIterable<string>) yield* take(reader.push(chunk));
    yield* take(reader.end());
  } else {
    let rest = "";
    const take = function* (lines: string[]) {
      for (let raw of lines) {
        line++;
        if (raw.endsWith("\r")) raw = raw.slice(0, -1);
        if (raw.trim() === "") continue;
        let object: Record<string, unknown> | undefined;
        let error: string | undefined;
        let errorCode: BulkRecord["errorCode"] = "unreadable";
        try {
          const v: unknown = JSON.parse(raw);
          if (!v || typeof v !== "object" || Array.isArray(v)) error = "the line is not a JSON object";
          // The text of the line holds every string of the object (escaped or not): a control character in any
          // of them shows in the parsed strings.
          else if (controlIn(v) !== undefined) {
            error = controlMessage("the line");
            errorCode = "control_character";
          } else object = v as Record<string, unknown>;
        } catch (e) {
          error = `the line is not valid JSON: ${e instanceof Error ? e.message : String(e)}`;
        }
        batch.push(error ? { line, error, errorCode, raw } : { line, object, raw });
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
    };
    for await (const chunk of body as AsyncIterable<string>) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      yield* take(parts);
    }
    if (rest !== "") yield* take([rest]);
  }
  if (batch.length) yield batch;
}

const ADDRESS_NAMES = ["email", "address", "email_address", "emailaddress", "e-mail", "mail", "recipient"];

/** The index of the address column of a CSV header: the one named, or the first with a usual name. */
export function addressColumn(header: string[], named: string | undefined): number {
  const names = header.map((h) => h.trim().toLowerCase());
  if (named !== undefined) {
    const i = names.indexOf(named.trim().toLowerCase());
    if (i < 0)
      throw new ApiError(400, "validation_failed", `the CSV header has no column "${named}"`, { header });
    return i;
  }
  const i = names.findIndex((n) => ADDRESS_NAMES.includes(n));
  if (i < 0)
    throw new ApiError(
      400,
      "validation_failed",
      `the CSV header names no address column (one of ${ADDRESS_NAMES.join(", ")}; or say which with ?column=)`,
      { header },
    );
  return i;
}

/** The address of an NDJSON object: the field named, or the first usual one present. */
export function addressOfObject(o: Record<string, unknown>, named: string | undefined): unknown {
  if (named !== undefined) return o[named];
  for (const n of ADDRESS_NAMES) if (n in o) return o[n];
  return undefined;
}
