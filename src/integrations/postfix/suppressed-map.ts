// The suppressions in force, in memory, compactly: for each (tenant, address hash) its rows (one per stream it is
// suppressed in: stream, reason, class, since, expiry), so that a send-time lookup is answered without a query.
// Kept exact by SuppressionMirror (suppression-mirror.ts), which replaces an address's rows whenever the
// suppression log says they changed. No I/O here.
//
// Layout (about 60 bytes per suppression, measured in docs/performance.md): an open-addressing table (linear
// probing, deletion by backward shift) of 4 words per slot: the first 96 bits of the address hash (a keyed
// HMAC-SHA256: uniformly spread, so its first word places the slot) and the index of the first of its rows
// (+1; 0: empty). Rows live in typed arrays (tenant and stream interned as 32-bit ids, reason and class as
// 16-bit ids, since and expiry as float64 milliseconds) chained by `next` when an address has several (another
// stream, another tenant with the same hash prefix). Two different addresses of one tenant share a key only if
// 96 bits of their keyed hashes agree: at 10 million suppressions, one lookup in 10^22.
import type { Governing } from "./answer.js";

/** A suppression row as the map keeps it. */
export interface MirroredRow {
  stream: string;
  reason: string;
  class: string;
  /** first_seen, in milliseconds. */
  since: number;
  /** expires_at in milliseconds; Infinity: permanent. */
  until: number;
}

class Interned {
  private readonly ids = new Map<string, number>();
  readonly names: string[] = [];
  constructor(
    private readonly max: number,
    private readonly what: string,
  ) {}
  id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      if (id >= this.max)
        throw new Error(`more than ${this.max} distinct suppression ${this.what}s in memory`);
      this.ids.set(name, id);
      this.names.push(name);
    }
    return id;
  }
  find(name: string): number | undefined {
    return this.ids.get(name);
  }
}

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX["0123456789abcdef".charCodeAt(i)] = i;
  HEX["0123456789ABCDEF".charCodeAt(i)] = i;
}

/**
 * The three words of a key: the first 24 hex digits of the hash. A hash that is not hex (none is, but the column
 * is text) is folded with FNV-1a under three seeds instead. Written into `out` (no allocation per lookup).
 */
export function keyWords(hash: string, out: Uint32Array): void {
  if (hash.length >= 24) {
    let ok = true;
    for (let w = 0; w < 3 && ok; w++) {
      let v = 0;
      for (let i = w * 8; i < w * 8 + 8; i++) {
        const c = hash.charCodeAt(i);
        const d = c < 128 ? HEX[c]! : -1;
        if (d < 0) {
          ok = false;
          break;
        }
        v = v * 16 + d;
      }
      out[w] = v;
    }
    if (ok) return;
  }
  for (let w = 0; w < 3; w++) {
    let h = (0x811c9dc5 ^ (w * 0x9e3779b1)) >>> 0;
    for (let i = 0; i < hash.length; i++) h = Math.imul(h ^ hash.charCodeAt(i), 0x01000193);
    out[w] = h >>> 0;
  }
}

export class SuppressedMap {
  private slots: Uint32Array;
  private mask: number;
  /** Addresses (occupied slots). */
  addresses = 0;
  /** Rows in use. */
  rows = 0;

  private rTenant: Uint32Array;
  private rStream: Uint32Array;
  private rReason: Uint16Array;
  private rClass: Uint16Array;
  private rSince: Float64Array;
  private rUntil: Float64Array;
  /** Next row of the same key, +1 (0: none); for a free row, the next free row +1. */
  private rNext: Uint32Array;
  /** Rows ever used (the arrays' high-water mark). */
  private used = 0;
  /** First free row +1 (0: none). */
  private free = 0;

  private readonly tenants = new Interned(0xffffffff, "tenant");
  private readonly streams = new Interned(0xffffffff, "stream");
  private readonly reasons = new Interned(0xffff, "reason");
  private readonly classes = new Interned(0xffff, "class");
  private readonly key = new Uint32Array(3);
  /** replaceFrom's rows of one address (reused). */
  private readonly order: number[] = [];

  /** `expected`: how many suppressions to make room for at once (it grows by doubling beyond). */
  constructor(expected = 1024) {
    let cap = 16;
    while (cap * 0.7 < expected) cap <<= 1;
    this.slots = new Uint32Array(cap * 4);
    this.mask = cap - 1;
    const rows = Math.max(16, expected);
    this.rTenant = new Uint32Array(rows);
    this.rStream = new Uint32Array(rows);
    this.rReason = new Uint16Array(rows);
    this.rClass = new Uint16Array(rows);
    this.rSince = new Float64Array(rows);
    this.rUntil = new Float64Array(rows);
    this.rNext = new Uint32Array(rows);
  }

  /** The bytes of its typed arrays (the interned names aside: a few per tenant, stream, reason and class). */
  get bytes(): number {
    return (
      this.slots.byteLength +
      this.rTenant.byteLength +
      this.rStream.byteLength +
      this.rReason.byteLength +
      this.rClass.byteLength +
      this.rSince.byteLength +
      this.rUntil.byteLength +
      this.rNext.byteLength
    );
  }

  /** Add one row of an address (loading: the caller knows it is not there yet). */
  add(tenant: string, hash: string, row: MirroredRow): void {
    keyWords(hash, this.key);
    const slot = this.findOrInsertSlot();
    const r = this.newRow();
    this.rTenant[r] = this.tenants.id(tenant);
    this.rStream[r] = this.streams.id(row.stream);
    this.rReason[r] = this.reasons.id(row.reason);
    this.rClass[r] = this.classes.id(row.class);
    this.rSince[r] = row.since;
    this.rUntil[r] = row.until;
    this.rNext[r] = this.slots[slot * 4 + 3]!;
    this.slots[slot * 4 + 3] = r + 1;
    this.rows++;
  }

  /** Replace all rows of a tenant's address with `rows` (none: the address is no longer suppressed there). */
  replace(tenant: string, hash: string, rows: readonly MirroredRow[]): void {
    this.remove(tenant, hash);
    for (const row of rows) this.add(tenant, hash, row);
  }

  /**
   * Replace all rows of a tenant's address with its rows in `from` (none there: the address is no longer
   * suppressed here), without an object per row: how the mirror's feed applies the rows it read into a map of
   * their own (suppression-mirror.ts). The rows end in the order replace() would give them.
   */
  replaceFrom(from: SuppressedMap, tenant: string, hash: string): void {
    this.remove(tenant, hash);
    const t = from.tenants.find(tenant);
    if (t === undefined) return;
    keyWords(hash, from.key);
    const slot = from.findSlot();
    if (slot < 0) return;
    // `from`'s chain holds them newest first, as add() links them: taken back to front, as replace() adds them.
    const order = this.order;
    order.length = 0;
    for (let r = from.slots[slot * 4 + 3]! - 1; r >= 0; r = from.rNext[r]! - 1)
      if (from.rTenant[r] === t) order.push(r);
    if (order.length === 0) return;
    keyWords(hash, this.key);
    const into = this.findOrInsertSlot();
    const tenantId = this.tenants.id(tenant);
    for (let i = order.length - 1; i >= 0; i--) {
      const r = order[i]!;
      const n = this.newRow();
      this.rTenant[n] = tenantId;
      this.rStream[n] = this.streams.id(from.streams.names[from.rStream[r]!]!);
      this.rReason[n] = this.reasons.id(from.reasons.names[from.rReason[r]!]!);
      this.rClass[n] = this.classes.id(from.classes.names[from.rClass[r]!]!);
      this.rSince[n] = from.rSince[r]!;
      this.rUntil[n] = from.rUntil[r]!;
      this.rNext[n] = this.slots[into * 4 + 3]!;
      this.slots[into * 4 + 3] = n + 1;
      this.rows++;
    }
  }

  /** Forget a tenant's address (its rows of other tenants that share the key stay). */
  remove(tenant: string, hash: string): void {
    const t = this.tenants.find(tenant);
    if (t === undefined) return;
    keyWords(hash, this.key);
    const slot = this.findSlot();
    if (slot < 0) return;
    const s = this.slots;
    let prev = -1;
    let r = s[slot * 4 + 3]! - 1;
    while (r >= 0) {
      const next = this.rNext[r]! - 1;
      if (this.rTenant[r] === t) {
        if (prev < 0) s[slot * 4 + 3] = next + 1;
        else this.rNext[prev] = next + 1;
        this.freeRow(r);
      } else prev = r;
      r = next;
    }
    if (s[slot * 4 + 3] === 0) this.deleteSlot(slot);
  }

  /** Whether the map holds any row of a tenant's address (in force or past its expiry, any stream). */
  has(tenant: string, hash: string): boolean {
    const t = this.tenants.find(tenant);
    if (t === undefined) return false;
    keyWords(hash, this.key);
    const slot = this.findSlot();
    if (slot < 0) return false;
    for (let r = this.slots[slot * 4 + 3]! - 1; r >= 0; r = this.rNext[r]! - 1)
      if (this.rTenant[r] === t) return true;
    return false;
  }

  /**
   * The suppression that governs mail to a tenant's address in `stream` (its own rows and `*`; `*` asked: any
   * row) at `now` (ms): a permanent one before a temporary one, then the one that lasts longest. Rows whose
   * expiry has passed count as absent.
   */
  governing(tenant: string, hash: string, stream: string, now: number): Governing | undefined {
    keyWords(hash, this.key);
    return this.governingOfKey(tenant, stream, now, undefined);
  }

  /**
   * The same for the key's three words as keyWords gives them (AddressDigest.words: the lookups' path, no hex
   * string made), the time read from `clock` (ms) only when the address has a row (most lookups read none).
   */
  governingWords(
    tenant: string,
    words: Uint32Array,
    stream: string,
    clock: () => number,
  ): Governing | undefined {
    this.key[0] = words[0]!;
    this.key[1] = words[1]!;
    this.key[2] = words[2]!;
    return this.governingOfKey(tenant, stream, 0, clock);
  }

  /** `clock` given: `now` read from it when first needed. */
  private governingOfKey(
    tenant: string,
    stream: string,
    now: number,
    clock: (() => number) | undefined,
  ): Governing | undefined {
    const t = this.tenants.find(tenant);
    if (t === undefined) return undefined;
    const slot = this.findSlot();
    if (slot < 0) return undefined;
    const any = stream === "*";
    const st = any ? -1 : this.streams.find(stream);
    const all = this.streams.find("*");
    let best = -1;
    for (let r = this.slots[slot * 4 + 3]! - 1; r >= 0; r = this.rNext[r]! - 1) {
      if (this.rTenant[r] !== t) continue;
      const rs = this.rStream[r];
      if (!any && rs !== st && rs !== all) continue;
      const until = this.rUntil[r]!;
      if (clock) {
        now = clock();
        clock = undefined;
      }
      if (until <= now) continue;
      if (best < 0 || until > this.rUntil[best]!) best = r;
    }
    if (best < 0) return undefined;
    const until = this.rUntil[best]!;
    return {
      stream: this.streams.names[this.rStream[best]!]!,
      reason: this.reasons.names[this.rReason[best]!]!,
      class: this.classes.names[this.rClass[best]!]!,
      since: new Date(this.rSince[best]!),
      until: until === Infinity ? null : new Date(until),
    };
  }

  /**
   * Make room for `n` more rows (and addresses) without one long stall: when the table or the rows must grow,
   * the copies are made in steps of about a millisecond with `pause()` between them, during which lookups read
   * the old arrays. The caller makes no change until it resolves. (Growing at once, in add(), stalled 0.2 s at
   * 700,000 suppressions and 1.2 s at 6 million on a busy machine.)
   */
  async reserve(n: number, pause: () => Promise<void>): Promise<void> {
    const STEP = 1 << 15;
    if (this.rows + n > this.rNext.length) {
      let size = this.rNext.length;
      while (size < this.rows + n) size *= 2;
      const grown = {
        tenant: new Uint32Array(size),
        stream: new Uint32Array(size),
        reason: new Uint16Array(size),
        clazz: new Uint16Array(size),
        since: new Float64Array(size),
        until: new Float64Array(size),
        next: new Uint32Array(size),
      };
      const pairs: [Uint32Array | Uint16Array | Float64Array, Uint32Array | Uint16Array | Float64Array][] = [
        [this.rTenant, grown.tenant],
        [this.rStream, grown.stream],
        [this.rReason, grown.reason],
        [this.rClass, grown.clazz],
        [this.rSince, grown.since],
        [this.rUntil, grown.until],
        [this.rNext, grown.next],
      ];
      const used = this.used;
      for (let at = 0; at < used; at += STEP) {
        for (const [from, to] of pairs) to.set(from.subarray(at, Math.min(used, at + STEP)) as never, at);
        await pause();
      }
      this.rTenant = grown.tenant;
      this.rStream = grown.stream;
      this.rReason = grown.reason;
      this.rClass = grown.clazz;
      this.rSince = grown.since;
      this.rUntil = grown.until;
      this.rNext = grown.next;
    }
    let cap = this.mask + 1;
    if ((this.addresses + n) * 10 <= cap * 7) return;
    while ((this.addresses + n) * 10 > cap * 7) cap *= 2;
    const old = this.slots;
    const slots = new Uint32Array(cap * 4);
    const mask = cap - 1;
    for (let at = 0; at < old.length; at += STEP * 4) {
      rehash(old, at, Math.min(old.length, at + STEP * 4), slots, mask);
      await pause();
    }
    this.slots = slots;
    this.mask = mask;
  }

  // --- the table -------------------------------------------------------------------------------------------

  private findSlot(): number {
    const s = this.slots;
    // Read one by one (a destructuring of the typed array would make an iterator per lookup).
    const k0 = this.key[0]!;
    const k1 = this.key[1]!;
    const k2 = this.key[2]!;
    let i = k0 & this.mask;
    for (;;) {
      const b = i * 4;
      if (s[b + 3] === 0) return -1;
      if (s[b] === k0 && s[b + 1] === k1 && s[b + 2] === k2) return i;
      i = (i + 1) & this.mask;
    }
  }

  private findOrInsertSlot(): number {
    const found = this.findSlot();
    if (found >= 0) return found;
    if ((this.addresses + 1) * 10 > (this.mask + 1) * 7) this.grow();
    const s = this.slots;
    let i = this.key[0]! & this.mask;
    while (s[i * 4 + 3] !== 0) i = (i + 1) & this.mask;
    s[i * 4] = this.key[0]!;
    s[i * 4 + 1] = this.key[1]!;
    s[i * 4 + 2] = this.key[2]!;
    this.addresses++;
    // The caller links a row in at once (a slot with head 0 reads as empty).
    return i;
  }

  /** Empty a slot and shift back the entries after it that probed past it (linear probing without tombstones). */
  private deleteSlot(slot: number): void {
    const s = this.slots;
    const mask = this.mask;
    let hole = slot;
    let j = slot;
    for (;;) {
      j = (j + 1) & mask;
      if (s[j * 4 + 3] === 0) break;
      const home = s[j * 4]! & mask;
      // Move j into the hole when its home is not cyclically within (hole, j].
      const between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!between) {
        s.copyWithin(hole * 4, j * 4, j * 4 + 4);
        hole = j;
      }
    }
    s.fill(0, hole * 4, hole * 4 + 4);
    this.addresses--;
  }

  private grow(): void {
    const old = this.slots;
    const cap = (this.mask + 1) * 2;
    this.slots = new Uint32Array(cap * 4);
    this.mask = cap - 1;
    rehash(old, 0, old.length, this.slots, this.mask);
  }

  private newRow(): number {
    if (this.free) {
      const r = this.free - 1;
      this.free = this.rNext[r]!;
      return r;
    }
    if (this.used === this.rNext.length) this.growRows();
    return this.used++;
  }

  private freeRow(r: number): void {
    this.rNext[r] = this.free;
    this.free = r + 1;
    this.rows--;
  }

  private growRows(): void {
    const n = this.rNext.length * 2;
    const more = <T extends Uint32Array | Uint16Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a as never);
      return b;
    };
    this.rTenant = more(this.rTenant, (k) => new Uint32Array(k));
    this.rStream = more(this.rStream, (k) => new Uint32Array(k));
    this.rReason = more(this.rReason, (k) => new Uint16Array(k));
    this.rClass = more(this.rClass, (k) => new Uint16Array(k));
    this.rSince = more(this.rSince, (k) => new Float64Array(k));
    this.rUntil = more(this.rUntil, (k) => new Float64Array(k));
    this.rNext = more(this.rNext, (k) => new Uint32Array(k));
  }
}

/** Put the occupied slots of old[from, to) into the table `s` (of `mask + 1` slots). */
function rehash(old: Uint32Array, from: number, to: number, s: Uint32Array, mask: number): void {
  for (let b = from; b < to; b += 4) {
    if (old[b + 3] === 0) continue;
    let i = old[b]! & mask;
    while (s[i * 4 + 3] !== 0) i = (i + 1) & mask;
    s.set(old.subarray(b, b + 4), i * 4);
  }
}
