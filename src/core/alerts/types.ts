// The closed vocabularies of alerting (one copy each): what rules measure, how grave an incident is, where it
// stands, what its history records, and where notifications go.

export const RULE_KINDS = ["rate", "spike", "blocklist", "authentication", "dmarc"] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

/** Rates over rollup figures (src/core/stats.ts names them the same). */
export const METRICS = ["hardRate", "complaintRate", "blockRate"] as const;
export type Metric = (typeof METRICS)[number];

/** In order of gravity: `pause` also pauses the stream (for the incident's provider, or all). */
export const SEVERITIES = ["warning", "critical", "pause"] as const;
export type Severity = (typeof SEVERITIES)[number];

export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

export const INCIDENT_STATUSES = ["open", "acknowledged", "resolved"] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export const HISTORY_TYPES = [
  "opened",
  "updated",
  "escalated",
  "acknowledged",
  "resolved",
  "notified",
  "notify_failed",
] as const;
export type HistoryType = (typeof HISTORY_TYPES)[number];

/** Who resolved an incident, or paused a stream. */
export const ACTORS = ["rule", "hand"] as const;
export type Actor = (typeof ACTORS)[number];

export const CHANNELS = ["webhook", "slack", "email", "pagerduty"] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * What a route hears about an incident. `updated`: its severity went down (de-escalated) or its figure moved
 * materially while it lasts; routes hear it only when they list it in their `notices`.
 */
export const NOTICES = ["opened", "escalated", "updated", "acknowledged", "resolved"] as const;
export type Notice = (typeof NOTICES)[number];

/** What a route hears when its `notices` are not given: every notice but `updated`. */
export const DEFAULT_NOTICES: readonly Notice[] = ["opened", "escalated", "acknowledged", "resolved"];

/** The dimensions of the rollups, which rate and spike rules can scope by. */
export const ROLLUP_SCOPE_FIELDS = ["stream", "provider", "campaign", "sendingIp"] as const;
export type RollupScopeField = (typeof ROLLUP_SCOPE_FIELDS)[number];

/**
 * The dimensions a rule's scope names: the rollups' key, and the sending domain, which events and the receivers'
 * reports carry (blocklist, authentication and dmarc rules count them) but the rollups do not.
 */
export const SCOPE_FIELDS = [...ROLLUP_SCOPE_FIELDS, "sendingDomain"] as const;
export type ScopeField = (typeof SCOPE_FIELDS)[number];

/**
 * The dimensions the receivers' reports know (DMARC aggregate rows, RFC 6591 failure reports): the sending domain
 * and the IP the mail came from. A dmarc rule scopes by these only; an authentication rule counts the failure
 * reports only where its scope fixes none of the others (a report names no stream, provider or campaign).
 */
export const REPORT_SCOPE_FIELDS = ["sendingIp", "sendingDomain"] as const satisfies readonly ScopeField[];
export type ReportScopeField = (typeof REPORT_SCOPE_FIELDS)[number];

/** An incident's scope: null where the rule does not split (or the value is unknown). */
export interface IncidentScope {
  stream: string | null;
  provider: string | null;
  campaign: string | null;
  sendingIp: string | null;
  sendingDomain: string | null;
}

/** One key per rule x scope: at most one active incident each. */
export function scopeKey(s: IncidentScope): string {
  return JSON.stringify([s.stream, s.provider, s.campaign, s.sendingIp, s.sendingDomain]);
}
