// Importing what was sent (POST /v1/sends, `rebound sends import`): records checked one by one
// (src/core/send-record.ts), messages staged as they stream in (PostgreSQL: COPY into a temporary table, recorded
// and counted by one INSERT ... SELECT at the end; PGlite: written in chunks, each one statement), counts summed
// and written at the end under their batch id, in one transaction.
//
// Idempotent: a message is recorded once per tenant and Message-ID (a retried upload's messages are
// `duplicates`); counts are recorded once per batch id (a retried batch's counts are `duplicates`), so counts
// need a batch id. A bad record is reported by its line and loses nothing else.
import type { Kysely } from "kysely";
import { providerOf } from "../core/provider.js";
import { type RollupIncrement } from "../core/rollup.js";
import {
  checkSendRecord,
  type SendErrorCode,
  type SendMessage,
  type SendRules,
} from "../core/send-record.js";
import { pgPoolOf } from "../store/db.js";
import type { Database } from "../store/schema.js";
import {
  insertSendCounts,
  insertSends,
  sendBatchExists,
  stageSends,
  totalSent,
  type SendRow,
  type SentCount,
} from "../store/sends.js";
import { linesOf, type Line } from "../util/lines.js";
import type { ProviderLookup } from "./provider-resolver.js";

export const MAX_LISTED_ERRORS = 1_000;
/** The longest NDJSON line read (a record is a few hundred bytes). */
export const MAX_LINE_BYTES = 64 * 1024;

export interface SendsSummary {
  received: number;
  /** Messages recorded now. */
  accepted: number;
  /** Counts records added to the rollups now. */
  counted: number;
  /** Messages already recorded (by Message-ID), or counts of a batch already recorded. */
  duplicates: number;
  invalid: number;
  errors: { line: number; code: SendErrorCode; message: string }[];
  errorsTruncated: boolean;
  batchId: string | null;
  /** The batch id had been recorded before: its counts were not added again. */
  batchDuplicate: boolean;
}

/** A record of the upload: its line (NDJSON) or place (JSON, from 1), and the object or why it is none. */
export interface SendInput {
  line: number;
  record?: Record<string, unknown>;
  error?: { code: SendErrorCode; message: string };
}

export interface ImportSendsOptions extends Omit<SendRules, "now"> {
  tenant: string;
  now: Date;
  batchId?: string;
  providers?: ProviderLookup;
  /** Messages written per statement. */
  chunkSize?: number;
  /** Told what was newly counted as sent, per stream and provider, once it is committed (metrics). */
  onSent?: (counts: SentCount[]) => void;
}

/** The records of an NDJSON stream (empty lines skipped), a chunk's worth at a time. */
export async function* ndjsonSends(source: AsyncIterable<Buffer | string>): AsyncGenerator<SendInput[]> {
  for await (const lines of linesOf(source, MAX_LINE_BYTES)) yield lines.flatMap(readLine);
}

function readLine(l: Line): SendInput[] {
  {
    if ("tooLong" in l) {
      return [
        {
          line: l.line,
          error: {
            code: "line_too_long",
            message: `the line is ${l.tooLong} bytes long (at most ${MAX_LINE_BYTES}); skipped`,
          },
        },
      ];
    }
    if (l.text.trim() === "") return [];
    let v: unknown;
    try {
      v = JSON.parse(l.text);
    } catch (e) {
      return [
        {
          line: l.line,
          error: {
            code: "unreadable",
            message: `the line is not valid JSON: ${e instanceof Error ? e.message : String(e)}`,
          },
        },
      ];
    }
    if (v && typeof v === "object" && !Array.isArray(v))
      return [{ line: l.line, record: v as Record<string, unknown> }];
    return [{ line: l.line, error: { code: "unreadable", message: "the line is not a JSON object" } }];
  }
}

/** The records of a JSON array, numbered from 1 (one batch). */
export function jsonSends(records: unknown[]): SendInput[][] {
  return [
    records.map((v, i) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? { line: i + 1, record: v as Record<string, unknown> }
        : { line: i + 1, error: { code: "unreadable" as const, message: "the record is not a JSON object" } },
    ),
  ];
}

export async function importSends(
  db: Kysely<Database>,
  inputs: AsyncIterable<SendInput[]> | Iterable<SendInput[]>,
  o: ImportSendsOptions,
): Promise<SendsSummary> {
  const summary: SendsSummary = {
    received: 0,
    accepted: 0,
    counted: 0,
    duplicates: 0,
    invalid: 0,
    errors: [],
    errorsTruncated: false,
    batchId: o.batchId ?? null,
    batchDuplicate: o.batchId ? await sendBatchExists(db, o.tenant, o.batchId) : false,
  };
  const fail = (line: number, code: SendErrorCode, message: string) => {
    summary.invalid++;
    if (summary.errors.length < MAX_LISTED_ERRORS) summary.errors.push({ line, code, message });
    else summary.errorsTruncated = true;
  };
  const chunkSize = o.chunkSize ?? 5_000;
  const rules: SendRules = {
    now: o.now,
    streams: o.streams,
    caseSensitiveLocalPart: o.caseSensitiveLocalPart,
  };

  // PostgreSQL: the messages staged by COPY on one connection and recorded at the end by one statement; PGlite:
  // written in chunks, each one statement, two at most at once while the next one is read.
  const pool = pgPoolOf(db);
  const stage = pool ? await stageSends(db, pool, o.tenant) : undefined;
  let staged = 0;
  let chunk: SendMessage[] = [];
  const writing: Promise<void>[] = [];
  const flush = async () => {
    const rows = chunk;
    chunk = [];
    if (writing.length >= 2) await writing.shift();
    if (!rows.length) return;
    const write = (async () => {
      const providers = await providersOf(
        o.providers,
        rows.map((r) => r.recipientDomain),
      );
      const sendRows: SendRow[] = rows.map((r) => ({
        messageId: r.messageId,
        stream: r.stream,
        campaign: r.campaign,
        sendingIp: r.sendingIp,
        recipientDomain: r.recipientDomain,
        provider: providers(r.recipientDomain),
        sentAt: r.sentAt,
        sendingDomain: r.sendingDomain,
      }));
      if (stage) {
        await stage.add(sendRows);
        staged += sendRows.length;
        return;
      }
      const sent = await insertSends(db, o.tenant, sendRows);
      o.onSent?.(sent);
      const added = totalSent(sent);
      summary.accepted += added;
      summary.duplicates += rows.length - added;
    })();
    // Awaited later; a failure meanwhile must not be an unhandled rejection.
    write.catch(() => undefined);
    writing.push(write);
    // The stage takes one chunk at a time, in order.
    if (stage) await writing.shift();
  };

  /** The counts records, summed per key as they come (memory: one entry per key, not per record). */
  type Pending = Omit<RollupIncrement, "provider"> & { provider?: string; domain?: string };
  const counts = new Map<string, Pending>();
  let countRecords = 0;
  try {
    for await (const batch of inputs)
      for (const input of batch) {
        summary.received++;
        if (input.error) {
          fail(input.line, input.error.code, input.error.message);
          continue;
        }
        const c = checkSendRecord(input.record!, rules);
        if (c.type === "error") {
          fail(input.line, c.code, c.message);
          continue;
        }
        if (c.type === "message") {
          chunk.push(c);
          if (chunk.length >= chunkSize) await flush();
          continue;
        }
        if (!o.batchId) {
          fail(
            input.line,
            "batch_id_required",
            "a counts record needs the upload's batch id (`?batchId=`), so that a retried upload does not count twice",
          );
          continue;
        }
        countRecords++;
        const key = JSON.stringify([
          c.hour.getTime(),
          c.stream,
          c.provider ?? null,
          c.recipientDomain ?? null,
          c.campaign,
          c.sendingIp,
        ]);
        const had = counts.get(key);
        if (had) had.counts.sent! += c.count;
        else
          counts.set(key, {
            tenant: o.tenant,
            hour: c.hour,
            stream: c.stream,
            provider: c.provider,
            domain: c.recipientDomain,
            campaign: c.campaign,
            sendingIp: c.sendingIp,
            counts: { sent: c.count },
          });
      }
    await flush();
    for (const w of writing.splice(0)) await w;
    if (stage) {
      const sent = await stage.finish();
      o.onSent?.(sent);
      const added = totalSent(sent);
      summary.accepted += added;
      summary.duplicates += staged - added;
    }
  } catch (err) {
    await stage?.abort();
    throw err;
  }

  if (o.batchId && !summary.batchDuplicate) {
    const pending = [...counts.values()];
    const providers = await providersOf(
      o.providers,
      pending.flatMap((c) => (c.domain ? [c.domain] : [])),
    );
    const incs: RollupIncrement[] = pending.map(({ domain, ...inc }) => ({
      ...inc,
      provider: inc.provider ?? providers(domain!),
    }));
    const made = await insertSendCounts(db, o.tenant, o.batchId, incs, countRecords);
    if (made) {
      summary.counted += countRecords;
      o.onSent?.(incs.map((i) => ({ stream: i.stream, provider: i.provider, n: i.counts.sent ?? 0 })));
    } else {
      summary.batchDuplicate = true;
      summary.duplicates += countRecords;
    }
  } else summary.duplicates += countRecords;
  return summary;
}

/** A function from a domain to its provider: the resolver's answers for those domains, else the table's. */
async function providersOf(
  lookup: ProviderLookup | undefined,
  domains: string[],
): Promise<(domain: string) => string> {
  if (!lookup) return providerOf;
  const resolved = await lookup.resolveAll(new Set(domains));
  return (d) => resolved.get(d) ?? providerOf(d);
}
