// The API's lookups of suppressions, over the one in-memory copy of the suppressions in force that the lookup role
// uses too (SuppressionMirror, src/integrations/postfix/suppression-mirror.ts: loaded by a COPY, kept exact by
// following the suppression log, with a bound on how stale it may answer). Most lookups are of addresses that are
// not suppressed: the copy rules them out without a query. The rest (the copy holds a row for them, or it cannot
// answer now: loading, or its last poll older than its bound) are asked of the database, which has what the API
// shows and the copy does not (events, notes, sources), in one query per tenant and tick shared by concurrent
// callers. A row this process writes counts as there at once (note), other processes' after the next poll.
//
// Before this, the API kept an index of its own (a 32-bit fingerprint per row, following the table's id sequence,
// rebuilt hourly to drop removed rows): a second vocabulary and a second refresh of the same table. Now a process
// with the API and the lookup role holds one copy and one feed (src/main.ts).
import type { Kysely } from "kysely";
import { SuppressionMirror } from "../integrations/postfix/suppression-mirror.js";
import type { Database } from "../store/schema.js";
import { activeSuppressionsByHash, type SuppressionRow } from "../store/lookups.js";

interface LoggerLike {
  warn(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
}

export interface SuppressionIndexOptions {
  logger: LoggerLike;
  now?: () => Date;
  /** How often the suppression log is read (default 200 ms). */
  pollMs?: number;
  /** Rules out addresses only while its last completed poll started less than this ago (default 2000 ms). */
  maxStalenessMs?: number;
  /** Monotonic milliseconds, for the staleness bound. */
  monotonic?: () => number;
  /**
   * The process's copy, when another role (the lookup role) already keeps one: then this index neither starts nor
   * stops it. Without it, the index keeps its own.
   */
  mirror?: SuppressionMirror;
}

interface Waiter {
  hashes: string[];
  resolve(rows: Map<string, SuppressionRow[]>): void;
  reject(err: unknown): void;
}

export class SuppressionIndex {
  readonly mirror: SuppressionMirror;
  private readonly owned: boolean;
  private readonly now: () => Date;
  private pending = new Map<string, Waiter[]>();
  private flushScheduled = false;

  constructor(
    private readonly db: Kysely<Database>,
    opts: SuppressionIndexOptions,
  ) {
    this.now = opts.now ?? (() => new Date());
    this.owned = !opts.mirror;
    this.mirror =
      opts.mirror ??
      new SuppressionMirror(db, {
        logger: opts.logger,
        now: this.now,
        pollMs: opts.pollMs,
        maxStalenessMs: opts.maxStalenessMs,
        monotonic: opts.monotonic,
      });
  }

  /** Resolves when the first full load is done (until then every lookup asks the database). */
  get ready(): Promise<void> {
    return this.mirror.ready;
  }

  get stats() {
    return this.mirror.stats;
  }

  /** Start loading and following the table (returns at once); a copy shared with another role is theirs to run. */
  start(): void {
    if (this.owned) this.mirror.start();
  }

  async stop(): Promise<void> {
    if (this.owned) await this.mirror.stop();
  }

  /** False only when the tenant surely has no suppression row in force for the address hash. */
  mightContain(tenant: string, addressHash: string): boolean {
    return this.mirror.mightContain(tenant, addressHash);
  }

  /**
   * The suppressions in force of some addresses of one tenant (every stream), by address hash. Only the
   * hashes the copy cannot rule out are asked of the database, in one query shared with concurrent callers.
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
    return byHash(await activeSuppressionsByHash(this.db, tenant, hashes, this.now()));
  }

  /** Learn of a row this process just wrote (other processes learn of it on their next poll). */
  note(tenant: string, addressHash: string): void {
    this.mirror.note(tenant, addressHash);
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
          const found = byHash(rows);
          for (const w of waiters) w.resolve(found);
        },
        (err: unknown) => {
          for (const w of waiters) w.reject(err);
        },
      );
    }
  }
}

function byHash(rows: SuppressionRow[]): Map<string, SuppressionRow[]> {
  const by = new Map<string, SuppressionRow[]>();
  for (const r of rows) {
    const l = by.get(r.address_hash);
    if (l) l.push(r);
    else by.set(r.address_hash, [r]);
  }
  return by;
}
