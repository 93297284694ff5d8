// `rebound ingest postfix-log`: Postfix's log lines -> delivery records -> failures as events through the same
// policy as bounces that arrive by mail; deliveries counted in the rollups (sent, delivered), and applied as
// events only where they reset an address's soft-bounce state. Each batch of lines is one transaction, which
// also moves the follower's saved position past those lines: a crash or a restart neither loses a line nor
// counts one twice.
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import type { AddressHasher } from "../../core/address.js";
import type { Logger } from "../../log.js";
import {
  MAX_LINE,
  PostfixLogReader,
  type PostfixDelivery,
  type PostfixReaderState,
} from "../../core/postfix-log.js";
import type { Policy } from "../../core/policy-config.js";
import { providerOf } from "../../core/provider.js";
import { hourOf, RollupCollector, type RollupIncrement } from "../../core/rollup.js";
import type { Db } from "../../store/db.js";
import { getLogPosition, saveLogPosition, type LogPosition } from "../../store/log-positions.js";
import { addToRollups } from "../../store/rollups.js";
import { withSoftState, type StreamAddresses } from "../../store/soft-state.js";
import {
  applyInBulk,
  applyWithHistories,
  bulkableWithHistory,
  type BulkItem,
} from "../../worker/apply-bulk.js";
import type { EventSpec } from "../../worker/apply-event.js";
import {
  eventOfRecipient,
  LOG_SKIPS,
  recipientOfDelivery,
  type LogAttribution,
  type LogEvent,
  type LogRecipient,
  type LogSkip,
} from "./log-events.js";
import { readLogLines, RESTART_SAID } from "./log-file.js";
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
 * its saved cursor) or a stream (read once: `-`). Batches are committed one after the other, each in its own
 * transaction; the next batch's lines are parsed while the database commits the one before (at most two batches
 * in memory).
 */
export async function ingestPostfixLog(
  deps: IngestDeps,
  source: { path: string } | { stream: Readable } | { journal: JournalSource },
  opts: IngestOptions,
): Promise<IngestCounts> {
  const counts = newCounts();
  deps = { ...deps, hashAddress: keptHashes(deps.hashAddress) };
  const pipe = new Pipeline(deps, opts, counts);
  if ("journal" in source) {
    // The position's file_id holds the cursor of the last entry taken (offset unused).
    const name = opts.positionName ?? journalPositionName(source.journal);
    const saved = await getLogPosition(deps.db, name);
    const reader = new PostfixLogReader(100_000, saved?.state as PostfixReaderState | undefined);
    const before = saved?.lines ?? 0;
    let parsed = 0;
    try {
      for await (const batch of readJournal(source.journal, saved?.fileId, {
        follow: opts.follow ?? false,
        maxLines: BATCH_LINES,
        signal: opts.signal,
        onWarning: (said) => deps.logger.warn({ journalctl: said }, "journalctl says"),
      })) {
        parsed += batch.lines.length;
        const prepared = await prepare(deps, reader, batch.lines, opts);
        prepared.save = {
          name,
          position: { fileId: batch.cursor, offset: 0, state: reader.state(), lines: before + parsed },
        };
        await pipe.send(prepared);
      }
    } finally {
      await pipe.drain();
    }
    return counts;
  }
  if ("stream" in source) {
    const reader = new PostfixLogReader();
    let lines: string[] = [];
    /** When the oldest line buffered must be committed by, though fewer than BATCH_LINES came. */
    let due = 0;
    const flush = async () => {
      const batch = lines;
      lines = [];
      await pipe.send(await prepare(deps, reader, batch, opts));
    };
    const rl = createInterface({ input: source.stream, crlfDelay: Infinity });
    const input = rl[Symbol.asyncIterator]();
    /** Lines the interface has given out, and lines taken: while fewer are taken, the next one is there. */
    let given = 0;
    let taken = 0;
    rl.on("line", () => given++);
    try {
      for (;;) {
        const next = input.next();
        let got: IteratorResult<string> | "waiting";
        if (given > taken || !lines.length) got = await next;
        else {
          // None there, lines buffered: they wait for the next line until they are due, then are committed.
          // The stream's error is thrown where `next` is awaited, not as unhandled while a batch commits.
          next.catch(() => undefined);
          got = await within(next, due - Date.now());
          if (got === "waiting") {
            await flush();
            got = await next;
          }
        }
        if (got.done) break;
        taken++;
        const line = got.value;
        if (!lines.length) due = Date.now() + STREAM_IDLE_MS;
        lines.push(line.length > MAX_LINE ? line.slice(0, MAX_LINE) : line);
        if (lines.length >= BATCH_LINES || Date.now() >= due) await flush();
      }
      if (lines.length) await flush();
    } finally {
      await input.return?.();
      await pipe.drain();
    }
    return counts;
  }
  const name = opts.positionName ?? source.path;
  const saved = await getLogPosition(deps.db, name);
  const reader = new PostfixLogReader(100_000, saved?.state as PostfixReaderState | undefined);
  /** Lines read under this position before this run (kept with it). */
  const before = saved?.lines ?? 0;
  const from = saved && { fileId: saved.fileId, offset: saved.offset, fingerprint: saved.fingerprint };
  /** Lines of this run parsed so far (the position of each batch counts its own). */
  let parsed = 0;
  try {
    for await (const batch of readLogLines(source.path, from, {
      follow: opts.follow ?? false,
      pollMs: opts.pollMs ?? 250,
      chunkBytes: CHUNK_BYTES,
      maxLine: MAX_LINE,
      signal: opts.signal,
    })) {
      if (batch.restarted)
        deps.logger.warn({ file: source.path, why: batch.restarted }, RESTART_SAID[batch.restarted]);
      parsed += batch.lines.length;
      const prepared = await prepare(deps, reader, batch.lines, opts);
      // The reader's state after exactly these lines: what a restart from this position needs.
      prepared.save = {
        name,
        position: { ...batch.position, state: reader.state(), lines: before + parsed },
      };
      await pipe.send(prepared);
    }
  } finally {
    // Whatever stopped the loop, the batch in flight is committed (or its error thrown) before returning.
    await pipe.drain();
  }
  return counts;
}

/**
 * The hasher, keeping the hashes of the last addresses it hashed: a relay's log repeats its recipients (the
 * users of a service, a list sent again), and the keyed hash costs more than the rest of a delivery's reading.
 * At most HASHES_KEPT, all forgotten when full (a kept address can keep the text it was read from: at most the
 * lines that filled the map). Keeping costs too (the collector copies what is kept): where the last HASHES_KEPT
 * addresses were hardly ever repeated, the next HASHES_SKIPPED are hashed without, then keeping is tried again.
 */
function keptHashes(hashAddress: AddressHasher): AddressHasher {
  const kept = new Map<string, string>();
  let asked = 0;
  let hits = 0;
  let skip = 0;
  return (address) => {
    if (skip > 0) {
      skip--;
      return hashAddress(address);
    }
    let h = kept.get(address);
    if (h !== undefined) hits++;
    else {
      h = hashAddress(address);
      if (kept.size >= HASHES_KEPT) kept.clear();
      kept.set(address, h);
    }
    if (++asked === HASHES_KEPT) {
      if (hits < HASHES_KEPT / 20) {
        skip = HASHES_SKIPPED;
        kept.clear();
      }
      asked = hits = 0;
    }
    return h;
  };
}

const HASHES_KEPT = 50_000;
const HASHES_SKIPPED = 200_000;

/** Most lines of a batch read from a stream; a file's are its reads of CHUNK_BYTES. */
const BATCH_LINES = 5_000;
/** Longest a line read from a stream waits in a batch not full (`tail -F mail.log |` on a quiet server). */
const STREAM_IDLE_MS = 1_000;
/** What `next` gives within `ms`, else "waiting". */
async function within<T>(next: Promise<T>, ms: number): Promise<T | "waiting"> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"waiting">((resolve) => (timer = setTimeout(resolve, Math.max(0, ms), "waiting")));
  try {
    return await Promise.race([next, late]);
  } finally {
    clearTimeout(timer);
  }
}
const CHUNK_BYTES = 4 << 20;
/** Lines parsed between two turns of the event loop. */
const YIELD_LINES = 1_000;

/** A batch parsed and turned into what its transaction writes (no I/O yet). */
interface Prepared {
  now: Date;
  tally: IngestCounts;
  /** The records to write, in log order: events, and deliveries that become one only if they reset state. */
  entries: Entry[];
  /** The batch's tenants' streams its records were attributed to. */
  streams: Streams;
  save?: { name: string; position: LogPosition };
}

/** One tenant's stream in a batch: its deliveries' addresses, and its rollup increments. */
interface BatchStream extends StreamAddresses {
  /** Of `hashes` (and the addresses soft-bounced in this batch): those with soft-bounce state (filled by write). */
  held: Set<string>;
  /** Its rollup increments by hour (ms) and recipient domain: one per key (tenant, stream, domain, hour). */
  byHour: Map<number, Map<string, RollupIncrement>>;
}

/** The streams of a batch by tenant and stream (the last one asked kept at hand: a log's records mostly share it). */
class Streams {
  readonly all = new Map<string, BatchStream>();
  private last: BatchStream | undefined;

  of(tenant: string, stream: string): BatchStream {
    const last = this.last;
    if (last && last.tenant === tenant && last.stream === stream) return last;
    const k = `${tenant}\0${stream}`;
    let s = this.all.get(k);
    if (!s) this.all.set(k, (s = { tenant, stream, hashes: [], held: new Set(), byHour: new Map() }));
    return (this.last = s);
  }
}

type Entry =
  | { spec: EventSpec }
  | {
      delivery: PostfixDelivery;
      recipient: LogRecipient;
      stream: BatchStream;
      /** The keyed hash of its address. */
      hash: string;
      /** Its rollup increment (where `delivered` is counted when no event does). */
      counted: RollupIncrement;
    };

async function prepare(
  deps: IngestDeps,
  reader: PostfixLogReader,
  lines: string[],
  opts: IngestOptions,
): Promise<Prepared> {
  const now = deps.now();
  const tally = newCounts();
  tally.lines = lines.length;
  const entries: Entry[] = [];
  const streams = new Streams();
  for (let i = 0; i < lines.length; i++) {
    // The batch before commits meanwhile: its statements' replies are taken between slices of this work.
    if (i % YIELD_LINES === YIELD_LINES - 1) await new Promise((resolve) => setImmediate(resolve));
    for (const d of reader.push(lines[i]!, now)) {
      tally[d.status]++;
      const r = recipientOfDelivery(d, opts.attribution);
      if ("skip" in r) {
        tally.skipped[r.skip]++;
        continue;
      }
      // A recipient's final outcome (delivered, bounced, expired) is a message sent: the volume rates are
      // computed against, in the same rollups as POST /v1/sends (docs/monitoring.md: one source per stream).
      // A delivery's event would count in the same key (no send tied: its hour, campaign and IP unknown).
      if (d.status === "deferred") {
        entries.push({ spec: specOf(eventOfRecipient(d, r)) });
        continue;
      }
      const stream = streams.of(r.tenant, r.stream);
      const counted = countIn(stream, r.domain, d.at);
      counted.counts.sent = (counted.counts.sent ?? 0) + 1;
      if (d.status === "sent") {
        const hash = deps.hashAddress(r.address);
        stream.hashes.push(hash);
        entries.push({ delivery: d, recipient: r, stream, hash, counted });
        continue;
      }
      entries.push({ spec: specOf(eventOfRecipient(d, r)) });
    }
  }
  return { now, tally, entries, streams };
}

const specOf = (e: LogEvent): EventSpec => ({
  mailId: null,
  source: "postfix-log",
  kind: e.kind,
  who: e.who,
  occurredAt: e.occurredAt,
  sendingDomain: e.sendingDomain,
});

/** hourOf's hour (src/core/rollup.ts), as a number. */
const HOUR_MS = 3_600_000;

/** The batch's increment of a stream's recipient domain at a time (made on first use). */
function countIn(s: BatchStream, domain: string, at: Date): RollupIncrement {
  const hourMs = Math.floor(at.getTime() / HOUR_MS) * HOUR_MS;
  let byDomain = s.byHour.get(hourMs);
  if (!byDomain) s.byHour.set(hourMs, (byDomain = new Map()));
  let inc = byDomain.get(domain);
  if (!inc) {
    inc = {
      tenant: s.tenant,
      hour: hourOf(at),
      stream: s.stream,
      provider: providerOf(domain),
      campaign: "",
      sendingIp: "",
      counts: {},
    };
    byDomain.set(domain, inc);
  }
  return inc;
}

/**
 * One batch's transaction. A delivery resets the soft-bounce state of its address: it goes through the policy
 * (an event, the state reset) only when there is state to reset, in the database or left by a soft bounce of
 * this batch before it; any other delivery is only counted (`delivered` in the rollups, as its event would
 * have been). Soft bounces and those deliveries read and lock their addresses' histories together, in log
 * order (src/worker/apply-bulk.ts); the other events are written without.
 */
async function write(deps: IngestDeps, p: Prepared): Promise<void> {
  const { tally } = p;
  await deps.db.transaction().execute(async (trx) => {
    const streams = [...p.streams.all.values()];
    const held = await withSoftState(trx, streams);
    streams.forEach((s, i) => (s.held = held[i]!));
    // The events' own rollup increments (bounces, deliveries that reset), with the batch's.
    const rollups = new RollupCollector();
    const ctx = {
      policy: deps.policy,
      hashAddress: deps.hashAddress,
      now: p.now,
      classifierVersion: null,
      rollups,
    };
    const withHistory: BulkItem[] = [];
    const without: BulkItem[] = [];
    for (const entry of p.entries) {
      if ("delivery" in entry) {
        if (!entry.stream.held.has(entry.hash)) {
          entry.counted.counts.delivered = (entry.counted.counts.delivered ?? 0) + 1;
          continue;
        }
        withHistory.push({ ctx, spec: specOf(eventOfRecipient(entry.delivery, entry.recipient)) });
        continue;
      }
      const item = { ctx, spec: entry.spec };
      if (!bulkableWithHistory(item)) {
        without.push(item);
        continue;
      }
      withHistory.push(item);
      // A soft bounce leaves state that a later delivery of this batch must reset.
      const who = item.spec.who;
      if (who.recipient.class === "soft")
        p.streams.of(who.tenant, who.stream).held.add(deps.hashAddress(who.address));
    }
    for (const applied of [
      ...(withHistory.length ? await applyWithHistories(trx, withHistory) : []),
      ...(without.length ? await applyInBulk(trx, without) : []),
    ])
      if (applied.eventId) tally.events++;
    for (const s of p.streams.all.values())
      for (const byDomain of s.byHour.values()) for (const inc of byDomain.values()) rollups.add(inc);
    await addToRollups(trx, rollups.take());
    if (p.save) await saveLogPosition(trx, p.save.name, p.save.position, p.now);
  });
}

/** Batches committed in order, one transaction in flight while the next batch is parsed. */
class Pipeline {
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly deps: IngestDeps,
    private readonly opts: IngestOptions,
    private readonly counts: IngestCounts,
  ) {}

  /** Waits for the batch before (its error thrown here), then starts this one's transaction. */
  async send(p: Prepared): Promise<void> {
    await this.drain();
    const run = write(this.deps, p).then(() => this.committed(p.tally));
    // Awaited by the next send or drain; until then a failure must not count as unhandled.
    run.catch(() => undefined);
    this.inFlight = run;
  }

  async drain(): Promise<void> {
    const run = this.inFlight;
    this.inFlight = undefined;
    await run;
  }

  /** Counted once committed: a failed batch counts nothing. */
  private committed(tally: IngestCounts): void {
    const counts = this.counts;
    counts.lines += tally.lines;
    for (const k of ["sent", "bounced", "deferred", "expired", "events"] as const) counts[k] += tally[k];
    for (const s of LOG_SKIPS) counts.skipped[s] += tally.skipped[s];
    this.opts.onBatch?.(counts);
  }
}
