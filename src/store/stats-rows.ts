// GET /v1/stats' buckets as PostgreSQL sends them: a binary COPY of the buckets' rows (the group's values, the
// bucket's start, its counters), grouped here as they come (streamBuckets, src/store/rollups.ts).
import { PACKED_STRIDE } from "../core/stats.js";
import type { LineSink } from "./copy.js";

/** The start of a binary COPY: its signature, then flags and the header extension's length (32 bits each). */
const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");
/** PostgreSQL's epoch (2000-01-01 UTC) in Unix seconds: timestamptz's binary form counts microseconds from it. */
const PG_EPOCH = 946_684_800;
const TWO_32 = 4_294_967_296;

/** A signed 32-bit integer, big-endian, at buf[p]. */
const int32 = (buf: Buffer, p: number) =>
  (buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!;
/** A signed 64-bit integer, big-endian, at buf[p], as a number (exact up to 2^53). */
const int64 = (buf: Buffer, p: number) => {
  const hi = int32(buf, p);
  const lo = int32(buf, p + 4);
  // Counters are mostly under 2^31: then the low half as it is, a small integer.
  return hi === 0 && lo >= 0 ? lo : hi * TWO_32 + (lo >>> 0);
};

/**
 * The groups' arrays of the last answer, kept for the next one (an answer made meanwhile makes its own): made
 * and dropped per answer, their megabytes were most of what the collector did.
 */
let spare: number[][] | undefined;

/**
 * The rows of a binary COPY of buckets (columns: `dims` group values as text, the bucket's start as timestamptz,
 * PACKED_STRIDE - 1 bigint counters; no nulls), one CopyData message each, grouped by their values' bytes as they
 * come: no string is made per row, only per group. `end` then hands out the groups in the order of their values'
 * bytes (PostgreSQL's "C" collation), each group's buckets in the order they came: PACKED_STRIDE numbers each,
 * the start in seconds after `origin` (epoch ms), then the counters.
 */
export class BucketRows implements LineSink {
  private rows = 0;
  /** Each group's buckets' numbers: plain arrays, whose numbers stay small integers (the JSON writer's fastest). */
  private readonly lists: number[][];
  private readonly lengths: number[] = [];
  /** Each group's values' bytes (each value after its 32-bit length, as COPY sends them), in `keys`. */
  private keys = Buffer.allocUnsafe(4096);
  private keysLength = 0;
  private readonly keyStart: number[] = [];
  private readonly keyEnd: number[] = [];
  /** Open addressing on a hash of a group's bytes: group + 1, or 0 for a free slot. */
  private slots = new Int32Array(1024);
  /** The group of the row before, and the group that followed each group last: rows mostly come in a cycle
   * (each hour's rows in key order, as every writer writes them), so the next group is mostly known. */
  private last = -1;
  private readonly after: number[] = [];
  private headerDone = false;
  private readonly originSeconds: number;

  constructor(
    private readonly dims: number,
    origin: number,
  ) {
    this.originSeconds = origin / 1000;
    this.lists = spare ?? [];
    spare = undefined;
  }

  line(buf: Buffer, start: number, end: number): void {
    let p = start;
    if (!this.headerDone) {
      if (buf.compare(SIGNATURE, 0, SIGNATURE.length, p, p + SIGNATURE.length) !== 0)
        throw new Error("not a binary COPY");
      p += SIGNATURE.length + 4;
      p += 4 + int32(buf, p);
      this.headerDone = true;
      if (p >= end) return;
    }
    // The trailer: a field count of -1.
    if (buf[p] === 0xff) return;
    p += 2;
    const keyFrom = p;
    for (let d = 0; d < this.dims; d++) p += 4 + int32(buf, p);
    let g = this.last >= 0 ? this.after[this.last]! : -1;
    if (g < 0 || !this.sameKey(g, buf, keyFrom, p)) g = this.groupFor(buf, keyFrom, p);
    if (this.last >= 0) this.after[this.last] = g;
    this.last = g;
    this.rows++;
    const list = this.lists[g]!;
    let o = this.lengths[g]!;
    // The start: microseconds after PostgreSQL's epoch (each field after its length, 8). Within a window of at
    // most 400 days of `origin`: a 32-bit integer, kept a small integer.
    list[o++] = (int64(buf, p + 4) / 1e6 + PG_EPOCH - this.originSeconds) | 0;
    p += 12;
    for (let c = 1; c < PACKED_STRIDE; c++, p += 12) list[o++] = int64(buf, p + 4);
    this.lengths[g] = o;
  }

  flush(): void {}

  /**
   * Hands out the groups, ordered by their values' bytes: `begin(buckets)` first (when there are any), then
   * `group(values, numbers, count)` for each, its buckets from numbers[0] in the order they came. Returns the
   * number of buckets.
   */
  end(
    group: (values: string[], numbers: readonly number[], count: number) => void,
    begin: (buckets: number) => void,
  ): number {
    const { rows, keys, lists, lengths } = this;
    try {
      if (!rows) return 0;
      begin(rows);
      const values = (g: number) => {
        const vs: string[] = [];
        for (let p = this.keyStart[g]!; p < this.keyEnd[g]!;) {
          const n = int32(keys, p);
          vs.push(keys.toString("utf8", p + 4, p + 4 + n));
          p += 4 + n;
        }
        return vs;
      };
      const order = Array.from({ length: lengths.length }, (_, g) => g).sort((a, b) =>
        this.compareKeys(a, b),
      );
      for (const g of order) group(values(g), lists[g]!, lengths[g]! / PACKED_STRIDE);
      return rows;
    } finally {
      spare = lists;
    }
  }

  /** Two groups' values, value by value, by their bytes. */
  private compareKeys(a: number, b: number): number {
    const { keys } = this;
    let p = this.keyStart[a]!;
    let q = this.keyStart[b]!;
    for (let d = 0; d < this.dims; d++) {
      const n = int32(keys, p);
      const m = int32(keys, q);
      const c = keys.compare(keys, q + 4, q + 4 + m, p + 4, p + 4 + n);
      if (c) return c;
      p += 4 + n;
      q += 4 + m;
    }
    return 0;
  }

  /** Whether group g's values are buf[from, to). */
  private sameKey(g: number, buf: Buffer, from: number, to: number): boolean {
    const { keys } = this;
    const k = this.keyStart[g]!;
    const n = to - from;
    if (this.keyEnd[g]! - k !== n) return false;
    for (let i = 0; i < n; i++) if (keys[k + i] !== buf[from + i]) return false;
    return true;
  }

  /** The group whose values are buf[from, to), added if new. */
  private groupFor(buf: Buffer, from: number, to: number): number {
    let h = 0x811c9dc5;
    for (let p = from; p < to; p++) h = Math.imul(h ^ buf[p]!, 0x01000193);
    const { slots } = this;
    const mask = slots.length - 1;
    let s = (h >>> 0) & mask;
    for (; slots[s] !== 0; s = (s + 1) & mask)
      if (this.sameKey(slots[s]! - 1, buf, from, to)) return slots[s]! - 1;
    const g = this.lengths.length;
    const n = to - from;
    if (this.keysLength + n > this.keys.length) {
      const more = Buffer.allocUnsafe(Math.max(2 * this.keys.length, this.keysLength + n));
      this.keys.copy(more, 0, 0, this.keysLength);
      this.keys = more;
    }
    buf.copy(this.keys, this.keysLength, from, to);
    this.keyStart.push(this.keysLength);
    this.keysLength += n;
    this.keyEnd.push(this.keysLength);
    this.lengths.push(0);
    this.after.push(-1);
    if (g === this.lists.length) this.lists.push([]);
    if (2 * (g + 1) > slots.length) this.rehash();
    else slots[s] = g + 1;
    return g;
  }

  /** Twice the slots, every group placed again by its hash. */
  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    const { keys } = this;
    for (let g = 0; g < this.lengths.length; g++) {
      let h = 0x811c9dc5;
      for (let p = this.keyStart[g]!; p < this.keyEnd[g]!; p++) h = Math.imul(h ^ keys[p]!, 0x01000193);
      let s = (h >>> 0) & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = g + 1;
    }
    this.slots = slots;
  }
}
