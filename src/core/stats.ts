// Rates over rollup figures, with the previous period beside each figure: pure.
//
//   hardRate               hard / sent
//   complaintRate          complaint / sent          (what Gmail and Yahoo watch: under 0.1%, never 0.3%)
//   complaintRateDelivered complaint / delivered
//   blockRate              block / sent
//
// A rate whose denominator is 0 is null (no sends known: no rate, rather than an infinite one).
import { ascii, type Ascii, type JsonBytes } from "../util/json-bytes.js";
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
    total: figuresOf(g.total),
    previous: figuresOf(g.previous),
    points: [...g.points.entries()]
      .sort(([a], [b]) => a - b)
      .map(([at, p]) => {
        const point = figuresOf(p.cur) as StatsPoint;
        point.at = new Date(at).toISOString();
        point.previous = figuresOf(p.prev);
        return point;
      }),
  }));
}

/** Groups in the order of their values, the first value first (code unit order). */
function compareGroups(a: string[], b: string[]): number {
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
export function writeStatsGroups(
  out: JsonBytes,
  buckets: PackedBuckets,
  o: {
    groupBy: readonly string[];
    names: readonly string[];
    from: Date;
    to: Date;
    format?: StatsFormat;
  },
): void {
  const K = COUNTERS.length;
  const K2 = 2 * K;
  const columnar = o.format === "columnar";
  // In seconds after the buckets' origin.
  const period = (o.to.getTime() - o.from.getTime()) / 1000;
  const from = (o.from.getTime() - buckets.origin) / 1000;
  const sorted = [...buckets.groups].sort((a, b) => compareGroups(a.values, b.values));
  const { numbers } = buckets;
  // A group's buckets, and each bucket's start in the current period (seconds).
  const shifted = new Float64Array(buckets.length);
  const rows: number[] = [];
  // The key's names in the order given (the schema's), each with its place in the group's values.
  const keyNames = o.names.filter((name) => o.groupBy.includes(name));
  const keyPlaces = keyNames.map((name) => o.groupBy.indexOf(name));
  const keyMembers = keyNames.map((name, k) => ascii(`${k ? "," : ""}${JSON.stringify(name)}:`));
  const iso = new Map<number, Ascii>();
  const isoString = new Map<number, Ascii>();
  const total: number[] = COUNTERS.map(() => 0);
  const previous: number[] = COUNTERS.map(() => 0);
  // A group's points: their starts, and their sums (the current period's K counters, then the previous one's).
  const ats: number[] = [];
  const sums: number[] = [];
  out.raw(OPEN_ARRAY);
  for (let gi = 0; gi < sorted.length; gi++) {
    const { values: group, first, count: nb } = sorted[gi]!;
    rows.length = nb;
    for (let i = 0; i < nb; i++) {
      const b = first + i;
      const t = numbers[b * PACKED_STRIDE]!;
      shifted[b] = t >= from ? t : t + period;
      rows[i] = b;
    }
    rows.sort((a, b) => shifted[a]! - shifted[b]!);
    total.fill(0);
    previous.fill(0);
    let np = 0;
    for (let r = 0; r < nb; np++) {
      const t = shifted[rows[r]!]!;
      const base = np * K2;
      for (let c = 0; c < K2; c++) sums[base + c] = 0;
      ats[np] = t;
      for (; r < nb && shifted[rows[r]!] === t; r++) {
        const at = rows[r]! * PACKED_STRIDE;
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
    out.raw(gi ? NEXT_GROUP : FIRST_GROUP);
    for (let k = 0; k < keyNames.length; k++) out.raw(keyMembers[k]!).string(group[keyPlaces[k]!]!);
    out.raw(TOTAL);
    writeFigures(out, total, 0);
    out.raw(PREVIOUS);
    writeFigures(out, previous, 0);
    if (columnar) {
      out.raw(SERIES_AT);
      for (let p = 0; p < np; p++) {
        const t = ats[p]!;
        let when = isoString.get(t);
        if (when === undefined) {
          when = ascii(`"${new Date(buckets.origin + t * 1000).toISOString()}"`);
          isoString.set(t, when);
        }
        if (p) out.raw(COMMA);
        out.raw(when);
      }
      writeColumns(out, sums, np, 0);
      out.raw(SERIES_PREVIOUS);
      writeColumns(out, sums, np, K);
      out.raw(CLOSE_SERIES);
      continue;
    }
    out.raw(POINTS);
    for (let p = 0; p < np; p++) {
      const t = ats[p]!;
      let when = iso.get(t);
      if (when === undefined) {
        when = ascii(`"at":"${new Date(buckets.origin + t * 1000).toISOString()}",`);
        iso.set(t, when);
      }
      out.raw(p ? NEXT_POINT : FIRST_POINT).raw(when);
      writeFigures(out, sums, p * K2);
      out.raw(POINT_PREVIOUS);
      writeFigures(out, sums, p * K2 + K);
      out.raw(CLOSE_POINT);
    }
    out.raw(CLOSE_GROUP);
  }
  out.raw(CLOSE_ARRAY);
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
  for (let i = 0; i < COUNTERS.length; i++) out.member(MEMBERS[i]!, c[at + i]!);
  const sent = c[at]!;
  const delivered = c[at + 1]!;
  const block = c[at + 4]!;
  const complaint = c[at + 5]!;
  out.member(MEMBERS[8]!, ratio(c[at + 2]!, sent));
  out.member(MEMBERS[9]!, ratio(complaint, sent));
  out.member(MEMBERS[10]!, ratio(complaint, delivered));
  out.member(MEMBERS[11]!, ratio(block, sent));
}

/**
 * A series' columns (`"sent":[...],...,"blockRate":[...]`) of `np` points whose counters are at `p * 2K + off` in
 * `sums`. For the current period (off 0) the first column closes the `at` array before it; for the previous one
 * the columns are an object of their own.
 */
function writeColumns(out: JsonBytes, sums: number[], np: number, off: number): void {
  const K = COUNTERS.length;
  const K2 = 2 * K;
  for (let f = 0; f < FIGURE_NAMES.length; f++) {
    out.raw(f === 0 && off ? FIRST_PREVIOUS_COLUMN : COLUMNS[f]!);
    for (let p = 0, at = off; p < np; p++, at += K2) {
      if (p) out.raw(COMMA);
      if (f < K) out.number(sums[at + f]!);
      else if (f === K) out.number(ratio(sums[at + 2]!, sums[at]!));
      else if (f === K + 1) out.number(ratio(sums[at + 5]!, sums[at]!));
      else if (f === K + 2) out.number(ratio(sums[at + 5]!, sums[at + 1]!));
      else out.number(ratio(sums[at + 4]!, sums[at]!));
    }
  }
  out.raw(off ? CLOSE_COLUMNS : CLOSE_COLUMN);
}
