// `rebound ingest postfix-log`: Postfix's log lines -> delivery records -> events through the same policy as
// bounces that arrive by mail. Each batch of lines is one transaction, which also moves the follower's saved
// position past those lines: a crash or a restart neither loses a line nor counts one twice.
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import type { AddressHasher } from "../../core/address.js";
import type { Logger } from "../../log.js";
import { MAX_LINE, PostfixLogReader, type PostfixReaderState } from "../../core/postfix-log.js";
import type { Policy } from "../../core/policy-config.js";
import { providerOf } from "../../core/provider.js";
import { hourOf, RollupCollector } from "../../core/rollup.js";
import type { Db } from "../../store/db.js";
import { getLogPosition, saveLogPosition } from "../../store/log-positions.js";
import { addToRollups } from "../../store/rollups.js";
import {
  applyInBulk,
  applyWithHistories,
  bulkableWithHistory,
  type BulkItem,
} from "../../worker/apply-bulk.js";
import { eventOfDelivery, LOG_SKIPS, type LogAttribution, type LogSkip } from "./log-events.js";
import { readLogLines, type FilePosition } from "./log-file.js";
import { journalPositionName, readJournal, type JournalSource } from "./journal.js";

export interface IngestCounts {
  lines: number;
  sent: number;
  bounced: number;
  deferred: number;
  expired: number;
  skipped: Record<LogSkip, number>;
  events: number;
}

export interface IngestOptions {
  attribution: LogAttribution;
  follow?: boolean;
  /** The saved position's name (default: the file's path; for the journal, `journal:` + units `@` directory). */
  positionName?: string;
  pollMs?: number;
  signal?: AbortSignal;
  /** After each committed batch (progress, tests). */
  onBatch?: (counts: IngestCounts) => void;
}

export interface IngestDeps {
  db: Db;
  policy: Policy;
  /** The keyed hash every table files addresses under. */
  hashAddress: AddressHasher;
  logger: Logger;
  now: () => Date;
}

const newCounts = (): IngestCounts => ({
  lines: 0,
  sent: 0,
  bounced: 0,
  deferred: 0,
  expired: 0,
  skipped: Object.fromEntries(LOG_SKIPS.map((s) => [s, 0])) as Record<LogSkip, number>,
  events: 0,
});

/**
 * A file (followed or read once, from its saved position), journald (`journalctl`, followed or read once, from
 * its saved cursor) or a stream (read once: `-`).
 */
export async function ingestPostfixLog(
  deps: IngestDeps,
  source: { path: string } | { stream: Readable } | { journal: JournalSource },
  opts: IngestOptions,
): Promise<IngestCounts> {
  const counts = newCounts();
  if ("journal" in source) {
    // The position's file_id holds the cursor of the last entry taken (offset unused).
    const name = opts.positionName ?? journalPositionName(source.journal);
    const saved = await getLogPosition(deps.db, name);
    const reader = new PostfixLogReader(100_000, saved?.state as PostfixReaderState | undefined);
    const before = saved?.lines ?? 0;
    for await (const batch of readJournal(source.journal, saved?.fileId, {
      follow: opts.follow ?? false,
      maxLines: 5000,
      signal: opts.signal,
      onWarning: (said) => deps.logger.warn({ journalctl: said }, "journalctl says"),
    }))
      await commit(deps, reader, batch.lines, opts, counts, {
        name,
        position: { fileId: batch.cursor, offset: 0 },
        before,
      });
    return counts;
  }
  if ("stream" in source) {
    const reader = new PostfixLogReader();
    let lines: string[] = [];
    for await (const line of createInterface({ input: source.stream, crlfDelay: Infinity })) {
      lines.push(line.length > MAX_LINE ? line.slice(0, MAX_LINE) : line);
      if (lines.length >= 5000) {
        await commit(deps, reader, lines, opts, counts);
        lines = [];
      }
    }
    if (lines.length) await commit(deps, reader, lines, opts, counts);
    return counts;
  }
  const name = opts.positionName ?? source.path;
  const saved = await getLogPosition(deps.db, name);
  const reader = new PostfixLogReader(100_000, saved?.state as PostfixReaderState | undefined);
  /** Lines read under this position before this run (kept with it). */
  const before = saved?.lines ?? 0;
  const from = saved && { fileId: saved.fileId, offset: saved.offset };
  for await (const batch of readLogLines(source.path, from, {
    follow: opts.follow ?? false,
    pollMs: opts.pollMs ?? 250,
    chunkBytes: 1 << 20,
    maxLine: MAX_LINE,
    signal: opts.signal,
  })) {
    if (batch.restarted)
      deps.logger.warn(
        { file: source.path, why: batch.restarted },
        "the log was rotated or truncated while not followed: lines written meanwhile may be missed",
      );
    await commit(deps, reader, batch.lines, opts, counts, { name, position: batch.position, before });
  }
  return counts;
}

async function commit(
  deps: IngestDeps,
  reader: PostfixLogReader,
  lines: string[],
  opts: IngestOptions,
  counts: IngestCounts,
  save?: { name: string; position: FilePosition; before: number },
): Promise<void> {
  const now = deps.now();
  const records = lines.flatMap((l) => reader.push(l, now));
  const tally = newCounts();
  tally.lines = lines.length;
  const items: BulkItem[] = [];
  // The batch's rollup increments, written once at the end of its transaction, in key order (src/core/rollup.ts).
  const rollups = new RollupCollector();
  const ctx = { policy: deps.policy, hashAddress: deps.hashAddress, now, classifierVersion: null, rollups };
  for (const d of records) {
    tally[d.status]++;
    const e = eventOfDelivery(d, opts.attribution);
    if ("skip" in e) {
      tally.skipped[e.skip]++;
      continue;
    }
    items.push({
      ctx,
      spec: {
        mailId: null,
        source: "postfix-log",
        kind: e.kind,
        who: e.who,
        occurredAt: e.occurredAt,
        sendingDomain: e.sendingDomain,
      },
    });
    // A recipient's final outcome (delivered, bounced, expired) is a message sent: the volume rates are
    // computed against, in the same rollups as POST /v1/sends (docs/monitoring.md: one source per stream).
    if (d.status !== "deferred")
      rollups.add({
        tenant: e.who.tenant,
        hour: hourOf(e.occurredAt),
        stream: e.who.stream,
        provider: providerOf(e.who.domain),
        campaign: "",
        sendingIp: "",
        counts: { sent: 1 },
      });
  }
  await deps.db.transaction().execute(async (trx) => {
    // A few statements per batch (src/worker/apply-bulk.ts): soft bounces and deliveries read and lock their
    // addresses' histories together, in log order; the others are written without.
    const withHistory = items.filter(bulkableWithHistory);
    const without = items.filter((i) => !bulkableWithHistory(i));
    for (const applied of [
      ...(withHistory.length ? await applyWithHistories(trx, withHistory) : []),
      ...(without.length ? await applyInBulk(trx, without) : []),
    ])
      if (applied.eventId) tally.events++;
    await addToRollups(trx, rollups.take());
    if (save)
      await saveLogPosition(
        trx,
        save.name,
        { ...save.position, state: reader.state(), lines: save.before + counts.lines + tally.lines },
        now,
      );
  });
  // Counted once committed: a failed batch counts nothing.
  counts.lines += tally.lines;
  for (const k of ["sent", "bounced", "deferred", "expired", "events"] as const) counts[k] += tally[k];
  for (const s of LOG_SKIPS) counts.skipped[s] += tally.skipped[s];
  opts.onBatch?.(counts);
}
