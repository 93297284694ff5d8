// The weekly or monthly deliverability report as data: pure (its figures passed in, the clock too). Rendered as
// HTML, JSON or CSV by src/core/report-render.ts; gathered from the database by src/monitor/report-data.ts.
// (src/core/report.ts is something else: what the classifier says of one mail.)
import { blocklistsIn } from "./blocklists.js";
import { emptyCounts, figuresOf, type Bucket, type Counts, type Figures } from "./stats.js";

export const REPORT_PERIODS = ["week", "month"] as const;
export type ReportPeriod = (typeof REPORT_PERIODS)[number];

export const REPORT_FORMATS = ["html", "json", "csv"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface Window {
  from: Date;
  to: Date;
}

const DAY = 86_400_000;
const utcDay = (t: number) => Math.floor(t / DAY) * DAY;

/**
 * The last complete period before `now` and the one before it: ISO weeks (Monday 00:00 UTC to the next Monday)
 * or calendar months (UTC).
 */
export function reportWindows(period: ReportPeriod, now: Date): { current: Window; previous: Window } {
  if (period === "week") {
    const today = utcDay(now.getTime());
    // getUTCDay: Sunday 0 ... Saturday 6; days since Monday: (d + 6) % 7.
    const thisMonday = today - ((new Date(today).getUTCDay() + 6) % 7) * DAY;
    const from = thisMonday - 7 * DAY;
    return {
      current: { from: new Date(from), to: new Date(thisMonday) },
      previous: { from: new Date(from - 7 * DAY), to: new Date(from) },
    };
  }
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  return {
    current: { from: new Date(Date.UTC(y, m - 1, 1)), to: new Date(Date.UTC(y, m, 1)) },
    previous: { from: new Date(Date.UTC(y, m - 2, 1)), to: new Date(Date.UTC(y, m - 1, 1)) },
  };
}

/** An incident as a report lists it (from the incidents of migration 0017: src/monitor/report-incidents.ts). */
export interface IncidentSummary {
  id: string;
  ruleId: string;
  severity: string;
  status: string;
  summary: string;
  scope: {
    stream: string | null;
    provider: string | null;
    campaign: string | null;
    sendingIp: string | null;
    sendingDomain: string | null;
  };
  openedAt: Date;
  resolvedAt: Date | null;
}

export interface ReasonCount {
  reason: string;
  rule: string | null;
  class: string;
  count: number;
}

export interface DomainCount {
  domain: string;
  /** Sends to the domain in the period (recorded with their Message-ID); 0 when unknown. */
  sent: number;
  hard: number;
  block: number;
  complaint: number;
}

export interface ReportInput {
  tenant: string;
  period: ReportPeriod;
  current: Window;
  previous: Window;
  /** Rollups by day, grouped by stream and provider, over [previous.from, current.to). */
  byStreamProvider: Bucket[];
  /** Rollups of the current period grouped by campaign (any bucketing). */
  byCampaign: Bucket[];
  /** Bounce and complaint reasons of the current period, with the rule that decided. */
  reasons: ReasonCount[];
  /** The diagnostics of the current period's blocks, with how many blocks said each. */
  blockDiagnostics: { diagnostic: string; count: number }[];
  /** Suppressions added and removed per day over [previous.from, current.to). */
  suppressions: { at: Date; added: number; removed: number }[];
  domains: DomainCount[];
  incidents: IncidentSummary[];
}

export interface FigureRow {
  key: string;
  current: Figures;
  previous: Figures;
}

export interface TrendPoint {
  day: string;
  sent: number;
  hardRate: number | null;
  complaintRate: number | null;
  blockRate: number | null;
}

export interface LookAt {
  name: string;
  sent: number;
  hardRate: number | null;
  complaintRate: number | null;
  blockRate: number | null;
  /** Why it is listed, one phrase each. */
  why: string[];
}

export interface ReportModel {
  tenant: string;
  period: ReportPeriod;
  from: string;
  to: string;
  previousFrom: string;
  previousTo: string;
  totals: { current: Figures; previous: Figures };
  streams: FigureRow[];
  providers: FigureRow[];
  trend: TrendPoint[];
  incidents: (Omit<IncidentSummary, "openedAt" | "resolvedAt"> & {
    openedAt: string;
    resolvedAt: string | null;
  })[];
  topReasons: ReasonCount[];
  blocklists: { id: string; count: number }[];
  suppressions: { added: number; removed: number; previousAdded: number; previousRemoved: number };
  lookAt: { domains: LookAt[]; campaigns: LookAt[] };
}

/**
 * What puts a domain or campaign on the "look at" list: the providers' published limits (the shipped alert
 * defaults), over enough sends to mean something. Data: each with the phrase the report gives.
 */
export const LOOK_AT_RULES = [
  { id: "hard-rate", metric: "hardRate", above: 0.02, phrase: "hard-bounce rate above 2%" },
  { id: "complaint-rate", metric: "complaintRate", above: 0.001, phrase: "complaint rate above 0.1%" },
  { id: "block-rate", metric: "blockRate", above: 0.02, phrase: "block rate above 2%" },
] as const;
/** Fewer sends than this and a rate says too little to list anything by it. */
export const LOOK_AT_MIN_SENT = 100;
/** A domain without known sends is listed from this many failures (hard, block and complaint together). */
export const LOOK_AT_MIN_FAILURES = 10;
const LIST_LENGTH = 10;

function add(into: Counts, c: Counts): void {
  for (const k of Object.keys(into) as (keyof Counts)[]) into[k] += c[k];
}

function rowsBy(buckets: Bucket[], index: number, split: number): FigureRow[] {
  const rows = new Map<string, { cur: Counts; prev: Counts }>();
  for (const b of buckets) {
    const key = b.group[index]!;
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { cur: emptyCounts(), prev: emptyCounts() }));
    add(b.at.getTime() >= split ? r.cur : r.prev, b.counts);
  }
  return [...rows.entries()]
    .map(([key, r]) => ({ key, current: figuresOf(r.cur), previous: figuresOf(r.prev) }))
    .sort((a, b) => b.current.sent - a.current.sent || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function lookAt(name: string, f: Figures): LookAt | undefined {
  if (f.sent < LOOK_AT_MIN_SENT) return undefined;
  const why = LOOK_AT_RULES.filter((r) => (f[r.metric] ?? 0) > r.above).map((r) => r.phrase);
  if (!why.length) return undefined;
  return {
    name,
    sent: f.sent,
    hardRate: f.hardRate,
    complaintRate: f.complaintRate,
    blockRate: f.blockRate,
    why,
  };
}

const worst = (a: LookAt, b: LookAt) =>
  b.why.length - a.why.length ||
  (b.hardRate ?? 0) + (b.blockRate ?? 0) - ((a.hardRate ?? 0) + (a.blockRate ?? 0));

export function buildReportModel(input: ReportInput): ReportModel {
  const split = input.current.from.getTime();
  const current = input.byStreamProvider.filter((b) => b.at.getTime() >= split);
  const total = (bs: Bucket[]) => {
    const c = emptyCounts();
    for (const b of bs) add(c, b.counts);
    return c;
  };

  const days = new Map<number, Counts>();
  for (let t = split; t < input.current.to.getTime(); t += DAY) days.set(t, emptyCounts());
  for (const b of current) {
    const d = days.get(utcDay(b.at.getTime()));
    if (d) add(d, b.counts);
  }

  const campaigns = new Map<string, Counts>();
  for (const b of input.byCampaign) {
    const name = b.group[0]!;
    if (!name) continue; // events not tied to a send: no campaign to name
    let c = campaigns.get(name);
    if (!c) campaigns.set(name, (c = emptyCounts()));
    add(c, b.counts);
  }

  const domains = input.domains.flatMap((d): LookAt[] => {
    const failures = d.hard + d.block + d.complaint;
    if (d.sent > 0) {
      const f = figuresOf({
        ...emptyCounts(),
        sent: d.sent,
        hard: d.hard,
        block: d.block,
        complaint: d.complaint,
      });
      const l = lookAt(d.domain, f);
      return l ? [l] : [];
    }
    if (failures < LOOK_AT_MIN_FAILURES) return [];
    const why = [
      `${failures} failures (hard ${d.hard}, block ${d.block}, complaint ${d.complaint}), sends unknown`,
    ];
    return [{ name: d.domain, sent: 0, hardRate: null, complaintRate: null, blockRate: null, why }];
  });

  const blocklists = new Map<string, number>();
  for (const d of input.blockDiagnostics)
    for (const id of blocklistsIn(d.diagnostic)) blocklists.set(id, (blocklists.get(id) ?? 0) + d.count);

  const sup = { added: 0, removed: 0, previousAdded: 0, previousRemoved: 0 };
  for (const s of input.suppressions) {
    if (s.at.getTime() >= split) {
      sup.added += s.added;
      sup.removed += s.removed;
    } else {
      sup.previousAdded += s.added;
      sup.previousRemoved += s.removed;
    }
  }

  return {
    tenant: input.tenant,
    period: input.period,
    from: input.current.from.toISOString(),
    to: input.current.to.toISOString(),
    previousFrom: input.previous.from.toISOString(),
    previousTo: input.previous.to.toISOString(),
    totals: {
      current: figuresOf(total(current)),
      previous: figuresOf(total(input.byStreamProvider.filter((b) => b.at.getTime() < split))),
    },
    streams: rowsBy(input.byStreamProvider, 0, split),
    providers: rowsBy(input.byStreamProvider, 1, split),
    trend: [...days.entries()].map(([t, c]) => {
      const f = figuresOf(c);
      return {
        day: new Date(t).toISOString().slice(0, 10),
        sent: f.sent,
        hardRate: f.hardRate,
        complaintRate: f.complaintRate,
        blockRate: f.blockRate,
      };
    }),
    incidents: [...input.incidents]
      .sort((a, b) => a.openedAt.getTime() - b.openedAt.getTime())
      .map((i) => ({
        ...i,
        openedAt: i.openedAt.toISOString(),
        resolvedAt: i.resolvedAt?.toISOString() ?? null,
      })),
    topReasons: [...input.reasons].sort((a, b) => b.count - a.count).slice(0, LIST_LENGTH),
    blocklists: [...blocklists.entries()]
      .map(([id, count]) => ({ id, count }))
      .sort((a, b) => b.count - a.count),
    suppressions: sup,
    lookAt: {
      domains: domains.sort(worst).slice(0, LIST_LENGTH),
      campaigns: [...campaigns.entries()]
        .flatMap(([name, c]) => lookAt(name, figuresOf(c)) ?? [])
        .sort(worst)
        .slice(0, LIST_LENGTH),
    },
  };
}
