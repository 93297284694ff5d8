// Rates over rollup figures, with the previous period beside each figure: pure.
//
//   hardRate               hard / sent
//   complaintRate          complaint / sent          (what Gmail and Yahoo watch: under 0.1%, never 0.3%)
//   complaintRateDelivered complaint / delivered
//   blockRate              block / sent
//
// A rate whose denominator is 0 is null (no sends known: no rate, rather than an infinite one).
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
