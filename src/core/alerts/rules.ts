// Alert rules as data: the shipped defaults, each with the published limit it follows and an example of what it
// catches. An operator tunes them in the REBOUND_ALERTS file (src/core/alerts/config.ts; docs/monitoring.md).
//
// How a rule reads the figures (src/core/alerts/evaluate.ts):
//   rate            the metric over the window (hourly rollups), when at least `minVolume` mails were sent
//   spike           the metric over the window divided by the same metric over the `baselineDays` before it,
//                   when at least `minVolume` events (complaints, blocks, hard bounces) came in the window;
//                   levels and resolveBelow are factors (3 = three times the baseline)
//   blocklist       the blocks in the window whose rule or diagnostic names a blocklist (`blocklists`); levels
//                   and resolveBelow are counts of such blocks
//   authentication  the events in the window of reason `authfailure` or of an authentication status
//                   (`statuses`), plus the RFC 6591 authentication failure reports (ARF auth-failure, DMARC
//                   failure reports) that arrived in the window, each counting its Incidents; levels and
//                   resolveBelow are counts
//   dmarc           the receivers' DMARC aggregate reports whose date range overlaps the window: the messages
//                   of their rows whose DKIM and SPF both failed alignment over all the messages of their rows,
//                   when at least `minVolume` messages were reported; levels and resolveBelow are fractions
//
// Scope: a field "*" splits per value (one incident per stream, say); a value keeps only that value; an absent
// field sums over every value. `sendingDomain` (the domain the mail was sent from: events and reports carry it,
// the rollups do not) scopes blocklist, authentication and dmarc rules only; a dmarc rule scopes by the sending
// domain and IP only (what a report names). Levels: the highest one reached is the incident's severity; `pause` also pauses
// the incident's stream (for its provider when the scope names one, else for all). Hysteresis: an open incident
// resolves only when the figure falls under `resolveBelow` (or nothing at all was sent or seen in the window).
import type { Metric, RuleKind, ScopeField, Severity } from "./types.js";

/** The figure at which each severity is reached (absent: never). */
export type Levels = Partial<Record<Severity, number>>;

export interface AlertRule {
  id: string;
  kind: RuleKind;
  /** rate and spike kinds; null otherwise. */
  metric: Metric | null;
  scope: Partial<Record<ScopeField, string>>;
  windowMinutes: number;
  /**
   * rate: mails sent in the window; spike, blocklist: events in the window; authentication: events and failure
   * reports in the window; dmarc: messages in the aggregate reports overlapping the window.
   */
  minVolume: number;
  levels: Levels;
  resolveBelow: number | null;
  teams: string[];
  description: string;
  /** The published limit the rule follows. */
  source: string;
  /** A case the rule catches, in words. */
  example: string;
  /** spike: the trailing period the window is compared with. */
  baselineDays: number | null;
  /** blocklist: names looked for (lower case) in a block's rule and diagnostic. */
  blocklists: string[] | null;
  /** authentication: enhanced status codes that mean an authentication failure (besides reason authfailure). */
  statuses: string[] | null;
}

export const TEAMS = ["marketing", "legal", "it"] as const;

/** Blocklists the blocklist rule looks for: DNSBL operators whose names appear in refusals. */
export const DEFAULT_BLOCKLISTS = [
  "spamhaus",
  "barracuda",
  "spamcop",
  "sorbs",
  "abuseat",
  "uceprotect",
  "mailspike",
  "invaluement",
  "psbl",
  "senderscore",
  "cloudmark",
  "surbl",
  "uribl",
  "spamrats",
  "backscatterer",
] as const;

/** RFC 7372 authentication statuses, Gmail's 5.7.26 and Outlook.com's 5.7.515. */
export const DEFAULT_AUTH_STATUSES = [
  "5.7.20",
  "5.7.21",
  "5.7.22",
  "5.7.23",
  "5.7.24",
  "5.7.26",
  "5.7.515",
] as const;

const rule = (r: Omit<AlertRule, "baselineDays" | "blocklists" | "statuses"> & Partial<AlertRule>) =>
  ({ baselineDays: null, blocklists: null, statuses: null, ...r }) as AlertRule;

export const DEFAULT_RULES: readonly AlertRule[] = [
  rule({
    id: "complaint-rate",
    kind: "rate",
    metric: "complaintRate",
    scope: { stream: "*" },
    windowMinutes: 1440,
    minVolume: 1000,
    levels: { warning: 0.001, critical: 0.003 },
    resolveBelow: 0.0008,
    teams: ["marketing", "legal"],
    description: "Complaints per mail sent, per stream, over the last day",
    source:
      "Gmail and Yahoo sender requirements (February 2024): keep the spam rate under 0.1%, never reach 0.3%; " +
      "Amazon SES reviews an account at 0.1% complaints",
    example: "5,000 newsletters sent today, 20 complaints: 0.4% is critical",
  }),
  rule({
    id: "hard-bounce-rate",
    kind: "rate",
    metric: "hardRate",
    scope: { stream: "*", campaign: "*" },
    windowMinutes: 1440,
    minVolume: 500,
    levels: { warning: 0.02, critical: 0.05, pause: 0.1 },
    resolveBelow: 0.015,
    teams: ["marketing"],
    description: "Hard bounces per mail sent, per stream and campaign, over the last day; pauses at 10%",
    source:
      "Amazon SES puts an account under review at a 5% bounce rate and may pause it at 10%; ESPs warn at 2%",
    example:
      "an old list imported into campaign spring-sale: 1,000 sent, 120 unknown users: 12% pauses the stream",
  }),
  rule({
    id: "block-rate",
    kind: "rate",
    metric: "blockRate",
    scope: { stream: "*", provider: "*" },
    windowMinutes: 60,
    minVolume: 200,
    levels: { warning: 0.05, critical: 0.2 },
    resolveBelow: 0.02,
    teams: ["it"],
    description:
      "Blocks (reputation, policy, rate limits) per mail sent, per stream and provider, over the last hour",
    source:
      "Gmail (421 4.7.28, 550 5.7.1), Microsoft (550 5.7.515, S3150) and Yahoo (TSS04) refuse or throttle a " +
      "sender whose reputation falls: a few percent refused within an hour is the first sign",
    example: "300 mails to microsoft in the last hour, 40 refused with 550 5.7.1 S3150: 13% is a warning",
  }),
  rule({
    id: "complaint-spike",
    kind: "spike",
    metric: "complaintRate",
    scope: { stream: "*" },
    windowMinutes: 60,
    baselineDays: 7,
    minVolume: 5,
    levels: { warning: 3, critical: 10 },
    resolveBelow: 1.5,
    teams: ["marketing", "legal"],
    description: "The complaint rate of the last hour against its trailing 7-day baseline, per stream",
    source:
      "a sudden rise warns before the daily rate crosses Gmail's and Yahoo's 0.1% (the baseline is yours)",
    example: "a stream that gets 0.02% complaints gets 0.25% this hour (12 complaints): 12x is critical",
  }),
  rule({
    id: "block-spike",
    kind: "spike",
    metric: "blockRate",
    scope: { stream: "*", provider: "*" },
    windowMinutes: 60,
    baselineDays: 7,
    minVolume: 20,
    levels: { warning: 3, critical: 10 },
    resolveBelow: 1.5,
    teams: ["it"],
    description:
      "The block rate of the last hour against its trailing 7-day baseline, per stream and provider",
    source: "a provider starting to refuse shows as a jump against your own history before any fixed limit",
    example: "yahoo usually refuses 0.5% of stream transactional, 6% this hour (25 blocks): 12x is critical",
  }),
  rule({
    id: "blocklist",
    kind: "blocklist",
    metric: null,
    scope: { stream: "*", sendingIp: "*", sendingDomain: "*" },
    windowMinutes: 60,
    minVolume: 1,
    levels: { critical: 1 },
    resolveBelow: 1,
    blocklists: [...DEFAULT_BLOCKLISTS],
    teams: ["it"],
    description:
      "A block whose rule or diagnostic names a blocklist: opens at once on the sending IP and domain (either " +
      "may be unknown: an event not tied to its send has no sending IP)",
    source: "Spamhaus, Barracuda, SpamCop... listings are refused by most providers until delisted",
    example: "554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using zen.spamhaus.org",
  }),
  rule({
    id: "authentication",
    kind: "authentication",
    metric: null,
    scope: { stream: "*", provider: "*", sendingDomain: "*" },
    windowMinutes: 60,
    minVolume: 3,
    levels: { warning: 3, critical: 25 },
    resolveBelow: 1,
    statuses: [...DEFAULT_AUTH_STATUSES],
    teams: ["it"],
    description:
      "Refusals for failed authentication (SPF, DKIM, DMARC), per stream, provider and sending domain, over the " +
      "last hour",
    source:
      "Gmail rejects unauthenticated mail with 550 5.7.26 (2024); Outlook.com rejects unauthenticated bulk " +
      "mail with 550 5.7.515 since May 2025",
    example:
      "550 5.7.515 Access denied, sending domain example.com does not meet the required authentication level; " +
      "or three RFC 6591 auth-failure reports from a receiver about news.example.com (Auth-Failure: dmarc)",
  }),
  rule({
    id: "dmarc-failures",
    kind: "dmarc",
    metric: null,
    scope: { sendingDomain: "*" },
    // Receivers report a day at a time, a day late: two days keep yesterday's reports in the window.
    windowMinutes: 2880,
    minVolume: 100,
    levels: { warning: 0.1, critical: 0.3 },
    resolveBelow: 0.05,
    teams: ["it"],
    description:
      "Messages failing DMARC (DKIM and SPF both unaligned) per message reported in the receivers' aggregate " +
      "reports, per sending domain, over the reports whose dates overlap the last 2 days",
    source:
      "Gmail and Yahoo sender requirements (February 2024): bulk mail must pass DMARC alignment; RFC 7489 " +
      "aggregate reports (rua) are how a domain's owner learns which sources fail it (forwarding alone " +
      "fails a few percent)",
    example:
      "google.com and Outlook report 1,200 messages from news.example.com yesterday, 400 of them from " +
      "203.0.113.9 failing DKIM and SPF (a new ESP whose DKIM key is not published): 33% is critical",
  }),
];
