// Streamed bulk bodies (CSV or NDJSON) read as batches of records with a line number, for list cleaning
// and imports. The body is never held whole: at most one chunk and one batch are in memory.
import type { FastifyInstance } from "fastify";
import type { Readable } from "node:stream";
import { CsvReader } from "./csv.js";
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

/** Let a scope take CSV and NDJSON bodies as streams (no body limit: they are read as they come). */
export function acceptBulkBodies(app: FastifyInstance): void {
  app.addContentTypeParser([...CSV_TYPES, ...NDJSON_TYPES], (_req, payload, done) => done(null, payload));
}

export function bulkFormatOf(contentType: string | undefined): BulkFormat {
  const t = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (CSV_TYPES.includes(t)) return "csv";
  if (NDJSON_TYPES.includes(t)) return "ndjson";
  throw new ApiError(415, "unsupported_media_type", "send the list as text/csv or application/x-ndjson");
}

export interface BulkRecord {
  /** 1-based line of the record in the body (CSV: the header is line 1). */
  line: number;
  /** CSV: the fields. */
  fields?: string[];
  /** NDJSON: the parsed object (undefined when the line is not a JSON object). */
  object?: Record<string, unknown>;
  /** Why an NDJSON line could not be read. */
  error?: string;
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
        batch.push({ line, fields: r.fields, raw: r.raw });
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
        try {
          const v: unknown = JSON.parse(raw);
          if (v && typeof v === "object" && !Array.isArray(v)) object = v as Record<string, unknown>;
          else error = "the line is not a JSON object";
        } catch (e) {
          error = `the line is not valid JSON: ${e instanceof Error ? e.message : String(e)}`;
        }
        batch.push({ line, object, error, raw });
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
