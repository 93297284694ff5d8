// GET /v1/stats' buckets as PostgreSQL sends them: a COPY of the buckets' rows (the group's values, then the
// bucket's start and its counters as integers), grouped here as they come (streamBuckets, src/store/rollups.ts).
import { PACKED_STRIDE } from "../core/stats.js";
import { COPY_UNESCAPED, type LineSink } from "./copy.js";

/**
 * The rows' arrays of the last answer, kept for the next one (an answer made meanwhile makes its own): arrays
 * made per answer, or one per group even kept, cost V8's collector threads as much CPU as the rest of the answer.
 */
let spare: { numbers: number[]; groupOf: Int32Array } | undefined;

/**
 * The lines of a COPY (text format) of buckets, one row each: `dims` group values, then PACKED_STRIDE integers
 * (the bucket's start in seconds after the window's, the counters), a tab between fields. Grouped by their
 * values' bytes as they come: no string is made per row, only per group. `end` then hands out the groups in the
 * order of their values' bytes (PostgreSQL's "C" collation), each group's buckets in the order they came.
 */
/**
 * Takes one group of buckets: its values (the grouping columns), and its buckets at numbers[index[first + i] *
 * PACKED_STRIDE] for i < count.
 */
export type BucketGroupSink = (
  values: string[],
  numbers: readonly number[],
  index: Int32Array,
  first: number,
  count: number,
) => void;

export class BucketRows implements LineSink {
  private rows = 0;
  /** The rows' numbers (PACKED_STRIDE each), in the order they came: a plain array, whose numbers stay small
   * integers (the JSON writer's fastest); and each row's group. */
  private readonly numbers: number[];
  private groupOf: Int32Array;
  /** How many rows each group has. */
  private readonly counts: number[] = [];
  /** Each group's values as COPY sends them (escaped, a tab after each), in `keys`. */
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

  constructor(private readonly dims: number) {
    this.numbers = spare?.numbers ?? [];
    this.groupOf = spare?.groupOf ?? new Int32Array(4096);
    spare = undefined;
  }

  line(buf: Buffer, start: number, end: number): void {
    let p = start;
    for (let d = 0; d < this.dims; d++) {
      while (buf[p] !== 9) p++;
      p++;
    }
    let g = this.last >= 0 ? this.after[this.last]! : -1;
    if (g < 0 || !this.sameKey(g, buf, start, p)) g = this.groupFor(buf, start, p);
    if (this.last >= 0) this.after[this.last] = g;
    this.last = g;
    const row = this.rows++;
    if (row === this.groupOf.length) {
      const more = new Int32Array(2 * row);
      more.set(this.groupOf);
      this.groupOf = more;
    }
    this.groupOf[row] = g;
    this.counts[g]!++;
    const list = this.numbers;
    let o = row * PACKED_STRIDE;
    // Integers, a tab after each but the last (a newline).
    let v = 0;
    let sign = 1;
    for (; p < end; p++) {
      const c = buf[p]!;
      if (c >= 48) v = v * 10 + c - 48;
      else if (c === 45) sign = -1;
      else {
        list[o++] = sign * v;
        v = 0;
        sign = 1;
      }
    }
  }

  flush(): void {}

  /**
   * Hands out the groups, ordered by their values' bytes: `begin(buckets)` first (when there are any), then
   * `group(values, numbers, index, first, count)` for each, its buckets at numbers[index[first + i] *
   * PACKED_STRIDE] for i < count, in the order they came. Returns the number of buckets.
   */
  end(group: BucketGroupSink, begin: (buckets: number) => void): number {
    const { rows, keys, numbers, groupOf, counts } = this;
    try {
      if (!rows) return 0;
      begin(rows);
      const groups = counts.length;
      // Each group's rows together, in the order they came (a counting sort of their places).
      const first = new Int32Array(groups + 1);
      for (let g = 0; g < groups; g++) first[g + 1] = first[g]! + counts[g]!;
      const next = first.slice(0, groups);
      const index = new Int32Array(rows);
      for (let r = 0; r < rows; r++) index[next[groupOf[r]!]!++] = r;
      // Each group's values, unescaped: as bytes (to order the groups) and as text.
      const raw = counts.map((_, g) => {
        const vs: Buffer[] = [];
        for (let p = this.keyStart[g]!; p < this.keyEnd[g]!;) {
          const from = p;
          while (keys[p] !== 9) p++;
          vs.push(unescapeCopy(keys, from, p));
          p++;
        }
        return vs;
      });
      const order = Array.from({ length: groups }, (_, g) => g).sort((a, b) =>
        compareValues(raw[a]!, raw[b]!),
      );
      for (const g of order)
        group(
          raw[g]!.map((v) => v.toString("utf8")),
          numbers,
          index,
          first[g]!,
          counts[g]!,
        );
      return rows;
    } finally {
      spare = { numbers, groupOf: this.groupOf };
    }
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
    const g = this.counts.length;
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
    this.counts.push(0);
    this.after.push(-1);
    if (2 * (g + 1) > slots.length) this.rehash();
    else slots[s] = g + 1;
    return g;
  }

  /** Twice the slots, every group placed again by its hash. */
  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    const { keys } = this;
    for (let g = 0; g < this.counts.length; g++) {
      let h = 0x811c9dc5;
      for (let p = this.keyStart[g]!; p < this.keyEnd[g]!; p++) h = Math.imul(h ^ keys[p]!, 0x01000193);
      let s = (h >>> 0) & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = g + 1;
    }
    this.slots = slots;
  }
}

/** Two groups' values, value by value, by their bytes. */
function compareValues(a: Buffer[], b: Buffer[]): number {
  for (let i = 0; i < a.length; i++) {
    const c = Buffer.compare(a[i]!, b[i]!);
    if (c) return c;
  }
  return 0;
}

/** A value of COPY's text format, its backslash sequences undone. */
function unescapeCopy(buf: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  let n = 0;
  for (let i = start; i < end; i++) out[n++] = buf[i] === 92 ? COPY_UNESCAPED[buf[++i]!]! : buf[i]!;
  return out.subarray(0, n);
}
