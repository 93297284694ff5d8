// Rates over rollup figures, with the previous period beside each figure: pure.
//
//   hardRate               hard / sent
//   complaintRate          complaint / sent          (what Gmail and Yahoo watch: under 0.1%, never 0.3%)
//   complaintRateDelivered complaint / delivered
//   blockRate              block / sent
//
// A rate whose denominator is 0 is null (no sends known: no rate, rather than an infinite one). GET /v1/stats
// answers rates to RATIO_DIGITS (6) significant digits, rounded half up on the exact quotient (statsOf's
// figures, `answerFiguresOf`); figuresOf's rates (alerts, reports) are the full quotients.
import {
  ascii,
  MAX_NUMBER,
  putNumber,
  putRatio,
  ratioValue,
  type Ascii,
  type JsonBytes,
} from "../util/json-bytes.js";
import { COUNTERS, type Counter } from "./rollup.js";

export type Counts = Record<Counter, number>;

export interface Figures extends Counts {
  hardRate: number | null;
  complaintRate: number | null;
  complaintRateDelivered: number | null;
  blockRate: number | null;
}

export interface Bucket {
  group: string[];
  at: Date;
  counts: Counts;
}

export interface StatsPoint extends Figures {
  at: string;
  previous: Figures;
}

export interface StatsGroup {
  /** The group's values, by the names grouped by. */
  key: Record<string, string>;
  total: Figures;
  previous: Figures;
  points: StatsPoint[];
}

const ratio = (n: number, d: number) => (d > 0 ? n / d : null);

export const emptyCounts = (): Counts => Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Counts;

export function figuresOf(c: Counts): Figures {
  return {
    sent: c.sent,
    delivered: c.delivered,
    hard: c.hard,
    soft: c.soft,
    block: c.block,
    complaint: c.complaint,
    autoReply: c.autoReply,
    unverified: c.unverified,
    hardRate: ratio(c.hard, c.sent),
    complaintRate: ratio(c.complaint, c.sent),
    complaintRateDelivered: ratio(c.complaint, c.delivered),
    blockRate: ratio(c.block, c.sent),
  };
}

/** figuresOf's figures as GET /v1/stats answers them: each rate to RATIO_DIGITS significant digits. */
export function answerFiguresOf(c: Counts): Figures {
  const f = figuresOf(c);
  const round = (n: number, d: number) => (d > 0 ? ratioValue(n, d) : null);
  f.hardRate = round(c.hard, c.sent);
  f.complaintRate = round(c.complaint, c.sent);
  f.complaintRateDelivered = round(c.complaint, c.delivered);
  f.blockRate = round(c.block, c.sent);
  return f;
}

function add(into: Counts, c: Counts): void {
  into.sent += c.sent;
  into.delivered += c.delivered;
  into.hard += c.hard;
  into.soft += c.soft;
  into.block += c.block;
  into.complaint += c.complaint;
  into.autoReply += c.autoReply;
  into.unverified += c.unverified;
}

/**
 * Buckets of [from - period, to) to groups: each group's buckets of [from, to) as points beside the bucket one
 * period earlier, its total beside the previous period's. Groups that have figures in either period appear;
 * points where either period has figures appear. Groups in the order of their values, points in time order.
 * Rates as the API answers them (answerFiguresOf).
 */
export function statsOf(
  buckets: Bucket[],
  o: { groupBy: readonly string[]; from: Date; to: Date },
): StatsGroup[] {
  const period = o.to.getTime() - o.from.getTime();
  const from = o.from.getTime();
  const groups = new Map<
    string,
    { group: string[]; total: Counts; previous: Counts; points: Map<number, { cur: Counts; prev: Counts }> }
  >();
  for (const b of buckets) {
    // A key of the group's values: "\u0000" cannot occur in them (PostgreSQL text holds no NUL).
    const k = b.group.length === 1 ? b.group[0]! : b.group.join("\u0000");
    let g = groups.get(k);
    if (!g) {
      g = { group: b.group, total: emptyCounts(), previous: emptyCounts(), points: new Map() };
      groups.set(k, g);
    }
    const t = b.at.getTime();
    const current = t >= from;
    const at = current ? t : t + period;
    let p = g.points.get(at);
    if (!p) {
      p = { cur: emptyCounts(), prev: emptyCounts() };
      g.points.set(at, p);
    }
    add(current ? p.cur : p.prev, b.counts);
    add(current ? g.total : g.previous, b.counts);
  }
  const byKey = [...groups.values()].sort((a, b) => compareGroups(a.group, b.group));
  return byKey.map((g) => ({
    key: Object.fromEntries(o.groupBy.map((name, i) => [name, g.group[i]!])),
    total: answerFiguresOf(g.total),
    previous: answerFiguresOf(g.previous),
    points: [...g.points.entries()]
      .sort(([a], [b]) => a - b)
      .map(([at, p]) => {
        const point = answerFiguresOf(p.cur) as StatsPoint;
        point.at = new Date(at).toISOString();
        point.previous = answerFiguresOf(p.prev);
        return point;
      }),
  }));
}

/** Groups in the order of their values, the first value first (code unit order). */
function compareGroups(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i]! < b[i]!) return -1;
    if (a[i]! > b[i]!) return 1;
  }
  return 0;
}

/**
 * Buckets packed per group: bucket i's start in seconds after `origin` is `numbers[i * PACKED_STRIDE]`, its
 * counters (in COUNTERS' order) the PACKED_STRIDE - 1 numbers after; a group's buckets are `count` from `first` on,
 * its values `values` (in groupBy's order). Each group once, groups and a group's buckets in any order.
 */
export interface PackedBuckets {
  /** How many buckets, in all groups. */
  length: number;
  /** Epoch milliseconds the starts count from. */
  origin: number;
  numbers: number[];
  groups: PackedGroup[];
}
export interface PackedGroup {
  values: string[];
  first: number;
  count: number;
}
export const PACKED_STRIDE = 1 + COUNTERS.length;

/** How an answer holds its points: an object per point, or a group's points as one array per figure. */
export const STATS_FORMATS = ["points", "columnar"] as const;
export type StatsFormat = (typeof STATS_FORMATS)[number];

/** A group's points in columns: `series[f][i]` is `points[i][f]`, `series.previous[f][i]` `points[i].previous[f]`. */
export type StatsSeries = { at: string[] } & { [F in keyof Figures]: Figures[F][] } & {
  previous: { [F in keyof Figures]: Figures[F][] };
};

export interface StatsColumnarGroup {
  key: Record<string, string>;
  total: Figures;
  previous: Figures;
  series: StatsSeries;
}

const FIGURE_NAMES = [
  ...COUNTERS,
  "hardRate",
  "complaintRate",
  "complaintRateDelivered",
  "blockRate",
] as const satisfies readonly (keyof Figures)[];

/** The columnar form of statsOf's groups (what `format=columnar` answers): the same figures, point for point. */
export function columnarOf(groups: StatsGroup[]): StatsColumnarGroup[] {
  const column = (points: Figures[]) =>
    Object.fromEntries(FIGURE_NAMES.map((f) => [f, points.map((p) => p[f])])) as {
      [F in keyof Figures]: Figures[F][];
    };
  return groups.map((g) => ({
    key: g.key,
    total: g.total,
    previous: g.previous,
    series: {
      at: g.points.map((p) => p.at),
      ...column(g.points),
      previous: column(g.points.map((p) => p.previous)),
    },
  }));
}

/**
 * The groups of statsOf, written straight as JSON (an array, the same as `JSON.stringify(statsOf(...))` with the
 * key's names in `names`' order, as the response schema's serialiser writes them; with `format: "columnar"`, as
 * `JSON.stringify(columnarOf(statsOf(...)))`), from packed buckets. For the large answers (tens of thousands of
 * points) this is what the API sends: no object per point or figure is made, and no serialiser walks them. The
 * groups and their buckets are in any order; several buckets of one group, start and period are summed.
 */
export function writeStatsGroups(out: JsonBytes, buckets: PackedBuckets, o: StatsWriteOptions): void {
  const w = new StatsGroupsWriter(out, { ...o, origin: buckets.origin });
  const sorted = [...buckets.groups].sort((a, b) => compareGroups(a.values, b.values));
  for (const g of sorted) w.group(g.values, buckets.numbers, g.first, g.count);
  w.end();
}

export interface StatsWriteOptions {
  groupBy: readonly string[];
  names: readonly string[];
  from: Date;
  to: Date;
  format?: StatsFormat;
}

/**
 * writeStatsGroups one group at a time, as the groups come (from PostgreSQL, while it sends the next ones): a
 * group's buckets in PACKED_STRIDE numbers each (start in seconds after `origin`, then the counters). The groups
 * should come in their order (statsOf's); any that does not is put in its place at the end (`end`).
 */
export class StatsGroupsWriter {
  private readonly K = COUNTERS.length;
  private readonly columnar: boolean;
  /** In seconds after the buckets' origin. */
  private readonly period: number;
  private readonly from: number;
  private readonly origin: number;
  private readonly keyNames: string[];
  private readonly keyPlaces: number[];
  private readonly keyMembers: Ascii[];
  private readonly isoText = new Map<number, Ascii>();
  private readonly total: number[] = COUNTERS.map(() => 0);
  private readonly previous: number[] = COUNTERS.map(() => 0);
  /** A group's buckets' starts in the current period (seconds), and the buckets in that order. */
  private readonly shifted: number[] = [];
  private readonly rows: number[] = [];
  /** A group's buckets of the previous period and of the current one, each in the order given. */
  private readonly earlier: number[] = [];
  private readonly later: number[] = [];
  /** Where each of a group's buckets is in `numbers`. */
  private readonly places: number[] = [];
  /** A group's points: their starts, and their sums (the current period's K counters, then the previous one's). */
  private readonly ats: number[] = [];
  private readonly sums: number[] = [];
  /** Where the array starts in `out`, and each group's values and end, while the groups came in order. */
  private readonly start: number;
  private readonly written: { values: readonly string[]; end: number }[] = [];
  private last: readonly string[] | undefined;
  private unordered = false;

  constructor(
    private readonly out: JsonBytes,
    o: StatsWriteOptions & { origin: number },
  ) {
    this.columnar = o.format === "columnar";
    this.period = (o.to.getTime() - o.from.getTime()) / 1000;
    this.from = (o.from.getTime() - o.origin) / 1000;
    this.origin = o.origin;
    // The key's names in the order given (the schema's), each with its place in the group's values.
    this.keyNames = o.names.filter((name) => o.groupBy.includes(name));
    this.keyPlaces = this.keyNames.map((name) => o.groupBy.indexOf(name));
    this.keyMembers = this.keyNames.map((name, k) => ascii(`${k ? "," : ""}${JSON.stringify(name)}:`));
    out.raw(OPEN_ARRAY);
    this.start = out.length;
  }

  /**
   * One group: its values (groupBy's order) and its `count` buckets at `first` in `numbers`, in any order; with
   * `index`, bucket i is the `index[first + i]`-th in `numbers` instead.
   */
  group(
    values: readonly string[],
    numbers: ArrayLike<number>,
    first: number,
    count: number,
    index?: ArrayLike<number>,
  ): void {
    const { out, K, total, previous, ats, sums, rows, from, period } = this;
    const K2 = 2 * K;
    if (this.last && compareGroups(this.last, values) > 0) this.unordered = true;
    this.last = values;
    const { shifted, earlier, later, places } = this;
    rows.length = count;
    // PostgreSQL's order is mostly time order: the previous period's buckets in order, and the current one's.
    // Those two runs are merged by their starts shifted into the window; any other order is sorted.
    let ne = 0;
    let nl = 0;
    let runs = true;
    for (let i = 0; i < count; i++) {
      const at = (index ? index[first + i]! : first + i) * PACKED_STRIDE;
      places[i] = at;
      const t = numbers[at]!;
      if (t >= from) {
        shifted[i] = t;
        if (nl && t < shifted[later[nl - 1]!]!) runs = false;
        later[nl++] = i;
      } else {
        shifted[i] = t + period;
        if (ne && t + period < shifted[earlier[ne - 1]!]!) runs = false;
        earlier[ne++] = i;
      }
    }
    if (runs) {
      // Equal starts: the current period's bucket first (a stable sort of the buckets as given would put either
      // first; the sums do not depend on it).
      let a = 0;
      let b = 0;
      for (let r = 0; r < count; r++)
        rows[r] =
          b < ne && (a >= nl || shifted[earlier[b]!]! < shifted[later[a]!]!) ? earlier[b++]! : later[a++]!;
    } else {
      for (let i = 0; i < count; i++) rows[i] = i;
      rows.sort((x, y) => shifted[x]! - shifted[y]!);
    }
    total.fill(0);
    previous.fill(0);
    let np = 0;
    for (let r = 0; r < count; np++) {
      const t = shifted[rows[r]!]!;
      const base = np * K2;
      for (let c = 0; c < K2; c++) sums[base + c] = 0;
      ats[np] = t;
      for (; r < count && shifted[rows[r]!] === t; r++) {
        const at = places[rows[r]!]!;
        const current = numbers[at]! >= from;
        const into = current ? total : previous;
        const off = current ? base : base + K;
        for (let c = 0; c < K; c++) {
          const v = numbers[at + 1 + c]!;
          sums[off + c]! += v;
          into[c]! += v;
        }
      }
    }
    out.raw(this.written.length ? NEXT_GROUP : FIRST_GROUP);
    for (let k = 0; k < this.keyNames.length; k++)
      out.raw(this.keyMembers[k]!).string(values[this.keyPlaces[k]!]!);
    out.raw(TOTAL);
    writeFigures(out, total, 0);
    out.raw(PREVIOUS);
    writeFigures(out, previous, 0);
    if (this.columnar) {
      out.raw(SERIES_AT);
      for (let p = 0; p < np; p++) {
        if (p) out.raw(COMMA);
        out.raw(this.iso(ats[p]!));
      }
      writeColumns(out, sums, np, 0);
      out.raw(SERIES_PREVIOUS);
      writeColumns(out, sums, np, K);
      out.raw(CLOSE_SERIES);
    } else {
      out.raw(POINTS);
      for (let p = 0; p < np; p++) {
        out
          .raw(p ? NEXT_POINT : FIRST_POINT)
          .raw(AT)
          .raw(this.iso(ats[p]!))
          .raw(COMMA);
        writeFigures(out, sums, p * K2);
        out.raw(POINT_PREVIOUS);
        writeFigures(out, sums, p * K2 + K);
        out.raw(CLOSE_POINT);
      }
      out.raw(CLOSE_GROUP);
    }
    this.written.push({ values, end: out.length });
  }

  /** Closes the array, the groups in their order. */
  end(): void {
    const { out, written } = this;
    if (this.unordered) {
      // Each group's text (without the comma before it), then written again in order.
      const bytes = out.bytes();
      const parts = written.map((g, i) => ({
        values: g.values,
        text: Buffer.from(bytes.subarray((i ? written[i - 1]!.end : this.start) + (i ? 1 : 0), g.end)),
      }));
      parts.sort((a, b) => compareGroups(a.values, b.values));
      out.truncate(this.start);
      parts.forEach((p, i) => {
        if (i) out.raw(COMMA);
        out.raw(p.text);
      });
    }
    out.raw(CLOSE_ARRAY);
  }

  /** A start's time as a JSON string, made once per answer. */
  private iso(t: number): Ascii {
    let when = this.isoText.get(t);
    if (when === undefined) {
      when = ascii(`"${new Date(this.origin + t * 1000).toISOString()}"`);
      this.isoText.set(t, when);
    }
    return when;
  }
}

// A group: {"key":{...},"total":{...},"previous":{...},"points":[{"at":"...",...,"previous":{...}},...]}, the
// members in the schema's order (as its serialiser wrote them); columnar: ...,"series":{"at":[...],"sent":[...],
// ...,"previous":{"sent":[...],...}}}.
const OPEN_ARRAY = ascii("[");
const CLOSE_ARRAY = ascii("]");
const COMMA = ascii(",");
const FIRST_GROUP = ascii('{"key":{');
const NEXT_GROUP = ascii(',{"key":{');
const POINTS = ascii('},"points":[');
const CLOSE_GROUP = ascii("]}");
const FIRST_POINT = ascii("{");
const AT = ascii('"at":');
const NEXT_POINT = ascii(",{");
const POINT_PREVIOUS = ascii(',"previous":{');
const CLOSE_POINT = ascii("}}");
const TOTAL = ascii('},"total":{');
const PREVIOUS = ascii('},"previous":{');
const SERIES_AT = ascii('},"series":{"at":[');
const SERIES_PREVIOUS = ascii(',"previous":');
const CLOSE_SERIES = ascii("}}");
const MEMBERS = FIGURE_NAMES.map((f, i) => ascii(`${i ? "," : ""}"${f}":`));
// A column: `],"sent":[` after the one before it (the first closes `at`'s array); `{"sent":[` first in `previous`.
const COLUMNS = FIGURE_NAMES.map((f) => ascii(`],"${f}":[`));
const FIRST_PREVIOUS_COLUMN = ascii(`{"${FIGURE_NAMES[0]}":[`);
const CLOSE_COLUMN = ascii("]");
const CLOSE_COLUMNS = ascii("]}");

/** The members of a Figures object (figuresOf's), from counters in COUNTERS' order at `at` in `c`. */
function writeFigures(out: JsonBytes, c: number[], at: number): void {
  const buf = out.reserve(FIGURES_ROOM);
  let pos = out.length;
  for (let i = 0; i < COUNTERS.length; i++) {
    const name = MEMBERS[i]!;
    for (let k = 0; k < name.length; k++) buf[pos++] = name[k]!;
    pos = putNumber(buf, pos, c[at + i]!);
  }
  const sent = c[at]!;
  const delivered = c[at + 1]!;
  const block = c[at + 4]!;
  const complaint = c[at + 5]!;
  pos = putRatio(buf, putName(buf, pos, MEMBERS[8]!), c[at + 2]!, sent);
  pos = putRatio(buf, putName(buf, pos, MEMBERS[9]!), complaint, sent);
  pos = putRatio(buf, putName(buf, pos, MEMBERS[10]!), complaint, delivered);
  pos = putRatio(buf, putName(buf, pos, MEMBERS[11]!), block, sent);
  out.commit(pos);
}

function putName(buf: Buffer, pos: number, name: Ascii): number {
  for (let k = 0; k < name.length; k++) buf[pos++] = name[k]!;
  return pos;
}

/** The most bytes writeFigures writes. */
const FIGURES_ROOM = MEMBERS.reduce((n, m) => n + m.length + MAX_NUMBER, 0);

/**
 * A series' columns (`"sent":[...],...,"blockRate":[...]`) of `np` points whose counters are at `p * 2K + off` in
 * `sums`. For the current period (off 0) the first column closes the `at` array before it; for the previous one
 * the columns are an object of their own. Each column written straight into the buffer, room made once.
 */
function writeColumns(out: JsonBytes, sums: number[], np: number, off: number): void {
  const K = COUNTERS.length;
  const K2 = 2 * K;
  for (let f = 0; f < FIGURE_NAMES.length; f++) {
    out.raw(f === 0 && off ? FIRST_PREVIOUS_COLUMN : COLUMNS[f]!);
    const buf = out.reserve(np * (MAX_NUMBER + 1));
    let pos = out.length;
    if (f < K) {
      for (let p = 0, at = off + f; p < np; p++, at += K2) {
        if (p) buf[pos++] = 44;
        pos = putNumber(buf, pos, sums[at]!);
      }
    } else {
      // The rate's numerator and denominator among the counters.
      const [num, den] = RATE_TERMS[f - K]!;
      for (let p = 0, at = off; p < np; p++, at += K2) {
        if (p) buf[pos++] = 44;
        pos = putRatio(buf, pos, sums[at + num]!, sums[at + den]!);
      }
    }
    out.commit(pos);
  }
  out.raw(off ? CLOSE_COLUMNS : CLOSE_COLUMN);
}

/** Each rate of FIGURE_NAMES (after the counters): its numerator's and denominator's places in COUNTERS. */
const RATE_TERMS: readonly (readonly [number, number])[] = [
  [COUNTERS.indexOf("hard"), COUNTERS.indexOf("sent")],
  [COUNTERS.indexOf("complaint"), COUNTERS.indexOf("sent")],
  [COUNTERS.indexOf("complaint"), COUNTERS.indexOf("delivered")],
  [COUNTERS.indexOf("block"), COUNTERS.indexOf("sent")],
];
