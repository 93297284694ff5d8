// Kysely's view of the tables made by migrations/. Keep in step with them.
import type { ColumnType, Generated, JSONColumnType } from "kysely";

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type DefaultTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type BigId = ColumnType<string, string | number | bigint | undefined, never>;

export type MailStatus = "pending" | "processing" | "processed" | "failed" | "duplicate";

export interface InboundMailsTable {
  id: string;
  received_at: DefaultTimestamp;
  mail_from: string;
  rcpt_to: string[];
  remote_ip: string | null;
  helo: string | null;
  size: number;
  sha256: string;
  raw: Buffer | null;
  raw_purged_at: Timestamp | null;
  status: ColumnType<MailStatus, MailStatus | undefined, MailStatus>;
  attempts: Generated<number>;
  error: string | null;
  tenant: string | null;
  kind: string | null;
  classifier_version: string | null;
  duplicate_of: string | null;
  enqueued_at: Timestamp | null;
  processed_at: Timestamp | null;
}

export interface EventsTable {
  id: BigId;
  mail_id: string | null;
  source: ColumnType<string, string | undefined, string>;
  tenant: string;
  stream: string;
  address: string;
  address_hash: string;
  address_original: string;
  recipient_domain: string;
  kind: string;
  reason: string;
  class: string;
  /** 0015: whether the failure is permanent, transient or unknown (null; also every event from before 0015). */
  permanent: boolean | null;
  status: string | null;
  smtp_code: number | null;
  action: string | null;
  diagnostic: string | null;
  remote_mta: string | null;
  reporting_mta: string | null;
  feedback_type: string | null;
  parser: string | null;
  rule: string | null;
  verified: ColumnType<boolean, boolean | undefined, boolean>;
  verp_key_id: string | null;
  classifier_version: string | null;
  decision: JSONColumnType<Record<string, unknown>> | null;
  occurred_at: Timestamp;
  created_at: DefaultTimestamp;
  /** The recipient's mailbox provider (src/core/provider.ts); null on events older than migration 0009. */
  provider: ColumnType<string | null, string | null | undefined, string | null>;
  /** From the send the event was tied to (its Message-ID), when it was. */
  campaign: ColumnType<string | null, string | null | undefined, string | null>;
  sending_ip: ColumnType<string | null, string | null | undefined, string | null>;
  sent_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** 0023: the domain the returned mail was sent from (its From, else its signed return path's); null: unknown. */
  sending_domain: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface SendsTable {
  tenant: string;
  message_id: string;
  stream: string;
  campaign: string;
  sending_ip: string;
  recipient_domain: string;
  provider: string;
  sent_at: Timestamp;
  created_at: DefaultTimestamp;
  sending_domain: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface SendBatchesTable {
  tenant: string;
  batch_id: string;
  records: number;
  created_at: DefaultTimestamp;
}

type Count = ColumnType<string, number | string | undefined, number | string>;

export interface RollupsTable {
  tenant: string;
  hour: Timestamp;
  stream: string;
  provider: string;
  campaign: string;
  sending_ip: string;
  sent: Count;
  delivered: Count;
  hard: Count;
  soft: Count;
  block: Count;
  complaint: Count;
  auto_reply: Count;
  unverified: Count;
}

/** The pre-aggregated rollups (migration 0018): the counters of RollupsTable over coarser keys. */
interface RollupCounters {
  sent: Count;
  delivered: Count;
  hard: Count;
  soft: Count;
  block: Count;
  complaint: Count;
  auto_reply: Count;
  unverified: Count;
}
export interface RollupsDailyTable extends RollupCounters {
  tenant: string;
  day: Timestamp;
  stream: string;
  provider: string;
  campaign: string;
  sending_ip: string;
}
export interface RollupsSpTable extends RollupCounters {
  tenant: string;
  stream: string;
  provider: string;
}
export interface RollupsScTable extends RollupCounters {
  tenant: string;
  stream: string;
  campaign: string;
}

export interface RollupsSiTable extends RollupCounters {
  tenant: string;
  stream: string;
  sending_ip: string;
}

/** A scheduled report taken by one process (migration 0018). */
export interface ReportRunsTable {
  tenant: string;
  /** week | month */
  period: string;
  period_start: Timestamp;
  /** sending | sent | failed */
  status: string;
  claimed_at: DefaultTimestamp;
  finished_at: Timestamp | null;
  error: string | null;
}

export interface SuppressionsTable {
  id: BigId;
  tenant: string;
  /** A stream name, or `*` for every stream of the tenant. */
  stream: string;
  /** Null for an erased address (the hash stays as a tombstone). */
  address: string | null;
  address_hash: string;
  address_original: string | null;
  reason: string;
  class: string;
  /** bounce | complaint | soft_escalation | manual | import */
  source: string;
  rule: string | null;
  event_ids: ColumnType<string[], (string | number)[] | undefined, (string | number)[]>;
  count: ColumnType<number, number | undefined, number>;
  first_seen: Timestamp;
  last_seen: Timestamp;
  expires_at: Timestamp | null;
  note: string | null;
  created_by: string | null;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
}

export interface SuppressionLogTable {
  id: BigId;
  tenant: string;
  stream: string;
  address_hash: string;
  address: string | null;
  /** added | updated | removed | expired | erased */
  action: string;
  reason: string | null;
  source: string | null;
  actor: string | null;
  note: string | null;
  event_ids: ColumnType<string[], (string | number)[] | undefined, (string | number)[]>;
  at: DefaultTimestamp;
}

export interface AddressStateTable {
  tenant: string;
  stream: string;
  address_hash: string;
  soft_level: ColumnType<number, number | undefined, number>;
  soft_reset_at: Timestamp | null;
  next_retry_at: Timestamp | null;
  last_delivery_at: Timestamp | null;
  updated_at: DefaultTimestamp;
}

export interface ApiKeysTable {
  id: string;
  tenant: string;
  name: string | null;
  token_hash: string;
  scopes: string[];
  rate_limit_per_minute: number | null;
  created_at: DefaultTimestamp;
  revoked_at: Timestamp | null;
  last_used_at: Timestamp | null;
}

export interface WebhooksTable {
  id: string;
  tenant: string;
  url: string;
  secret: string;
  events: string[];
  description: string | null;
  created_at: DefaultTimestamp;
  disabled_at: Timestamp | null;
}

export interface OutboxTable {
  id: BigId;
  tenant: string;
  /** bounce.hard | bounce.soft | bounce.block | complaint | suppression.added | suppression.removed */
  type: string;
  payload: JSONColumnType<Record<string, unknown>>;
  created_at: DefaultTimestamp;
  dispatched_at: Timestamp | null;
}

export interface WebhookDeliveriesTable {
  id: BigId;
  webhook_id: string;
  outbox_id: ColumnType<string, string | number, never>;
  tenant: string;
  event_type: string;
  payload: JSONColumnType<Record<string, unknown>>;
  /** pending | delivered | failed | dead */
  status: ColumnType<string, string | undefined, string>;
  attempts: ColumnType<number, number | undefined, number>;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Timestamp | null;
  created_at: DefaultTimestamp;
  delivered_at: Timestamp | null;
}

/** Where a log follower stands in its file (migration 0016). */
export interface LogPositionsTable {
  name: string;
  /** The file's device and inode (`dev:ino`): another value means the file was rotated. */
  file_id: string;
  offset: ColumnType<string, string | number, string | number>;
  state: ColumnType<unknown, string, string>;
  lines: ColumnType<string, string | number, string | number>;
  updated_at: Date;
  /** `len:sha256` of the file's first bytes (migration 0025); null for journald and positions saved before. */
  fingerprint: string | null;
}

/** An ESP event already recorded, by the provider's id of it (migration 0019). */
export interface EspEventsTable {
  tenant: string;
  provider: string;
  event_id: string;
  received_at: Date;
}

/** A POP3 message committed to the spool, by account and UIDL (migration 0019). */
export interface Pop3UidlsTable {
  account: string;
  uidl: string;
  mail_id: string;
  taken_at: Date;
}

type Json<T> = ColumnType<T, string, string>;

/** A DMARC aggregate report (migration 0020); a refused one has `error` and no records. */
export interface DmarcReportsTable {
  id: BigId;
  tenant: string;
  mail_id: string | null;
  source: string;
  schema: string | null;
  org_name: string | null;
  email: string | null;
  report_id: string | null;
  domain: string | null;
  date_begin: Timestamp | null;
  date_end: Timestamp | null;
  policy: Json<Record<string, unknown> | null> | null;
  generator: string | null;
  errors: ColumnType<string[], string | undefined, string>;
  records: ColumnType<number, number | undefined, number>;
  messages: Count;
  error: string | null;
  received_at: Timestamp;
}

/** One row of a DMARC aggregate report (migration 0020). */
export interface DmarcRecordsTable {
  id: BigId;
  report: ColumnType<string, string | number, never>;
  tenant: string;
  org_name: string;
  domain: string;
  date_begin: Timestamp;
  date_end: Timestamp;
  source_ip: string;
  count: Count;
  disposition: string | null;
  dkim: string | null;
  spf: string | null;
  header_from: string;
  envelope_from: string | null;
  envelope_to: string | null;
  reasons: Json<unknown[]>;
  dkim_results: Json<unknown[]>;
  spf_results: Json<unknown[]>;
}

/** An SMTP TLS report (migration 0020), its policies' results as JSON; a refused one has `error`. */
export interface TlsReportsTable {
  id: BigId;
  tenant: string;
  mail_id: string | null;
  source: string;
  org_name: string | null;
  report_id: string | null;
  contact: string | null;
  date_begin: Timestamp | null;
  date_end: Timestamp | null;
  policies: Json<unknown[]>;
  successful: Count;
  failed: Count;
  error: string | null;
  received_at: Timestamp;
}

/** An RFC 6591 authentication failure report (ARF auth-failure), per sending domain and IP (migration 0020). */
export interface AuthFailureReportsTable {
  id: BigId;
  tenant: string;
  mail_id: string | null;
  occurred_at: Timestamp;
  domain: string;
  source_ip: string | null;
  failure: string | null;
  incidents: ColumnType<number, number | undefined, number>;
  reporter: string | null;
  details: Json<Record<string, string>>;
}

/** Migration 0017: what alert rules found (src/store/incidents.ts). */
export interface IncidentsTable {
  id: BigId;
  tenant: string;
  rule_id: string;
  kind: string;
  scope_key: string;
  stream: string | null;
  provider: string | null;
  campaign: string | null;
  sending_ip: string | null;
  sending_domain: string | null;
  severity: string;
  status: ColumnType<string, string | undefined, string>;
  metric: string | null;
  value: number | null;
  threshold: number | null;
  teams: string[];
  summary: string;
  evidence: JSONColumnType<Record<string, unknown>>;
  opened_at: Timestamp;
  updated_at: Timestamp;
  acknowledged_at: Timestamp | null;
  acknowledged_by: string | null;
  resolved_at: Timestamp | null;
  resolved_by: string | null;
  /** 0023: the figure at the last entry of the history, and the number of `updated` entries. */
  noted_value: ColumnType<number | null, number | null | undefined, number | null>;
  noted_updates: ColumnType<number, number | undefined, number>;
  /** 0023: since when it has been critical or pause (null while a warning): escalation delays count from it. */
  critical_since: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface IncidentHistoryTable {
  id: BigId;
  incident_id: ColumnType<string, string | number, never>;
  at: Timestamp;
  type: string;
  severity: string | null;
  route: string | null;
  channel: string | null;
  note: string | null;
  by: string | null;
  /** 0023: the figure at that moment. */
  value: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface StreamPausesTable {
  id: BigId;
  tenant: string;
  stream: string;
  /** '' = every provider. */
  provider: string;
  since: Timestamp;
  reason: string;
  incident_id: ColumnType<string | null, string | number | null, string | number | null>;
  by: string;
  note: string | null;
  resumed_at: Timestamp | null;
  resumed_by: string | null;
}

export interface AlertDeliveriesTable {
  id: BigId;
  tenant: string;
  incident_id: ColumnType<string, string | number, never>;
  route_id: string;
  channel: string;
  notice: string;
  step: ColumnType<string, string | undefined, string>;
  payload: JSONColumnType<Record<string, unknown>>;
  status: ColumnType<string, string | undefined, string>;
  attempts: ColumnType<number, number | undefined, number>;
  last_error: string | null;
  next_attempt_at: Timestamp | null;
  created_at: Timestamp;
  delivered_at: Timestamp | null;
}

/** The key of the address hashes (migration 0022): one row. */
export interface AddressKeyTable {
  id: number;
  fingerprint: string;
  key: Uint8Array | null;
  created_at: DefaultTimestamp;
}

export interface Database {
  incidents: IncidentsTable;
  incident_history: IncidentHistoryTable;
  stream_pauses: StreamPausesTable;
  alert_deliveries: AlertDeliveriesTable;
  inbound_mails: InboundMailsTable;
  events: EventsTable;
  suppressions: SuppressionsTable;
  suppression_log: SuppressionLogTable;
  address_state: AddressStateTable;
  api_keys: ApiKeysTable;
  webhooks: WebhooksTable;
  outbox: OutboxTable;
  webhook_deliveries: WebhookDeliveriesTable;
  sends: SendsTable;
  send_batches: SendBatchesTable;
  rollups: RollupsTable;
  rollups_daily: RollupsDailyTable;
  rollups_sp_hourly: RollupsSpTable & { hour: Timestamp };
  rollups_sp_daily: RollupsSpTable & { day: Timestamp };
  rollups_sc_hourly: RollupsScTable & { hour: Timestamp };
  rollups_sc_daily: RollupsScTable & { day: Timestamp };
  rollups_si_hourly: RollupsSiTable & { hour: Timestamp };
  rollups_si_daily: RollupsSiTable & { day: Timestamp };
  report_runs: ReportRunsTable;
  log_positions: LogPositionsTable;
  esp_events: EspEventsTable;
  pop3_uidls: Pop3UidlsTable;
  dmarc_reports: DmarcReportsTable;
  dmarc_records: DmarcRecordsTable;
  tls_reports: TlsReportsTable;
  auth_failure_reports: AuthFailureReportsTable;
  address_key: AddressKeyTable;
}
