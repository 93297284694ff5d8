// What an event or a send adds to the hourly rollups: pure. The counters are a closed list; the key is tenant,
// stream, campaign, sending IP, provider and hour.
//
// An event tied to its send (by the returned original's Message-ID) counts in the hour of the send, with the
// send's campaign and sending IP: a campaign's rate is its own bounces over its own sends, and late bounces land
// in the hour they belong to. An event not tied to a send counts in the hour it arrived, campaign and sending IP
// unknown (''). An event whose sender could not be verified counts only as `unverified` (anyone can forge a
// bounce; a forged flood must not move the rates).

export const COUNTERS = [
  "sent",
  "delivered",
  "hard",
  "soft",
  "block",
  "complaint",
  "autoReply",
  "unverified",
] as const;
export type Counter = (typeof COUNTERS)[number];

export interface RollupKey {
  tenant: string;
  /** The start of the hour (UTC). */
  hour: Date;
  stream: string;
  provider: string;
  /** '' when unknown. */
  campaign: string;
  /** '' when unknown. */
  sendingIp: string;
}

export interface RollupIncrement extends RollupKey {
  counts: Partial<Record<Counter, number>>;
}

const HOUR_MS = 3_600_000;

export const hourOf = (d: Date) => new Date(Math.floor(d.getTime() / HOUR_MS) * HOUR_MS);

const CLASS_COUNTER: Partial<Record<string, Counter>> = {
  delivered: "delivered",
  hard: "hard",
  soft: "soft",
  block: "block",
  complaint: "complaint",
  auto_reply: "autoReply",
};

export interface CountedEvent {
  tenant: string;
  stream: string;
  class: string;
  provider: string;
  campaign: string | null;
  sendingIp: string | null;
  sentAt: Date | null;
  occurredAt: Date;
  /** The policy only recorded the event: its sender could not be verified. */
  unverified: boolean;
}

/** What an event adds, or undefined when it counts nowhere (undetermined). */
export function rollupOfEvent(e: CountedEvent): RollupIncrement | undefined {
  const counter = CLASS_COUNTER[e.class];
  if (!counter) return undefined;
  return {
    tenant: e.tenant,
    hour: hourOf(e.sentAt ?? e.occurredAt),
    stream: e.stream,
    provider: e.provider,
    campaign: e.campaign ?? "",
    sendingIp: e.sendingIp ?? "",
    counts: { [e.unverified ? "unverified" : counter]: 1 },
  };
}

const keyString = (k: RollupKey) =>
  JSON.stringify([k.tenant, k.hour.getTime(), k.stream, k.provider, k.campaign, k.sendingIp]);

/**
 * Increments summed per key, in key order (so that every writer locks rollup rows in the same order: no
 * deadlock between workers).
 */
export function mergeIncrements(incs: Iterable<RollupIncrement>): RollupIncrement[] {
  const byKey = new Map<string, RollupIncrement>();
  for (const inc of incs) {
    const k = keyString(inc);
    const had = byKey.get(k);
    if (!had) {
      byKey.set(k, { ...inc, counts: { ...inc.counts } });
      continue;
    }
    for (const c of COUNTERS) if (inc.counts[c]) had.counts[c] = (had.counts[c] ?? 0) + inc.counts[c]!;
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

/** Collects a transaction's increments, written once at its end (the rows' locks held the least time). */
export class RollupCollector {
  private readonly items: RollupIncrement[] = [];
  add(inc: RollupIncrement | undefined): void {
    if (inc) this.items.push(inc);
  }
  take(): RollupIncrement[] {
    return mergeIncrements(this.items.splice(0));
  }
}
