// The shapes of the API answers the console reads (docs/api.md).
import type { IncidentStatus, Severity } from "../../src/core/alerts/types.ts";

export interface Figures {
  sent: number;
  delivered: number;
  hard: number;
  soft: number;
  block: number;
  complaint: number;
  hardRate: number | null;
  complaintRate: number | null;
  blockRate: number | null;
}

export interface StatsGroup {
  key: { stream?: string; provider?: string; campaign?: string; sendingIp?: string };
  total: Figures;
  previous: Figures;
  points: (Figures & { at: string; previous?: Figures })[];
}

export interface Stats {
  from: string;
  to: string;
  granularity: "hour" | "day";
  groups: StatsGroup[];
}

export interface AlertRule {
  id: string;
  kind: string;
  metric: string | null;
  scope: { stream?: string; provider?: string };
  levels: { warning?: number; critical?: number; pause?: number };
  description: string;
}

export interface Incident {
  id: string;
  ruleId: string;
  kind: string;
  severity: Severity;
  status: IncidentStatus;
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
  evidence?: {
    figures: Record<string, number>;
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
  };
  history?: {
    at: string;
    type: string;
    severity?: string;
    route?: string;
    channel?: string;
    note?: string;
    by?: string;
    /** The incident's figure at that moment (opened, escalated, updated). */
    value?: number;
  }[];
}

export interface StreamState {
  stream: string;
  paused: boolean;
  pauses: {
    provider: string | null;
    since: string;
    reason: string;
    incidentId: string | null;
    by: string;
    note: string | null;
  }[];
}

export interface EventRow {
  id: string;
  mailId: string | null;
  source: string;
  stream: string;
  recipient: string;
  recipientDomain: string;
  kind: string;
  reason: string;
  class: string;
  status: string | null;
  smtpCode: number | null;
  diagnostic: string | null;
  rule: string | null;
  verified: boolean;
  occurredAt: string;
  provider?: string | null;
  campaign?: string | null;
}

export interface Suppression {
  id: string;
  /** Null once erased: the keyed hash alone stays. */
  address: string | null;
  addressHash: string;
  stream: string;
  reason: string;
  class: string;
  source: string;
  rule: string | null;
  since: string;
  expiresAt: string | null;
  note: string | null;
  createdBy: string | null;
}

export interface Lookup {
  address: string;
  suppressed: boolean;
  suppressions: Suppression[];
  paused?: boolean;
  pause?: { provider: string | null; since: string; reason: string; incidentId: string | null } | null;
}

export interface EventMail {
  mailId: string;
  raw: string;
  truncated: boolean;
  decoded: {
    subject: string | null;
    from: string | null;
    to: string | null;
    date: string | null;
    text: string | null;
    attachments: { filename: string | null; contentType: string; size: number }[];
  };
  decisive: { line: number | null; text: string | null };
}
