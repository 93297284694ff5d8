// Importing a list of suppressions (CSV or NDJSON, streamed): each record checked on its own, valid ones
// written in batches, invalid ones reported by line. Shared by `POST /v1/suppressions/import` and
// `rebound suppressions import`.
import type { Readable } from "node:stream";
import type { Kysely } from "kysely";
import { normalizeAddress, type AddressHasher } from "../core/address.js";
import { CLASSES, classOf, REASONS, type BounceClass, type Reason } from "../core/report.js";
import type { Database } from "../store/schema.js";
import { importSuppressions, type ImportRow } from "../store/suppression-import.js";
import {
  addressColumn,
  addressOfObject,
  bulkRecords,
  type BulkFormat,
  type BulkLimits,
  type BulkRecord,
} from "./bulk.js";

export const MAX_LISTED_ERRORS = 1_000;
export const STREAM_RE = /^[A-Za-z0-9._:*-]{1,100}$/;

export interface RowError {
  line: number;
  code: string;
  message: string;
}

export interface ImportSummary {
  received: number;
  imported: number;
  unchanged: number;
  duplicates: number;
  invalid: number;
  errors: RowError[];
  errorsTruncated: boolean;
}

export interface ImportListOptions {
  format: BulkFormat;
  tenant: string;
  actor: string | null;
  /** For records that name none. */
  stream: string;
  reason: Reason;
  /** The address column (CSV) or field (NDJSON); default: email, address, ... */
  column?: string;
  caseSensitiveLocalPart: boolean;
  /** The keyed hash every table files addresses under. */
  hashAddress: AddressHasher;
  at: Date;
  batchSize?: number;
  /** What the body may hold (default: no byte limit, 64 Ki characters a record). */
  limits?: BulkLimits;
  /** Told of each batch written (the API's index learns of them at once). */
  onImported?: (tenant: string, addressHashes: string[]) => void;
}

export async function importList(
  db: Kysely<Database>,
  body: Readable,
  o: ImportListOptions,
): Promise<ImportSummary> {
  const summary: ImportSummary = {
    received: 0,
    imported: 0,
    unchanged: 0,
    duplicates: 0,
    invalid: 0,
    errors: [],
    errorsTruncated: false,
  };
  let cols: Record<string, number> | undefined;
  let addrCol = 0;

  const fail = (line: number, code: string, message: string): undefined => {
    summary.invalid++;
    if (summary.errors.length < MAX_LISTED_ERRORS) summary.errors.push({ line, code, message });
    else summary.errorsTruncated = true;
    return undefined;
  };

  const fieldsOf = (r: BulkRecord): Record<string, unknown> | undefined => {
    if (o.format === "ndjson") return r.object;
    const f: Record<string, unknown> = {};
    for (const [name, i] of Object.entries(cols!)) f[name] = r.fields?.[i];
    return f;
  };

  const rowOf = (r: BulkRecord): ImportRow | undefined => {
    if (r.error) return fail(r.line, r.errorCode ?? "unreadable", r.error);
    const f = fieldsOf(r);
    if (!f) return fail(r.line, "unreadable", "the record cannot be read");
    const rawAddress = o.format === "csv" ? r.fields?.[addrCol] : addressOfObject(f, o.column);
    if (typeof rawAddress !== "string") return fail(r.line, "no_address", "the record has no address");
    const n = normalizeAddress(rawAddress, { caseSensitiveLocalPart: o.caseSensitiveLocalPart });
    if (!n.ok) return fail(r.line, n.error, n.message);
    const str = (k: string) => {
      const v = f[k] ?? f[k.toLowerCase()]; // CSV header names are lower-cased
      return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
    };
    const stream = str("stream") ?? o.stream;
    if (!STREAM_RE.test(stream)) return fail(r.line, "bad_stream", `invalid stream "${stream}"`);
    const reason = (str("reason") ?? o.reason) as Reason;
    if (!(REASONS as readonly string[]).includes(reason))
      return fail(r.line, "bad_reason", `unknown reason "${reason}"`);
    const cls = (str("class") ?? classOf(reason)) as BounceClass;
    if (!(CLASSES as readonly string[]).includes(cls))
      return fail(r.line, "bad_class", `unknown class "${cls}"`);
    const time = (k: string): Date | null | false => {
      const v = str(k);
      if (v === undefined) return null;
      const d = new Date(v);
      return Number.isNaN(d.getTime()) ? false : d;
    };
    // Rebound's own export names (camelCase) or the snake_case of other providers' exports.
    const expiresKey = str("expiresAt") !== undefined ? "expiresAt" : "expires_at";
    const expiresAt = time(expiresKey);
    if (expiresAt === false)
      return fail(r.line, "bad_expires_at", `${expiresKey} is not a date: "${str(expiresKey)}"`);
    if (expiresAt && expiresAt.getTime() <= o.at.getTime())
      return fail(r.line, "expired", "expires_at has passed");
    const givenSince = time("since");
    const since =
      givenSince !== null
        ? givenSince
        : str("firstSeen") !== undefined
          ? time("firstSeen")
          : time("first_seen");
    if (since === false) return fail(r.line, "bad_since", "since is not a date");
    const note = str("note") ?? null;
    if (note && note.length > 1000)
      return fail(r.line, "bad_note", "the note is longer than 1000 characters");
    return {
      stream,
      address: n.address,
      addressHash: o.hashAddress(n.address),
      addressOriginal: rawAddress.trim(),
      reason,
      class: cls,
      expiresAt,
      note,
      since,
    };
  };

  for await (let batch of bulkRecords(body, o.format, o.limits, o.batchSize ?? 1_000)) {
    if (o.format === "csv" && !cols) {
      const header = batch[0]!.fields ?? [];
      addrCol = addressColumn(header, o.column);
      const c: Record<string, number> = {};
      header.forEach((h, i) => (c[h.trim().toLowerCase()] = i));
      cols = c;
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
    const added = await importSuppressions(db, o.tenant, rows, o.actor, o.at);
    o.onImported?.(
      o.tenant,
      rows.map((r) => r.addressHash),
    );
    summary.imported += added;
    summary.unchanged += rows.length - added;
  }
  return summary;
}
