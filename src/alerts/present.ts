// An incident as the API, the webhooks and the notifications show it (docs/api.md: camelCase, string ids, ISO
// times).
import type { HistoryRow, IncidentRow } from "../store/incidents.js";
import type { ActivePause } from "../store/stream-pauses.js";

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

export interface IncidentJson {
  id: string;
  ruleId: string;
  kind: string;
  severity: string;
  status: string;
  scope: {
    stream: string | null;
    provider: string | null;
    campaign: string | null;
    sendingIp: string | null;
    sendingDomain: string | null;
  };
  metric: string | null;
  value: number | null;
  threshold: number | null;
  openedAt: string;
  updatedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  teams: string[];
  summary: string;
  evidence: Record<string, unknown>;
  history: Record<string, unknown>[];
}

const EMPTY_EVIDENCE = { figures: {}, topReasons: [], samples: [], blocklists: [] };

export function presentIncident(r: IncidentRow, history: HistoryRow[] = []): IncidentJson {
  return {
    id: String(r.id),
    ruleId: r.rule_id,
    kind: r.kind,
    severity: r.severity,
    status: r.status,
    scope: {
      stream: r.stream,
      provider: r.provider,
      campaign: r.campaign,
      sendingIp: r.sending_ip,
      sendingDomain: r.sending_domain,
    },
    metric: r.metric,
    value: r.value,
    threshold: r.threshold,
    openedAt: iso(r.opened_at)!,
    updatedAt: iso(r.updated_at)!,
    acknowledgedAt: iso(r.acknowledged_at),
    acknowledgedBy: r.acknowledged_by,
    resolvedAt: iso(r.resolved_at),
    resolvedBy: r.resolved_by,
    teams: r.teams,
    summary: r.summary,
    evidence: { ...EMPTY_EVIDENCE, ...(r.evidence ?? {}) },
    history: history.map((h) => {
      const o: Record<string, unknown> = { at: iso(h.at), type: h.type };
      if (h.severity !== null) o.severity = h.severity;
      if (h.route !== null) o.route = h.route;
      if (h.channel !== null) o.channel = h.channel;
      if (h.note !== null) o.note = h.note;
      if (h.by !== null) o.by = h.by;
      if (h.value !== null) o.value = h.value;
      return o;
    }),
  };
}

export interface StreamJson {
  stream: string;
  paused: boolean;
  pauses: {
    provider: string | null;
    since: string;
    reason: string;
    incidentId: string | null;
    by: "rule" | "hand";
    note: string | null;
  }[];
}

export function presentStream(stream: string, pauses: readonly ActivePause[]): StreamJson {
  const mine = pauses.filter((p) => p.stream === stream);
  return {
    stream,
    paused: mine.some((p) => p.provider === null),
    pauses: mine.map((p) => ({
      provider: p.provider,
      since: p.since.toISOString(),
      reason: p.reason,
      incidentId: p.incidentId,
      by: p.by,
      note: p.note,
    })),
  };
}
