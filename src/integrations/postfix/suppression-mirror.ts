// The lookup role's copy of the suppressions in force (SuppressedMap), so that a send-time lookup, of a suppressed
// address or not, is answered without waiting on the database.
//
// Loaded at start from the table (a COPY on PostgreSQL), then kept exact by following the suppression log: every
// change of a suppression row (added, updated, removed, expired, erased, imported, re-derived) writes a log line
// in the same transaction. Every `pollMs` the mirror reads the log lines above the highest id it has seen (and
// the ids it found missing below it: a transaction that took its id earlier and commits later), then reads the
// current rows of the addresses they name from the table and puts those in place of what it held. So what it
// holds is the table as of the start of its last completed poll.
//
// A missing id is waited for until every transaction that could hold it has ended: the transaction that took it
// had its id (it wrote the suppression first) before the next read of the log after the id was seen missing;
// once the oldest transaction still running (the snapshot's xmin) is past that read's xmax, a read shows the line
// if it was committed, and the id is forgotten if not (rolled back, or never used). So no wait has a timeout;
// only the number of ids waited for is bounded (`maxGaps`, the oldest forgotten first).
//
// Bound: a lookup is answered from memory only while the last completed poll started less than
// `maxStalenessMs` ago. Past that (the database slow or away, the process starved), lookups ask the database
// (one query per tick for all of them), and fail (TEMP, DEFER) when it does not answer. So a change committed at
// t is in every answer given after t + maxStalenessMs, and usually after one poll (pollMs plus two queries).
// Before the first load is complete, lookups ask the database too.
//
// One copy serves every reader in the process: the lookup role's servers (answer: the governing suppression) and the
// API's lookups (mightContain: whether the database need be asked for an address's rows at all; note: a row this
// process just wrote counts as there until a poll started after the write has completed).
//
// The load and the feed do not need one snapshot: the log's head is read first, then the table. A change
// committed before the head was read is in the table's copy; one committed after has a log line above the head
// (or one of the ids missing below it, waited for as gaps) and is read again from the table by the feed.
import type { Kysely } from "kysely";
import type { Database } from "../../store/schema.js";
import type { LineSink } from "../../store/copy.js";
import {
  estimatedSuppressionRows,
  suppressionLogHead,
  suppressionLogSince,
  suppressionsInForceCopy,
  suppressionsInForcePage,
  suppressionsOfAddresses,
  suppressionsOfAddressesCopy,
  type MirrorRow,
} from "../../store/lookups.js";
import type { Governing } from "./answer.js";
import { SuppressedMap, type MirroredRow } from "./suppressed-map.js";

interface LoggerLike {
  warn(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
}

export interface SuppressionMirrorOptions {
  logger: LoggerLike;
  /** The clock of expiries (a suppression whose expiry has passed is not in force). */
  now?: () => Date;
  /**
   * The same clock in milliseconds, without a Date (a lookup makes no object). Default: `now`'s, else Date.now.
   */
  nowMs?: () => number;
  /** Monotonic milliseconds, for the staleness bound. */
  monotonic?: () => number;
  /** How often the log is read (default 200 ms). */
  pollMs?: number;
  /** Answers from memory only while the last completed poll started less than this ago (default 2000 ms). */
  maxStalenessMs?: number;
  /** At most this many missing ids are waited for (default 10,000). */
  maxGaps?: number;
  /** Log lines per read (default 10,000). */
  pageSize?: number;
  /** After each completed poll: the time (of `now`) it started, as of which the answers are. */
  onPoll?: (freshAt: Date) => void;
}

/** Memory cannot answer now: ask the database. */
export const ASK = Symbol("ask the database");

interface Waiter {
  tenant: string;
  hash: string;
  resolve(rows: MirrorRow[]): void;
  reject(err: unknown): void;
}

export class SuppressionMirror {
  private map = new SuppressedMap();
  private loaded = false;
  private maxId = 0;
  /**
   * Ids found missing below maxId: id -> the xmax of the first read after it was found missing (0: not read
   * since); forgotten once a read's xmin reaches it.
   */
  private readonly gaps = new Map<number, number>();
  /** Monotonic start of the last completed poll. */
  private freshAt = -Infinity;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private pending: Waiter[] = [];
  private flushScheduled = false;
  private readyResolve!: () => void;
  private lastError = -Infinity;
  private announced = false;
  /** Polls started so far, and callers of caughtUp waiting for one started after their call. */
  private polls = 0;
  private caughtUpWaiters: { after: number; resolve(): void }[] = [];
  /** Addresses this process wrote (note()), by key: the count of polls started when it was noted. */
  private readonly noted = new Map<string, number>();
  private readonly pollMs: number;
  private readonly maxStalenessMs: number;
  private readonly maxGaps: number;
  private readonly pageSize: number;
  private readonly now: () => Date;
  private readonly nowMs: () => number;
  private readonly monotonic: () => number;
  /** Resolves when the first load and the poll after it are done (lookups ask the database until then). */
  readonly ready: Promise<void>;
  /** Load figures, for the log and the docs. */
  loadStats: { rows: number; ms: number; bytes: number } | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly opts: SuppressionMirrorOptions,
  ) {
    this.pollMs = opts.pollMs ?? 200;
    this.maxStalenessMs = opts.maxStalenessMs ?? 2000;
    this.maxGaps = opts.maxGaps ?? 10_000;
    this.pageSize = opts.pageSize ?? 10_000;
    this.now = opts.now ?? (() => new Date());
    const now = opts.now;
    this.nowMs = opts.nowMs ?? (now ? () => now().getTime() : Date.now);
    this.monotonic = opts.monotonic ?? (() => performance.now());
    this.ready = new Promise((r) => (this.readyResolve = r));
  }

  get stats() {
    return {
      loaded: this.loaded,
      addresses: this.map.addresses,
      rows: this.map.rows,
      bytes: this.map.bytes,
      maxLogId: this.maxId,
      gaps: this.gaps.size,
      stale: !this.fresh(),
    };
  }

  /** Whether memory may answer now (loaded, and the last completed poll recent enough). */
  fresh(): boolean {
    return this.loaded && this.monotonic() - this.freshAt < this.maxStalenessMs;
  }

  /** The suppression governing mail to a tenant's address (keyed hash) in `stream` (`*`: any), or ASK. */
  answer(tenant: string, hash: string, stream: string): Governing | undefined | typeof ASK {
    if (!this.fresh()) return ASK;
    return this.map.governing(tenant, hash, stream, this.nowMs());
  }

  /**
   * The same for an address's key as AddressDigest gives it (its hash's first three words), or ASK (then ask()
   * wants the hash itself).
   */
  answerWords(tenant: string, words: Uint32Array, stream: string): Governing | undefined | typeof ASK {
    if (!this.fresh()) return ASK;
    return this.map.governingWords(tenant, words, stream, this.nowMs);
  }

  /**
   * False only when the tenant surely has no suppression row for the address hash in force as of the last poll
   * (nor one this process noted since): memory current, and nothing there. While memory cannot answer: true.
   */
  mightContain(tenant: string, hash: string): boolean {
    if (!this.fresh()) return true;
    if (this.noted.size > 0 && this.noted.has(keyOf(tenant, hash))) return true;
    return this.map.has(tenant, hash);
  }

  /** Learn of a row this process just wrote: it counts as there until a poll started after now has completed. */
  note(tenant: string, hash: string): void {
    this.noted.set(keyOf(tenant, hash), this.polls);
  }

  /** The same answer from the database (while memory cannot answer), in one query per tick for all callers. */
  async ask(tenant: string, hash: string, stream: string): Promise<Governing | undefined> {
    const rows = await new Promise<MirrorRow[]>((resolve, reject) => {
      this.pending.push({ tenant, hash, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
    return governingOf(rows, stream, this.now().getTime());
  }

  /**
   * Resolves once a poll that started after this call has completed: every change committed before the call
   * (and any log id waited for as a gap) is then in memory.
   */
  caughtUp(): Promise<void> {
    return new Promise((resolve) => this.caughtUpWaiters.push({ after: this.polls, resolve }));
  }

  start(): void {
    if (this.timer || this.running) return;
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private flush(): void {
    this.flushScheduled = false;
    const waiters = this.pending;
    this.pending = [];
    suppressionsOfAddresses(
      this.db,
      waiters.map((w) => w.tenant),
      waiters.map((w) => w.hash),
      this.now(),
    ).then(
      (rows) => {
        const byKey = groupByKey(rows);
        for (const w of waiters) w.resolve(byKey.get(keyOf(w.tenant, w.hash)) ?? []);
      },
      (err: unknown) => {
        for (const w of waiters) w.reject(err);
      },
    );
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = (this.loaded ? this.poll() : this.load().then(() => this.poll()))
        .then(
          () => {
            if (!this.announced) {
              this.announced = true;
              this.opts.logger.info(
                { mirror: this.stats, load: this.loadStats },
                "suppression mirror loaded",
              );
              this.readyResolve();
            }
          },
          (err: unknown) => {
            // Once a minute at most: the staleness bound already sends lookups to the database.
            const t = this.monotonic();
            if (t - this.lastError > 60_000) {
              this.lastError = t;
              this.opts.logger.warn(
                { err: err instanceof Error ? err.message : String(err), mirror: this.stats },
                "suppression mirror could not follow the table; lookups ask the database while it lags",
              );
            }
          },
        )
        .finally(() => {
          this.running = undefined;
          this.schedule(this.pollMs);
        });
    }, ms);
    this.timer.unref?.();
  }

  /** The log's head, then every suppression in force, into a new map. */
  private async load(): Promise<void> {
    const t0 = this.monotonic();
    const head = await suppressionLogHead(this.db, this.maxGaps);
    const present = new Set(head.present);
    const gaps = new Map<number, number>();
    for (let id = Math.max(1, head.maxId - this.maxGaps + 1); id < head.maxId; id++)
      if (!present.has(id)) gaps.set(id, 0);
    const map = new SuppressedMap(Math.ceil((await estimatedSuppressionRows(this.db)) * 1.05) + 1024);
    const sink = new RowLines(map);
    if (!(await suppressionsInForceCopy(this.db, sink))) {
      let after = "0";
      for (;;) {
        const page = await suppressionsInForcePage(this.db, after, 5_000, this.now());
        for (const r of page) map.add(r.tenant, r.address_hash, mirrored(r));
        if (page.length < 5_000) break;
        after = page[page.length - 1]!.id;
      }
    }
    sink.end();
    this.map = map;
    this.maxId = head.maxId;
    this.gaps.clear();
    for (const [g, d] of gaps) this.gaps.set(g, d);
    this.loaded = true;
    this.loadStats = { rows: map.rows, ms: Math.round(this.monotonic() - t0), bytes: map.bytes };
  }

  /** Read the log since the last poll, then the current rows of the addresses it names. */
  private async poll(): Promise<void> {
    const seq = ++this.polls;
    const startedAt = this.monotonic();
    const now = this.now();
    const onPoll = this.opts.onPoll;
    const tenants: string[] = [];
    const hashes: string[] = [];
    const seen = new Set<string>();
    for (;;) {
      if (this.stopped) return;
      const { lines, snapshot } = await suppressionLogSince(
        this.db,
        this.maxId,
        [...this.gaps.keys()],
        this.pageSize,
      );
      // Ids missing since an earlier read: their transactions have ids below this read's xmax.
      for (const [g, x] of this.gaps) if (x === 0) this.gaps.set(g, snapshot.xmax);
      // In slices too (10,000 lines at once held the event loop for up to 40 ms on a busy machine).
      let slice = performance.now();
      for (let j = 0; j < lines.length; j++) {
        const l = lines[j]!;
        if ((j & 255) === 255 && performance.now() - slice > SLICE_MS) {
          await pause();
          if (this.stopped) return;
          slice = performance.now();
        }
        const k = keyOf(l.tenant, l.address_hash);
        if (!seen.has(k)) {
          seen.add(k);
          tenants.push(l.tenant);
          hashes.push(l.address_hash);
        }
        if (l.id > this.maxId) {
          for (let g = Math.max(this.maxId + 1, l.id - this.maxGaps); g < l.id; g++) this.gaps.set(g, 0);
          this.maxId = l.id;
        } else this.gaps.delete(l.id);
      }
      if (this.gaps.size > this.maxGaps)
        for (const g of this.gaps.keys()) {
          if (this.gaps.size <= this.maxGaps) break;
          this.gaps.delete(g);
        }
      // Every transaction that could hold these has ended, and this read did not show them: none will come.
      for (const [g, x] of this.gaps) if (x !== 0 && x <= snapshot.xmin) this.gaps.delete(g);
      if (lines.length < this.pageSize) break;
    }
    // Read in pages of at most 5,000 addresses: writing the statement that names 10,000 held the event loop
    // 10-20 ms on a busy machine (bench/lookup-mirror.mjs --apply; more pages cost more round trips).
    const per = Math.min(this.pageSize, ADDRESSES_PER_READ);
    for (let i = 0; i < tenants.length; i += per) {
      const t = tenants.slice(i, i + per);
      const h = hashes.slice(i, i + per);
      // The addresses' current rows, read by a COPY into a map of their own (typed arrays: no object per row;
      // 10,000 row objects held the event loop in young-generation collections), then put in place of what
      // memory holds, address by address. PGlite (no COPY): the rows as objects.
      const staged = new SuppressedMap(t.length);
      const sink = new RowLines(staged);
      let rows: MirrorRow[] | undefined;
      if (await suppressionsOfAddressesCopy(this.db, t, h, now, sink)) sink.end();
      else rows = await suppressionsOfAddresses(this.db, t, h, now);
      if (this.stopped) return;
      // Room first, in steps (lookups go on meanwhile), so that no add below grows the arrays at once.
      await this.map.reserve(rows ? rows.length : staged.rows, pause);
      const byKey = rows && groupByKey(rows);
      // Applied in slices of about a millisecond, the event loop free between them: a page of 10,000 changed
      // addresses applied at once held every lookup for tens of milliseconds (bench/lookup-mirror.mjs --apply).
      // Meanwhile answers mix addresses applied and not: each was true at the last completed poll or is true
      // now, which is what the staleness bound promises; each address's rows change at once.
      let slice = performance.now();
      for (let j = 0; j < t.length; j++) {
        if (byKey) this.map.replace(t[j]!, h[j]!, (byKey.get(keyOf(t[j]!, h[j]!)) ?? []).map(mirrored));
        else this.map.replaceFrom(staged, t[j]!, h[j]!);
        if ((j & 63) === 63 && performance.now() - slice > SLICE_MS) {
          await pause();
          if (this.stopped) return;
          slice = performance.now();
        }
      }
    }
    this.freshAt = startedAt;
    // What was noted before this poll started is in memory now (or no longer in the table).
    for (const [k, at] of this.noted) if (at < seq) this.noted.delete(k);
    onPoll?.(now);
    this.caughtUpWaiters = this.caughtUpWaiters.filter((w) => {
      if (w.after >= seq) return true;
      w.resolve();
      return false;
    });
  }
}

const pause = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The longest the feed applies changes without letting lookups in (ms). */
const SLICE_MS = 1;

/** Changed addresses whose rows are read by one statement. */
const ADDRESSES_PER_READ = 5_000;

const keyOf = (tenant: string, hash: string) => `${tenant}\n${hash}`;

function groupByKey(rows: MirrorRow[]): Map<string, MirrorRow[]> {
  const by = new Map<string, MirrorRow[]>();
  for (const r of rows) {
    const k = keyOf(r.tenant, r.address_hash);
    const l = by.get(k);
    if (l) l.push(r);
    else by.set(k, [r]);
  }
  return by;
}

/** SuppressedMap.governing over rows read from the database. */
function governingOf(rows: MirrorRow[], stream: string, now: number): Governing | undefined {
  let best: MirroredRow | undefined;
  for (const r of rows) {
    if (stream !== "*" && r.stream !== stream && r.stream !== "*") continue;
    const m = mirrored(r);
    if (m.until <= now) continue;
    if (!best || m.until > best.until) best = m;
  }
  return (
    best && {
      stream: best.stream,
      reason: best.reason,
      class: best.class,
      since: new Date(best.since),
      until: best.until === Infinity ? null : new Date(best.until),
    }
  );
}

function mirrored(r: MirrorRow): MirroredRow {
  return {
    stream: r.stream,
    reason: r.reason,
    class: r.class,
    since: new Date(r.first_seen).getTime(),
    until: r.expires_at === null ? Infinity : new Date(r.expires_at).getTime(),
  };
}

/** Milliseconds as float8 text, rounded to the microsecond the column holds (1000.0000001 -> 1000). */
const microseconds = (ms: string) => Math.round(Number(ms) * 1000) / 1000;

/** COPY's text format: a field's backslash sequences undone (COPY TO writes only these). */
function unescape(s: string): string {
  if (!s.includes("\\")) return s;
  return s.replace(/\\(.)/g, (_, c: string) =>
    c === "b"
      ? "\b"
      : c === "f"
        ? "\f"
        : c === "n"
          ? "\n"
          : c === "r"
            ? "\r"
            : c === "t"
              ? "\t"
              : c === "v"
                ? "\v"
                : c,
  );
}

/** Takes the lines of suppressionsInForceCopy (the load) or suppressionsOfAddressesCopy (the feed) into a map. */
class RowLines implements LineSink {
  private readonly row: MirroredRow = { stream: "", reason: "", class: "", since: 0, until: 0 };
  private readonly fields: string[] = ["", "", "", "", "", "", ""];
  private bad: string | undefined;
  constructor(private readonly map: SuppressedMap) {}

  line(buf: Buffer, start: number, end: number): void {
    if (this.bad) return;
    // Seven tab-separated fields, each decoded where it lies (no string of the line, no array of its fields).
    const stop = buf[end - 1] === 10 ? end - 1 : end;
    const f = this.fields;
    let at = start;
    for (let n = 0; n < 7; n++) {
      let to = buf.indexOf(9, at);
      if (to < 0 || to > stop) to = stop;
      // A tab ends each field but the last, which ends the line: fewer or more fields are not this COPY's.
      if (n < 6 === (to === stop)) {
        this.bad = `a suppression line of ${n < 6 ? n + 1 : "more than 7"} fields`;
        return;
      }
      f[n] = buf.toString("utf8", at, to);
      at = to + 1;
    }
    const row = this.row;
    row.stream = unescape(f[1]!);
    row.reason = unescape(f[3]!);
    row.class = unescape(f[4]!);
    row.since = microseconds(f[5]!);
    row.until = f[6] === "\\N" ? Infinity : microseconds(f[6]!);
    this.map.add(unescape(f[0]!), f[2]!, row);
  }

  flush(): void {}

  end(): void {
    if (this.bad) throw new Error(`suppression mirror load: ${this.bad}`);
  }
}
