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
}

/** The key of the address hashes (migration 0022): one row. */
export interface AddressKeyTable {
  id: number;
  fingerprint: string;
  key: Uint8Array | null;
  created_at: DefaultTimestamp;
}

export interface Database {
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
  log_positions: LogPositionsTable;
  address_key: AddressKeyTable;
}
