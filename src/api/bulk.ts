// Streamed bulk bodies (CSV or NDJSON) read as batches of records with a line number, for list cleaning
// and imports. The body is never held whole: at most one chunk and one batch are in memory.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { StringDecoder } from "node:string_decoder";
import { CsvError, parse } from "csv-parse";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../config.js";
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

/**
 * At most `max` bulk requests (list cleaning, imports) at once in this API process; beyond, 429 with
 * Retry-After. Each one holds a parser, a batch and database queries for as long as its client sends.
 */
export class BulkGate {
  private running = 0;

  constructor(private readonly max: number) {}

  /** Count the request in until its response is done or its connection gone, or throw the 429. */
  enter(reply: FastifyReply): void {
    if (this.max > 0 && this.running >= this.max)
      throw new ApiError(
        429,
        "too_many_bulk_requests",
        `${this.max} list cleanings or imports are already running in this API process; try again shortly`,
        { maxBulkRequests: this.max },
        { "retry-after": "5" },
      );
    this.running++;
    // Out once, when the answer has gone out or the connection is gone, whichever comes first (a body left
    // unread after an early error can keep the response from closing for a while).
    let out = false;
    const leave = () => {
      if (!out) {
        out = true;
        this.running--;
      }
    };
    reply.raw.once("finish", leave);
    reply.raw.once("close", leave);
  }
}

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
  /** 1-based line of the record in the body (CSV: the header is line 1; a record over several lines: its first). */
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

/** What one bulk body may hold. */
export interface BulkLimits {
  /** Bytes of the whole body (Infinity: no limit). */
  maxBytes: number;
  /** Characters of one record (a CSV record or an NDJSON line). */
  maxRecordChars: number;
}

export const DEFAULT_BULK_LIMITS: BulkLimits = { maxBytes: Infinity, maxRecordChars: 65_536 };

const tooLarge = (maxBytes: number) =>
  new ApiError(
    413,
    "payload_too_large",
    `the body is larger than ${maxBytes} bytes (REBOUND_API_BULK_MAX_BYTES): send the list in parts`,
    { maxBytes },
  );

const recordTooLong = (line: number, maxRecordChars: number) =>
  new ApiError(
    413,
    "payload_too_large",
    `line ${line}: a record longer than ${maxRecordChars} characters (REBOUND_API_BULK_MAX_RECORD_CHARS)`,
    { line, maxRecordChars },
  );

/** The limits of bulk bodies in effect (REBOUND_API_BULK_MAX_BYTES, REBOUND_API_BULK_MAX_RECORD_CHARS). */
export const bulkLimitsOf = (
  config: Pick<Config, "apiBulkMaxBytes" | "apiBulkMaxRecordChars">,
): BulkLimits => ({
  maxBytes: config.apiBulkMaxBytes,
  maxRecordChars: config.apiBulkMaxRecordChars,
});

/**
 * The start of a bulk request, before its body is read: its format (a 415 when neither), its announced length
 * (a 413 over the limit), and its place among the bulk requests at a time (app.bulkGate).
 */
export function beginBulk(
  app: FastifyInstance,
  request: FastifyRequest,
  reply: FastifyReply,
  limits: BulkLimits,
): BulkFormat {
  const format = bulkFormatOf(request.headers["content-type"]);
  checkBulkLength(request.headers["content-length"], limits);
  app.bulkGate.enter(reply);
  return format;
}

/** Refuse a body whose announced length is over the limit, before reading it. */
export function checkBulkLength(contentLength: string | undefined, limits: BulkLimits): void {
  if (contentLength !== undefined && Number(contentLength) > limits.maxBytes) throw tooLarge(limits.maxBytes);
}

/** The body's chunks as text, failing once more than `maxBytes` have come (chunked bodies announce no length). */
async function* textOf(body: Readable, maxBytes: number): AsyncGenerator<string> {
  const decoder = new StringDecoder("utf8");
  let bytes = 0;
  for await (const chunk of body as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    bytes += buf.length;
    if (bytes > maxBytes) throw tooLarge(maxBytes);
    const text = decoder.write(buf);
    if (text) yield text;
  }
  const rest = decoder.end();
  if (rest) yield rest;
}

/**
 * Batches of records of a streamed body (empty lines skipped). CSV is read by csv-parse (a streaming state
 * machine: linear in the body whatever it holds; quotes inside an unquoted field are ordinary characters), NDJSON
 * by a newline scan that looks at each character once. A record over `maxRecordChars` or a body over `maxBytes`
 * fails with a 413 naming its line; so does a quoted field that is never closed.
 */
export async function* bulkRecords(
  body: Readable,
  format: BulkFormat,
  limits: BulkLimits = DEFAULT_BULK_LIMITS,
  batchSize = 2_000,
): AsyncGenerator<BulkRecord[]> {
  const text = textOf(body, limits.maxBytes);
  if (format === "csv") yield* csvBatches(text, limits.maxRecordChars, batchSize);
  else yield* ndjsonBatches(text, limits.maxRecordChars, batchSize);
}

async function* csvBatches(
  text: AsyncGenerator<string>,
  maxRecordChars: number,
  batchSize: number,
): AsyncGenerator<BulkRecord[]> {
  const parser = parse({
    bom: true,
    raw: true,
    relax_quotes: true,
    relax_column_count: true,
    skip_empty_lines: false,
    record_delimiter: ["\r\n", "\n"],
    max_record_size: maxRecordChars,
  });
  // The body goes in with backpressure; a failure of either side ends the other.
  const feeding = pipeline(Readable.from(text, { objectMode: false }), parser);
  feeding.catch(() => undefined);
  let batch: BulkRecord[] = [];
  // Lines are counted here (csv-parse's `info` costs a third of its time): a record takes its own line breaks
  // (inside quotes) and the one that ends it.
  let lastLine = 0;
  try {
    for await (const r of parser as AsyncIterable<{ record: string[]; raw: string }>) {
      const line = lastLine + 1;
      // raw ends with (part of) the line break; a record's own text cannot end with CR or LF.
      let end = r.raw.length;
      while (end > 0 && (r.raw.charCodeAt(end - 1) === 10 || r.raw.charCodeAt(end - 1) === 13)) end--;
      const raw = r.raw.slice(0, end);
      lastLine = line + countLineBreaks(raw);
      if (end === 0) continue;
      batch.push(
        BODY_CONTROL.test(raw)
          ? {
              line,
              fields: r.record,
              raw,
              error: controlMessage("the record"),
              errorCode: "control_character",
            }
          : { line, fields: r.record, raw },
      );
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    await feeding;
  } catch (err) {
    throw csvError(err, lastLine + 1, maxRecordChars);
  } finally {
    parser.destroy();
  }
  if (batch.length) yield batch;
}

function countLineBreaks(s: string): number {
  let n = 0;
  for (let k = s.indexOf("\n"); k >= 0; k = s.indexOf("\n", k + 1)) n++;
  return n;
}

/** An ApiError for what csv-parse or the body reader threw. */
function csvError(err: unknown, line: number, maxRecordChars: number): unknown {
  if (err instanceof ApiError) return err;
  if (err instanceof CsvError) {
    // Where the parser was (records it had read but not handed out yet are ahead of `line`).
    const at = (err as CsvError & { lines?: number }).lines;
    if (typeof at === "number" && at > 0) line = at;
    if (err.code === "CSV_MAX_RECORD_SIZE") return recordTooLong(line, maxRecordChars);
    return new ApiError(400, "bad_request", `line ${line}: the CSV cannot be read: ${err.message}`, {
      line,
      csvError: err.code,
    });
  }
  return err;
}

async function* ndjsonBatches(
  text: AsyncGenerator<string>,
  maxRecordChars: number,
  batchSize: number,
): AsyncGenerator<BulkRecord[]> {
  let batch: BulkRecord[] = [];
  let line = 0;
  // The start of a line whose end has not come yet, in pieces (joined once, when it ends).
  let pending: string[] = [];
  let pendingChars = 0;
  const take = (raw: string) => {
    line++;
    if (raw.endsWith("\r")) raw = raw.slice(0, -1);
    if (raw.trim() === "") return;
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
  };
  for await (const chunk of text) {
    let from = 0;
    for (let nl = chunk.indexOf("\n"); nl >= 0; nl = chunk.indexOf("\n", from)) {
      const piece = chunk.slice(from, nl);
      if (pendingChars + piece.length > maxRecordChars + 1) throw recordTooLong(line + 1, maxRecordChars);
      take(pending.length ? pending.join("") + piece : piece);
      pending = [];
      pendingChars = 0;
      from = nl + 1;
    }
    if (from < chunk.length) {
      pending.push(chunk.slice(from));
      pendingChars += chunk.length - from;
      if (pendingChars > maxRecordChars + 1) throw recordTooLong(line + 1, maxRecordChars);
    }
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (pending.length) take(pending.join(""));
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
