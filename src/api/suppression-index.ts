// An in-memory index of which (tenant, address) pairs have any suppression row, so that most lookups (of
// addresses that are not suppressed) are answered without a query, and the rest share one query per tick.
//
// The index holds a 32-bit fingerprint per row (4 bytes per slot: about 8 MB for a million suppressions).
// A fingerprint present means "maybe": the database is asked, and answers with the truth (stream, expiry,
// removal). A fingerprint absent means "no row", which must hold for every row committed more than a
// second ago. So the index follows the table's id sequence: every `pollMs` it reads the rows with an id
// above the highest seen, and also the ids it found missing below it (a transaction that took its id
// earlier and committed later), until they appear or `gapTtlMs` passes (a rollback or a deletion).
//
// Removed rows stay in the index as false positives (a query each, never a wrong answer) until the next
// rebuild, every `rebuildMs`: a second set is filled from the whole table one page per poll, while every
// fingerprint the poll or `note()` adds goes into both sets; then it takes the place of the first. A row
// committed during the rebuild is in the new set either way (read by the scan, or added by the poll).
// Expired rows are kept: an expired suppression is brought back by updating its row in place, which the
// id feed would not see.
import type { Kysely } from "kysely";
import type { Database } from "../store/schema.js";
import {
  activeSuppressionsByHash,
  estimatedSuppressionRows,
  suppressionKeysCopy,
  suppressionKeysSince,
  type SuppressionRow,
} from "../store/lookups.js";

interface LoggerLike {
  warn(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
}

export interface SuppressionIndexOptions {
  logger: LoggerLike;
  now?: () => Date;
  pollMs?: number;
  /** Rows per read of the table: by default 50,000 from a COPY (PostgreSQL), 5,000 as row objects (PGlite). */
  pageSize?: number;
  gapTtlMs?: number;
  maxGaps?: number;
  /** How often the index is built afresh from the table, dropping the fingerprints of removed rows. */
  rebuildMs?: number;
}

/** An open-addressing set of non-zero 32-bit integers. */
export class FingerprintSet {
  private slots: Uint32Array;
  private mask: number;
  size = 0;

  /** `capacity`: how many slots to start with (grown by doubling past 70% full). */
  constructor(capacity = 1 << 16) {
    let cap = 1 << 4;
    while (cap < capacity) cap <<= 1;
    this.slots = new Uint32Array(cap);
    this.mask = cap - 1;
  }

  private static slotOf(fp: number, mask: number): number {
    return (Math.imul(fp, 0x9e3779b1) >>> 0) & mask;
  }

  has(fp: number): boolean {
    const { slots, mask } = this;
    let i = FingerprintSet.slotOf(fp, mask);
    for (;;) {
      const v = slots[i]!;
      if (v === fp) return true;
      if (v === 0) return false;
      i = (i + 1) & mask;
    }
  }

  add(fp: number): void {
    if ((this.size + 1) * 10 > this.slots.length * 7) this.grow();
    const { slots, mask } = this;
    let i = FingerprintSet.slotOf(fp, mask);
    for (;;) {
      const v = slots[i]!;
      if (v === fp) return;
      if (v === 0) {
        slots[i] = fp;
        this.size++;
        return;
      }
      i = (i + 1) & mask;
    }
  }

  get bytes(): number {
    return this.slots.byteLength;
  }

  /** A set with room for `n` fingerprints before it grows (and for 45,000 at least). */
  static sizedFor(n: number): FingerprintSet {
    return new FingerprintSet(Math.max(1 << 16, Math.ceil((n * 10) / 7) + 1));
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    this.mask = this.slots.length - 1;
    this.size = 0;
    for (const v of old) if (v !== 0) this.add(v);
  }
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

const tenantMixes = new Map<string, number>();
function tenantMix(tenant: string): number {
  let h = tenantMixes.get(tenant);
  if (h === undefined) {
    h = FNV_OFFSET;
    for (let i = 0; i < tenant.length; i++) h = Math.imul(h ^ tenant.charCodeAt(i), FNV_PRIME);
    h >>>= 0;
    if (tenantMixes.size < 100_000) tenantMixes.set(tenant, h);
  }
  return h;
}

/** The fingerprint of a tenant's address hash (hex SHA-256); never 0. */
export function fingerprint(tenant: string, addressHash: string): number {
  return (parseInt(addressHash.slice(0, 8), 16) ^ tenantMix(tenant)) >>> 0 || 1;
}

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX["0123456789abcdef".charCodeAt(i)] = i;
  HEX["0123456789ABCDEF".charCodeAt(i)] = i;
}

/** A byte buffer that grows. */
class Bytes {
  buf = new Uint8Array(64);
  length = 0;
  push(c: number): void {
    if (this.length === this.buf.length) {
      const b = new Uint8Array(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
    }
    this.buf[this.length++] = c;
  }
  /** The text of a field of COPY's text format (whose backslash sequences are undone), as UTF-8. */
  copyText(): string {
    const out: number[] = [];
    const b = this.buf;
    for (let i = 0; i < this.length; i++) {
      let c = b[i]!;
      if (c === 92 && i + 1 < this.length) {
        c = b[++i]!;
        // COPY TO writes no octal nor hex sequences, only these (and \\ for a backslash).
        c =
          c === 98
            ? 8
            : c === 102
              ? 12
              : c === 110
                ? 10
                : c === 114
                  ? 13
                  : c === 116
                    ? 9
                    : c === 118
                      ? 11
                      : c;
      }
      out.push(c);
    }
    return Buffer.from(out).toString("utf8");
  }
}

/**
 * Reads the lines of a COPY of suppression keys (`id`, `tenant`, the first 8 hex digits of `address_hash`,
 * tab-separated, see suppressionKeysCopy) and hands out each row's id and fingerprint, with no object per row:
 * the tenant's mix is computed over its bytes as they pass, which for an ASCII tenant with no backslash
 * sequence is the mix of its characters. Any other line is decoded to strings and fingerprinted as such.
 */
export class KeyLines {
  private field = 0;
  private id = 0;
  private mix = FNV_OFFSET;
  private prefix = 0;
  private plain = true;
  private readonly tenant = new Bytes();
  private readonly hash = new Bytes();

  constructor(private readonly onKey: (id: number, fp: number) => void) {}

  write(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (c === 10) this.endLine();
      else if (c === 9) this.field++;
      else if (this.field === 0) {
        if (c < 48 || c > 57) throw new Error("a suppression key line with a malformed id");
        this.id = this.id * 10 + (c - 48);
      } else if (this.field === 1) {
        this.mix = Math.imul(this.mix ^ c, FNV_PRIME);
        if (c >= 0x80 || c === 92) this.plain = false;
        this.tenant.push(c);
      } else {
        const v = HEX[c]!;
        if (v < 0) this.plain = false;
        this.prefix = this.prefix * 16 + v;
        this.hash.push(c);
      }
    }
  }

  /** After the last chunk: a line left unfinished is an error. */
  end(): void {
    if (this.field !== 0 || this.id !== 0) throw new Error("a suppression key line cut short");
  }

  private endLine(): void {
    if (this.field !== 2) throw new Error("a suppression key line without its three fields");
    const fp =
      this.plain && this.hash.length === 8
        ? (this.prefix ^ (this.mix >>> 0)) >>> 0 || 1
        : fingerprint(this.tenant.copyText(), this.hash.copyText());
    this.onKey(this.id, fp);
    this.field = 0;
    this.id = 0;
    this.mix = FNV_OFFSET;
    this.prefix = 0;
    this.plain = true;
    this.tenant.length = 0;
    this.hash.length = 0;
  }
}

interface Waiter {
  hashes: string[];
  resolve(rows: Map<string, SuppressionRow[]>): void;
  reject(err: unknown): void;
}

export class SuppressionIndex {
  private set = new FingerprintSet();
  /** The set being rebuilt (it replaces `set` once the scan has read the whole table), and how far. */
  private next: { set: FingerprintSet; afterId: number } | undefined;
  private builtAt = 0;
  private rebuilds = 0;
  private maxId = 0;
  /** Ids found missing below maxId: id -> when to stop waiting for it. */
  private readonly gaps = new Map<number, number>();
  private loaded = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly pollMs: number;
  private readonly gapTtlMs: number;
  private readonly maxGaps: number;
  private readonly rebuildMs: number;
  private readonly now: () => Date;
  private pending = new Map<string, Waiter[]>();
  private flushScheduled = false;
  private readyResolve!: () => void;
  /** Resolves when the first full load is done (until then every lookup asks the database). */
  readonly ready: Promise<void>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly opts: SuppressionIndexOptions,
  ) {
    this.pollMs = opts.pollMs ?? 250;
    this.gapTtlMs = opts.gapTtlMs ?? 60_000;
    this.maxGaps = opts.maxGaps ?? 10_000;
    this.rebuildMs = opts.rebuildMs ?? 3_600_000;
    this.now = opts.now ?? (() => new Date());
    this.ready = new Promise((r) => (this.readyResolve = r));
  }

  get stats() {
    return {
      loaded: this.loaded,
      fingerprints: this.set.size,
      bytes: this.set.bytes,
      maxId: this.maxId,
      gaps: this.gaps.size,
      rebuilds: this.rebuilds,
      /** While a rebuild is under way, the highest id its scan has read. */
      rebuiltTo: this.next ? this.next.afterId : null,
    };
  }

  /** Start loading and following the table (returns at once). */
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

  /** False only when the tenant surely has no suppression row for the address hash. */
  mightContain(tenant: string, addressHash: string): boolean {
    return !this.loaded || this.set.has(fingerprint(tenant, addressHash));
  }

  /**
   * The suppressions in force of some addresses of one tenant (every stream), by address hash. Only the
   * hashes the index cannot rule out are asked of the database, in one query shared with concurrent callers.
   */
  async lookup(tenant: string, hashes: string[]): Promise<Map<string, SuppressionRow[]>> {
    const ask = hashes.filter((h) => this.mightContain(tenant, h));
    if (ask.length === 0) return new Map();
    return new Promise((resolve, reject) => {
      let list = this.pending.get(tenant);
      if (!list) this.pending.set(tenant, (list = []));
      list.push({ hashes: ask, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** The suppressions in force of some addresses, straight from the database (after writing them). */
  async lookupFresh(tenant: string, hashes: string[]): Promise<Map<string, SuppressionRow[]>> {
    for (const h of hashes) this.note(tenant, h);
    const byHash = new Map<string, SuppressionRow[]>();
    for (const r of await activeSuppressionsByHash(this.db, tenant, hashes, this.now())) {
      const l = byHash.get(r.address_hash);
      if (l) l.push(r);
      else byHash.set(r.address_hash, [r]);
    }
    return byHash;
  }

  /** Learn of a row this process just wrote (other processes learn of it on their next poll). */
  note(tenant: string, addressHash: string): void {
    this.add(fingerprint(tenant, addressHash));
  }

  private add(fp: number): void {
    this.set.add(fp);
    this.next?.set.add(fp);
  }

  private flush(): void {
    this.flushScheduled = false;
    const batches = this.pending;
    this.pending = new Map();
    const now = this.now();
    for (const [tenant, waiters] of batches) {
      const all = new Set<string>();
      for (const w of waiters) for (const h of w.hashes) all.add(h);
      activeSuppressionsByHash(this.db, tenant, [...all], now).then(
        (rows) => {
          const byHash = new Map<string, SuppressionRow[]>();
          for (const r of rows) {
            const l = byHash.get(r.address_hash);
            if (l) l.push(r);
            else byHash.set(r.address_hash, [r]);
          }
          for (const w of waiters) w.resolve(byHash);
        },
        (err: unknown) => {
          for (const w of waiters) w.reject(err);
        },
      );
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.catchUp()
        .then(() => this.rebuildStep())
        .then(
          () => {
            if (!this.loaded) {
              this.loaded = true;
              this.builtAt = Date.now();
              this.opts.logger.info({ index: this.stats }, "suppression index loaded");
              this.readyResolve();
            }
          },
          (err: unknown) => this.opts.logger.warn({ err }, "suppression index could not follow the table"),
        )
        .finally(() => {
          this.running = undefined;
          this.schedule(this.pollMs);
        });
    }, ms);
    this.timer.unref?.();
  }

  /**
   * One page of keys, by id, above `afterId` or among `ids`: each row's id and fingerprint to `onKey`. On
   * PostgreSQL they are read from a COPY, with no object per row: loading a million rows as row objects left
   * the API's old generation tens of MB larger, which V8 kept. On PGlite, as rows.
   */
  private async readKeys(
    afterId: number,
    ids: number[],
    onKey: (id: number, fp: number) => void,
  ): Promise<{ full: boolean; lastId: number }> {
    let rows = 0;
    let lastId = afterId;
    const each = (id: number, fp: number) => {
      rows++;
      lastId = id;
      onKey(id, fp);
    };
    let limit = this.opts.pageSize ?? 50_000;
    const copy = await suppressionKeysCopy(this.db, afterId, ids, limit);
    if (copy) {
      const lines = new KeyLines(each);
      for await (const chunk of copy) lines.write(chunk as Buffer);
      lines.end();
    } else {
      // Small pages die young: 50,000 row objects were promoted to the old generation while being read.
      limit = this.opts.pageSize ?? 5_000;
      const page = await suppressionKeysSince(this.db, String(afterId), ids.map(String), limit);
      for (const r of page) each(Number(r.id), fingerprint(r.tenant, r.address_hash));
    }
    return { full: rows === limit, lastId };
  }

  /** Read every row added since the last call (in pages), then forget gaps waited for long enough. */
  private async catchUp(): Promise<void> {
    // The first load goes into a set sized for the table as the planner counts it: grown by doubling from
    // nothing, ten million rows would leave 32 MB of its last smaller copy behind for a full collection to free.
    if (!this.loaded && this.maxId === 0 && this.set.size === 0)
      this.set = FingerprintSet.sizedFor(await estimatedSuppressionRows(this.db));
    for (;;) {
      if (this.stopped) return;
      const deadline = Date.now() + this.gapTtlMs;
      const { full } = await this.readKeys(this.maxId, [...this.gaps.keys()], (id, fp) => {
        this.add(fp);
        if (id > this.maxId) {
          const from = Math.max(this.maxId + 1, id - this.maxGaps);
          for (let g = from; g < id; g++) this.gaps.set(g, deadline);
          this.maxId = id;
        } else {
          this.gaps.delete(id);
        }
      });
      if (this.gaps.size > this.maxGaps) {
        for (const g of this.gaps.keys()) {
          if (this.gaps.size <= this.maxGaps) break;
          this.gaps.delete(g);
        }
      }
      if (!full) break;
    }
    const t = Date.now();
    for (const [g, until] of this.gaps) if (until < t) this.gaps.delete(g);
  }

  /** One page of the rebuild (when one is due or under way); the new set takes over after the last page. */
  private async rebuildStep(): Promise<void> {
    if (!this.loaded || this.stopped) return;
    if (!this.next) {
      if (Date.now() - this.builtAt < this.rebuildMs) return;
      // Sized for the table as it is now (the fingerprints of removed rows are what the rebuild drops).
      this.next = { set: FingerprintSet.sizedFor(await estimatedSuppressionRows(this.db)), afterId: 0 };
    }
    const next = this.next;
    const { full, lastId } = await this.readKeys(next.afterId, [], (_, fp) => next.set.add(fp));
    if (full) {
      next.afterId = lastId;
      return;
    }
    this.set = next.set;
    this.next = undefined;
    this.builtAt = Date.now();
    this.rebuilds++;
  }
}
