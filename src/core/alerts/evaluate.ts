// The rules applied to the figures: pure. In: the rollup figures each rule asked for (figureQueries), the recent
// events, the receivers' report counts each rule asked for (reportQueries), the incidents in force. Out: which incidents to open, update (and escalate), and resolve, each with its
// evidence. The store (src/store/incidents.ts) applies the outcome; the loop (src/alerts/engine.ts) runs it.
import { hourOf } from "../rollup.js";
import { emptyCounts, figuresOf, type Counts, type Figures } from "../stats.js";
import type { AlertRule } from "./rules.js";
import {
  REPORT_SCOPE_FIELDS,
  ROLLUP_SCOPE_FIELDS,
  SCOPE_FIELDS,
  SEVERITIES,
  scopeKey,
  severityRank,
  type IncidentScope,
  type Metric,
  type ReportScopeField,
  type RollupScopeField,
  type ScopeField,
  type Severity,
} from "./types.js";

const MINUTE = 60_000;
const DAY = 86_400_000;

/** What a rate or spike rule needs summed from the rollups: group by its split fields over [from, now]. */
export interface FigureQuery {
  ruleId: string;
  groupBy: RollupScopeField[];
  filters: Partial<Record<RollupScopeField, string>>;
  /** The first hour counted. */
  from: Date;
  /** Hours at or after this are the window; before it the baseline (spike rules). */
  windowFrom: Date;
}

export interface FigureRow {
  /** The values of the query's groupBy fields ('' when unknown). */
  group: Partial<Record<RollupScopeField, string>>;
  window: Counts;
  baseline: Counts;
}

/** Where a report count comes from: DMARC aggregate rows, or RFC 6591 authentication failure reports. */
export const REPORT_SOURCES = ["dmarc", "arf"] as const;
export type ReportSource = (typeof REPORT_SOURCES)[number];

/**
 * What a dmarc or authentication rule needs counted from the receivers' reports, per sending domain (and source
 * IP when `groupBy` names it): `dmarc`, the rows of aggregate reports whose date range overlaps [from, to);
 * `arf`, the authentication failure reports that arrived in [from, to).
 */
export interface ReportQuery {
  ruleId: string;
  source: ReportSource;
  groupBy: ReportScopeField[];
  filters: Partial<Record<ReportScopeField, string>>;
  from: Date;
  to: Date;
}

/** One report behind a count: what the evidence names. */
export interface ReportEvidence {
  /** dmarc: the reporting organisation; arf: the report mail's From. */
  reporter: string | null;
  /** dmarc: the organisation's report id; arf: the id of the stored mail. */
  reportId: string | null;
  /** dmarc: its date range; arf: its arrival (both ends). ISO times. */
  begin: string;
  end: string;
  /** dmarc: the messages of its rows counted (in the group); arf: its Incidents. */
  messages: number;
  /** dmarc: of them, those failing DKIM and SPF alignment; arf: its Incidents. */
  failed: number;
  /** arf: its Auth-Failure (dkim, spf, dmarc, ...) and source IP; dmarc: null. */
  failure: string | null;
  sourceIp: string | null;
}

/** The answer to a ReportQuery, one per group. */
export interface ReportRow {
  /** The values of the query's groupBy fields ('' when unknown). */
  group: Partial<Record<ReportScopeField, string>>;
  /** dmarc: the messages of the rows; arf: the reports' Incidents. */
  messages: number;
  /** dmarc: the messages failing DKIM and SPF alignment; arf: the same as `messages`. */
  failed: number;
  /** How many reports are behind the counts. */
  reports: number;
  /** The reports with the most failures first (at most REPORTS_QUOTED). */
  quoted: ReportEvidence[];
  /** The source IPs with the most failures first (at most REPORTS_QUOTED). */
  failingIps: { ip: string; failed: number }[];
}

/** Reports and source IPs a report row quotes at most. */
export const REPORTS_QUOTED = 10;

export interface RecentEvent {
  id: string;
  stream: string;
  provider: string | null;
  campaign: string | null;
  sendingIp: string | null;
  /** The domain the mail was sent from (its From, else its return path's); null when unknown. */
  sendingDomain: string | null;
  recipient: string;
  reason: string;
  class: string;
  rule: string | null;
  status: string | null;
  diagnostic: string | null;
  occurredAt: Date;
}

export interface ActiveIncident {
  id: string;
  ruleId: string;
  scopeKey: string;
  scope: IncidentScope;
  severity: Severity;
  /** The figure at the last entry of its history (null: none recorded). */
  notedValue: number | null;
  /** How many `updated` entries its history has (at most MAX_UPDATES). */
  updates: number;
}

/** `updated` entries an incident's history gets at most for moves of its figure (severity changes: always). */
export const MAX_UPDATES = 20;
/** A figure has moved materially when it is this many times (or this fraction of) the one last recorded. */
export const MATERIAL_FACTOR = 1.5;

export interface EvaluationInput {
  now: Date;
  rules: readonly AlertRule[];
  /** FigureRows by rule id (the answers to figureQueries). */
  figures: ReadonlyMap<string, FigureRow[]>;
  /** Recent events (blocks, complaints, hard bounces...) of the longest window, newest first. */
  events: readonly RecentEvent[];
  /** ReportRows by rule id (the answers to reportQueries); absent: no reports. */
  reports?: ReadonlyMap<string, ReportRow[]>;
  active: readonly ActiveIncident[];
  /** Rule x scope keys resolved by hand lately: not reopened before `until`. */
  quiet?: readonly { ruleId: string; scopeKey: string; until: Date }[];
}

export interface Evidence {
  figures: Partial<Figures> & Record<string, number | null>;
  topReasons: { reason: string; rule: string | null; count: number }[];
  samples: {
    eventId: string;
    recipient: string;
    reason: string;
    rule: string | null;
    diagnostic: string | null;
    occurredAt: string;
  }[];
  blocklists: string[];
  /** dmarc and authentication rules: the receivers' reports behind the figure (most failures first). */
  reports?: (ReportEvidence & { source: ReportSource })[];
  /** dmarc rules: the source IPs whose messages failed, most first. */
  failingIps?: { ip: string; failed: number }[];
}

export interface Finding {
  ruleId: string;
  kind: AlertRule["kind"];
  scope: IncidentScope;
  scopeKey: string;
  severity: Severity;
  metric: Metric | null;
  value: number;
  threshold: number;
  teams: string[];
  summary: string;
  evidence: Evidence;
}

/**
 * What an update of an incident in force records: `escalated` (the severity rose), `deescalated` (it went down:
 * the figure fell under its level's hold bound), `updated` (the figure moved materially, within the cap), or
 * nothing (the figures are refreshed in place).
 */
export type UpdateChange = "escalated" | "deescalated" | "updated" | null;

export interface Evaluation {
  open: Finding[];
  /** Active incidents still in force; `escalated` when the severity rose. */
  update: (Finding & { incidentId: string; escalated: boolean; change: UpdateChange; from: Severity })[];
  resolve: { incidentId: string; ruleId: string; scopeKey: string; value: number | null; summary: string }[];
}

export function windowStart(rule: AlertRule, now: Date): Date {
  return hourOf(new Date(now.getTime() - rule.windowMinutes * MINUTE));
}

/** The rollup sums the rate and spike rules need. */
export function figureQueries(rules: readonly AlertRule[], now: Date): FigureQuery[] {
  return rules
    .filter((r) => r.kind === "rate" || r.kind === "spike")
    .map((r) => {
      const windowFrom = windowStart(r, now);
      const from =
        r.kind === "spike" ? new Date(windowFrom.getTime() - (r.baselineDays ?? 7) * DAY) : windowFrom;
      return {
        ruleId: r.id,
        groupBy: rollupFields(splitFields(r)),
        filters: rollupFilters(r),
        from,
        windowFrom,
      };
    });
}

/**
 * The report counts the dmarc and authentication rules need: a dmarc rule's aggregate rows, an authentication
 * rule's failure reports (not for a rule fixed on a stream, provider or campaign: reports name none).
 */
export function reportQueries(rules: readonly AlertRule[], now: Date): ReportQuery[] {
  const out: ReportQuery[] = [];
  for (const r of rules) {
    if (r.kind !== "dmarc" && r.kind !== "authentication") continue;
    if (r.kind === "authentication" && !reportsApply(r)) continue;
    const fixed = fixedFields(r);
    out.push({
      ruleId: r.id,
      source: r.kind === "dmarc" ? "dmarc" : "arf",
      groupBy: REPORT_SCOPE_FIELDS.filter((f) => r.scope[f] === "*"),
      filters: Object.fromEntries(
        REPORT_SCOPE_FIELDS.filter((f) => fixed[f] !== undefined).map((f) => [f, fixed[f]!]),
      ),
      from: new Date(now.getTime() - r.windowMinutes * MINUTE),
      to: now,
    });
  }
  return out;
}

/** Whether reports can count for a rule: its scope fixes nothing a report does not name. */
const reportsApply = (r: AlertRule) =>
  Object.keys(fixedFields(r)).every((f) => (REPORT_SCOPE_FIELDS as readonly string[]).includes(f));

/** How far back the events must go for every rule. */
export function eventsSince(rules: readonly AlertRule[], now: Date): Date {
  const longest = Math.max(60, ...rules.map((r) => r.windowMinutes));
  return new Date(now.getTime() - longest * MINUTE);
}

const splitFields = (r: AlertRule) => SCOPE_FIELDS.filter((f) => r.scope[f] === "*");
const fixedFields = (r: AlertRule): Partial<Record<ScopeField, string>> =>
  Object.fromEntries(
    SCOPE_FIELDS.filter((f) => r.scope[f] && r.scope[f] !== "*").map((f) => [f, r.scope[f]!]),
  );
const rollupFields = (fields: ScopeField[]) =>
  fields.filter((f): f is RollupScopeField => (ROLLUP_SCOPE_FIELDS as readonly string[]).includes(f));
const rollupFilters = (r: AlertRule) =>
  Object.fromEntries(
    Object.entries(fixedFields(r)).filter(([f]) => (ROLLUP_SCOPE_FIELDS as readonly string[]).includes(f)),
  ) as Partial<Record<RollupScopeField, string>>;

/** The numerator of each metric, and the event classes behind it. */
const METRIC_COUNTER: Record<Metric, { counter: keyof Counts; classes: string[]; words: string }> = {
  hardRate: { counter: "hard", classes: ["hard"], words: "hard-bounce rate" },
  complaintRate: { counter: "complaint", classes: ["complaint"], words: "complaint rate" },
  blockRate: { counter: "block", classes: ["block"], words: "block rate" },
};

export function evaluate(input: EvaluationInput): Evaluation {
  const out: Evaluation = { open: [], update: [], resolve: [] };
  for (const rule of input.rules) {
    const states =
      rule.kind === "rate" || rule.kind === "spike"
        ? rateStates(rule, input)
        : rule.kind === "dmarc"
          ? dmarcStates(rule, input)
          : eventStates(rule, input);
    const active = input.active.filter((a) => a.ruleId === rule.id);
    const seen = new Set<string>();
    for (const s of states) {
      seen.add(s.key);
      const current = active.find((a) => a.scopeKey === s.key);
      decide(rule, s, current, input, out);
    }
    // Active incidents of scopes with no figures at all in the window: nothing was sent or seen there.
    for (const a of active)
      if (!seen.has(a.scopeKey))
        out.resolve.push({
          incidentId: a.id,
          ruleId: rule.id,
          scopeKey: a.scopeKey,
          value: null,
          summary: `${rule.id}: nothing sent or seen in ${scopeWords(a.scope)} over ${windowWords(rule)}: resolved`,
        });
  }
  return out;
}

/** One rule x scope's reading: `value` null when there is too little volume to judge. */
interface State {
  key: string;
  scope: IncidentScope;
  value: number | null;
  /** Nothing at all in the window. */
  empty: boolean;
  describe: (severity: Severity | null, threshold: number | null) => string;
  evidence: Evidence;
}

function decide(
  rule: AlertRule,
  s: State,
  current: ActiveIncident | undefined,
  input: EvaluationInput,
  out: Evaluation,
): void {
  const level = levelOf(rule, s.value);
  if (current) {
    const below =
      s.value !== null && (rule.resolveBelow === null ? level === null : s.value < rule.resolveBelow);
    if (s.empty || below) {
      out.resolve.push({
        incidentId: current.id,
        ruleId: rule.id,
        scopeKey: s.key,
        value: s.value,
        summary: s.describe(null, rule.resolveBelow),
      });
      return;
    }
    // Still in force: the severity rises at once to the level reached, and goes down (de-escalates) only when
    // the figure falls under its level's hold bound (hysteresis, as for resolving).
    const severity =
      s.value === null ? current.severity : severityNow(rule, s.value, current.severity, level);
    const threshold = rule.levels[severity] ?? 0;
    const rank = severityRank(severity) - severityRank(current.severity);
    const change: UpdateChange =
      rank > 0
        ? "escalated"
        : rank < 0
          ? "deescalated"
          : s.value !== null && current.updates < MAX_UPDATES && moved(current.notedValue, s.value)
            ? "updated"
            : null;
    out.update.push({
      ...finding(rule, s, severity, threshold),
      incidentId: current.id,
      escalated: rank > 0,
      change,
      from: current.severity,
    });
    return;
  }
  if (!level || s.value === null) return;
  if (input.quiet?.some((q) => q.ruleId === rule.id && q.scopeKey === s.key && q.until > input.now)) return;
  out.open.push(finding(rule, s, level, rule.levels[level]!));
}

/**
 * The severity of an incident in force whose figure is `value`: the level reached when it is above the current
 * one; else the highest level, at most the current one, whose hold bound the value still reaches. A level's hold
 * bound is its threshold times the rule's hysteresis ratio (resolveBelow over its lowest level: the bound under
 * which the lowest level resolves), so a figure hovering at a level does not move the severity every round.
 */
export function severityNow(
  rule: AlertRule,
  value: number,
  current: Severity,
  level: Severity | null,
): Severity {
  if (level && severityRank(level) > severityRank(current)) return level;
  const defined = SEVERITIES.filter((sev) => rule.levels[sev] !== undefined);
  if (!defined.length) return current;
  let i = defined.indexOf(current);
  // A level the rule no longer has (the alerts file changed): the highest one under it, or the lowest.
  if (i < 0) i = Math.max(0, defined.filter((sev) => severityRank(sev) < severityRank(current)).length - 1);
  const ratio = holdRatio(rule);
  while (i > 0 && value < rule.levels[defined[i]!]! * ratio) i--;
  return defined[i]!;
}

function holdRatio(rule: AlertRule): number {
  const lowest = SEVERITIES.map((sev) => rule.levels[sev]).find((v) => v !== undefined);
  if (rule.resolveBelow === null || !lowest) return 1;
  return Math.min(1, rule.resolveBelow / lowest);
}

/** Whether a figure moved materially from the one last recorded. */
function moved(noted: number | null, value: number): boolean {
  if (noted === null) return true;
  if (noted <= 0) return value > 0;
  return value >= noted * MATERIAL_FACTOR || value <= noted / MATERIAL_FACTOR;
}

function finding(rule: AlertRule, s: State, severity: Severity, threshold: number): Finding {
  return {
    ruleId: rule.id,
    kind: rule.kind,
    scope: s.scope,
    scopeKey: s.key,
    severity,
    metric: rule.metric,
    value: s.value ?? 0,
    threshold,
    teams: rule.teams,
    summary: s.describe(severity, threshold),
    evidence: s.evidence,
  };
}

/** The highest level the value reaches, or null. */
export function levelOf(rule: AlertRule, value: number | null): Severity | null {
  if (value === null) return null;
  let found: Severity | null = null;
  for (const sev of SEVERITIES) {
    const t = rule.levels[sev];
    if (t !== undefined && value >= t) found = sev;
  }
  return found;
}

function rateStates(rule: AlertRule, input: EvaluationInput): State[] {
  const metric = rule.metric!;
  const m = METRIC_COUNTER[metric];
  const rows = input.figures.get(rule.id) ?? [];
  const since = new Date(input.now.getTime() - rule.windowMinutes * MINUTE);
  return rows.map((row) => {
    const scope = scopeOf(rule, row.group);
    const w = row.window;
    const n = w[m.counter];
    const rate = w.sent > 0 ? n / w.sent : null;
    let value: number | null;
    let describe: State["describe"];
    const base = {
      ...figuresOf(w),
      baselineSent: rule.kind === "spike" ? row.baseline.sent : null,
      baselineRate: null as number | null,
    };
    if (rule.kind === "rate") {
      value = w.sent >= rule.minVolume ? rate : null;
      describe = (sev, t) =>
        `${cap(m.words)} ${pct(rate)} (${n} of ${w.sent} sent) in ${scopeWords(scope)} over ${windowWords(rule)}` +
        (sev ? `: ${sev} (limit ${pct(t)})` : t !== null ? `: under ${pct(t)}, resolved` : ": resolved");
    } else {
      const b = row.baseline;
      // Half an event as the floor of an empty baseline: a first complaint is a spike, not an infinite one.
      const baseRate = b.sent > 0 ? Math.max(b[m.counter], 0.5) / b.sent : null;
      base.baselineRate = baseRate;
      value = n >= rule.minVolume && rate !== null && baseRate !== null ? rate / baseRate : null;
      const factor = rate !== null && baseRate !== null ? rate / baseRate : null;
      describe = (sev, t) =>
        `${cap(m.words)} ${pct(rate)} (${n} of ${w.sent} sent) in ${scopeWords(scope)} over ${windowWords(rule)} ` +
        `is ${factor === null ? "?" : factor.toFixed(1)}x its ${rule.baselineDays}-day baseline ${pct(baseRate)}` +
        (sev ? `: ${sev} (at ${t}x)` : `: under ${t}x, resolved`);
    }
    const events = eventsIn(input.events, rule, scope, since).filter((e) => m.classes.includes(e.class));
    return {
      key: scopeKey(scope),
      scope,
      value,
      empty: w.sent === 0 && n === 0,
      describe,
      evidence: evidenceOf(base, events, rule),
    };
  });
}

function eventStates(rule: AlertRule, input: EvaluationInput): State[] {
  const since = new Date(input.now.getTime() - rule.windowMinutes * MINUTE);
  const matching = input.events.filter(
    (e) => e.occurredAt >= since && fixedMatch(rule, e) && matches(rule, e),
  );
  const groups = new Map<string, { scope: IncidentScope; events: RecentEvent[]; reports: ReportRow[] }>();
  const groupOf = (scope: IncidentScope) => {
    const key = scopeKey(scope);
    const g = groups.get(key) ?? { scope, events: [], reports: [] };
    groups.set(key, g);
    return g;
  };
  for (const e of matching) groupOf(scopeOf(rule, groupOfEvent(rule, e))).events.push(e);
  // Failure reports (authentication rules): on the sending domain (and IP) they name; no stream or provider.
  if (rule.kind === "authentication" && reportsApply(rule))
    for (const r of input.reports?.get(rule.id) ?? [])
      if (r.failed > 0) groupOf(scopeOf(rule, r.group)).reports.push(r);
  const what = rule.kind === "blocklist" ? "blocks naming a blocklist" : "authentication failures";
  return [...groups.entries()].map(([key, g]) => {
    const reported = g.reports.reduce((n, r) => n + r.failed, 0);
    const n = g.events.length + reported;
    const counts = emptyCounts();
    for (const e of g.events) if (e.class in counts) counts[e.class as keyof Counts]++;
    const figures: Evidence["figures"] = { ...counts, events: g.events.length };
    if (rule.kind === "authentication") Object.assign(figures, { failureReports: reported, failures: n });
    const evidence = evidenceOf(figures, g.events, rule);
    if (g.reports.length) evidence.reports = quotedReports(g.reports, "arf");
    const lists = evidence.blocklists.length ? ` (${evidence.blocklists.join(", ")})` : "";
    const split = reported
      ? ` (${g.events.length} refusal${g.events.length === 1 ? "" : "s"}, ${reported} in ` +
        `${reportCount(g.reports)} failure report${reportCount(g.reports) === 1 ? "" : "s"}` +
        `${reportersWords(evidence.reports ?? [])})`
      : "";
    return {
      key,
      scope: g.scope,
      value: n >= rule.minVolume ? n : null,
      empty: n === 0,
      describe: (sev, t) =>
        `${n} ${what}${lists}${split} in ${scopeWords(g.scope)} over ${windowWords(rule)}` +
        (sev ? `: ${sev} (at ${t})` : ": resolved"),
      evidence,
    };
  });
}

/**
 * A dmarc rule's reading per sending domain (and IP): the messages of the aggregate rows failing DKIM and SPF
 * alignment over all the messages of the rows, in the reports whose date range overlaps the window.
 */
function dmarcStates(rule: AlertRule, input: EvaluationInput): State[] {
  return (input.reports?.get(rule.id) ?? []).map((r) => {
    const scope = scopeOf(rule, r.group);
    const rate = r.messages > 0 ? r.failed / r.messages : null;
    const quoted = quotedReports([r], "dmarc");
    const shown = quoted
      .slice(0, 3)
      .map((q) => `${q.reporter ?? "?"} ${q.reportId ?? "?"} ${q.failed}/${q.messages}`);
    const more = r.reports > shown.length ? `, ${r.reports - shown.length} more` : "";
    const ips = r.failingIps
      .slice(0, 3)
      .map((i) => `${i.ip} ${i.failed}`)
      .join(", ");
    return {
      key: scopeKey(scope),
      scope,
      value: r.messages >= rule.minVolume ? rate : null,
      empty: r.messages === 0,
      describe: (sev, t) =>
        `DMARC failures ${pct(rate)} (${r.failed} of ${r.messages} messages in ${r.reports} aggregate ` +
        `report${r.reports === 1 ? "" : "s"}: ${shown.join("; ")}${more}${ips ? `; failing from ${ips}` : ""}) ` +
        `in ${scopeWords(scope)} over the reports overlapping ${windowWords(rule)}` +
        (sev ? `: ${sev} (limit ${pct(t)})` : t !== null ? `: under ${pct(t)}, resolved` : ": resolved"),
      evidence: {
        figures: { dmarcMessages: r.messages, dmarcFailed: r.failed, dmarcRate: rate, reports: r.reports },
        topReasons: [],
        samples: [],
        blocklists: [],
        reports: quoted,
        failingIps: r.failingIps.slice(0, REPORTS_QUOTED),
      },
    };
  });
}

/** The reports of some rows, most failures first, at most REPORTS_QUOTED. */
function quotedReports(rows: ReportRow[], source: ReportSource): NonNullable<Evidence["reports"]> {
  return rows
    .flatMap((r) => r.quoted)
    .sort((a, b) => b.failed - a.failed || a.begin.localeCompare(b.begin))
    .slice(0, REPORTS_QUOTED)
    .map((q) => ({ source, ...q }));
}

const reportCount = (rows: ReportRow[]) => rows.reduce((n, r) => n + r.reports, 0);

function reportersWords(quoted: NonNullable<Evidence["reports"]>): string {
  const names = [...new Set(quoted.map((q) => q.reporter).filter((x): x is string => !!x))];
  return names.length ? ` from ${names.slice(0, 3).join(", ")}${names.length > 3 ? ", ..." : ""}` : "";
}

/** Whether an event is what a blocklist or authentication rule looks for. */
export function matches(
  rule: AlertRule,
  e: Pick<RecentEvent, "class" | "reason" | "rule" | "diagnostic" | "status">,
): boolean {
  if (rule.kind === "blocklist") return e.class === "block" && blocklistsNamed(rule, e).length > 0;
  if (rule.kind === "authentication")
    return e.reason === "authfailure" || (e.status !== null && (rule.statuses ?? []).includes(e.status));
  return false;
}

/** The blocklists a block's rule or diagnostic names (linear: substring searches on lower-cased text). */
export function blocklistsNamed(rule: AlertRule, e: Pick<RecentEvent, "rule" | "diagnostic">): string[] {
  const text = `${e.rule ?? ""} ${(e.diagnostic ?? "").slice(0, 2000)}`.toLowerCase();
  return (rule.blocklists ?? []).filter((b) => text.includes(b));
}

function groupOfEvent(rule: AlertRule, e: RecentEvent): Partial<Record<ScopeField, string>> {
  const v: Record<ScopeField, string> = {
    stream: e.stream,
    provider: e.provider ?? "",
    campaign: e.campaign ?? "",
    sendingIp: e.sendingIp ?? "",
    sendingDomain: e.sendingDomain ?? "",
  };
  return Object.fromEntries(splitFields(rule).map((f) => [f, v[f]]));
}

function fixedMatch(rule: AlertRule, e: RecentEvent): boolean {
  const v: Record<ScopeField, string | null> = {
    stream: e.stream,
    provider: e.provider,
    campaign: e.campaign,
    sendingIp: e.sendingIp,
    sendingDomain: e.sendingDomain,
  };
  return Object.entries(fixedFields(rule)).every(([f, want]) => v[f as ScopeField] === want);
}

/** An incident's scope: split fields take the group's value ('' = unknown: null), fixed ones their value. */
function scopeOf(rule: AlertRule, group: Partial<Record<ScopeField, string>>): IncidentScope {
  const fixed = fixedFields(rule);
  const value = (f: ScopeField) => (rule.scope[f] === "*" ? group[f] || null : (fixed[f] ?? null));
  return {
    stream: value("stream"),
    provider: value("provider"),
    campaign: value("campaign"),
    sendingIp: value("sendingIp"),
    sendingDomain: value("sendingDomain"),
  };
}

/** The window's events within a scope (the scope's null fields match anything). */
function eventsIn(
  events: readonly RecentEvent[],
  rule: AlertRule,
  scope: IncidentScope,
  since: Date,
): RecentEvent[] {
  return events.filter(
    (e) =>
      e.occurredAt >= since &&
      fixedMatch(rule, e) &&
      (scope.stream === null || e.stream === scope.stream) &&
      (scope.provider === null || e.provider === scope.provider) &&
      (scope.campaign === null || e.campaign === scope.campaign) &&
      (scope.sendingIp === null || e.sendingIp === scope.sendingIp) &&
      (scope.sendingDomain === null || e.sendingDomain === scope.sendingDomain),
  );
}

const TOP_REASONS = 5;
const SAMPLES = 5;

function evidenceOf(figures: Evidence["figures"], events: RecentEvent[], rule: AlertRule): Evidence {
  const byReason = new Map<string, { reason: string; rule: string | null; count: number }>();
  const lists = new Set<string>();
  const listRule = rule.kind === "blocklist" ? rule : { ...rule, blocklists: [...(rule.blocklists ?? [])] };
  for (const e of events) {
    const k = JSON.stringify([e.reason, e.rule]);
    const r = byReason.get(k) ?? { reason: e.reason, rule: e.rule, count: 0 };
    r.count++;
    byReason.set(k, r);
    for (const b of blocklistsNamed(listRule, e)) lists.add(b);
  }
  return {
    figures,
    topReasons: [...byReason.values()]
      .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason))
      .slice(0, TOP_REASONS),
    samples: events.slice(0, SAMPLES).map((e) => ({
      eventId: e.id,
      recipient: e.recipient,
      reason: e.reason,
      rule: e.rule,
      diagnostic: e.diagnostic,
      occurredAt: e.occurredAt.toISOString(),
    })),
    blocklists: [...lists].sort(),
  };
}

export function scopeWords(s: IncidentScope): string {
  const parts = [
    s.stream !== null ? `stream ${s.stream}` : null,
    s.provider !== null ? `provider ${s.provider}` : null,
    s.campaign !== null ? `campaign ${s.campaign}` : null,
    s.sendingIp !== null ? `sending IP ${s.sendingIp}` : null,
    s.sendingDomain !== null ? `sending domain ${s.sendingDomain}` : null,
  ].filter(Boolean);
  return parts.length ? parts.join(", ") : "all mail";
}

function windowWords(rule: AlertRule): string {
  const m = rule.windowMinutes;
  return m % 1440 === 0
    ? `${m / 1440 === 1 ? "24 h" : `${m / 1440} days`}`
    : m % 60 === 0
      ? `${m / 60} h`
      : `${m} min`;
}

const pct = (v: number | null) => (v === null ? "?" : `${(v * 100).toFixed(2)}%`);
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
