import { sql, type Kysely } from "kysely";

// The first schema: inbound mails (the spool), events, suppressions and their log, per-address soft-bounce
// state, API keys, webhooks and their deliveries, and the outbox the worker fills for webhooks.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("inbound_mails")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("received_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("mail_from", "text", (c) => c.notNull())
    .addColumn("rcpt_to", sql`text[]`, (c) => c.notNull())
    .addColumn("remote_ip", "text")
    .addColumn("helo", "text")
    .addColumn("size", "integer", (c) => c.notNull())
    .addColumn("sha256", "text", (c) => c.notNull())
    .addColumn("raw", "bytea")
    .addColumn("raw_purged_at", "timestamptz")
    .addColumn("status", "text", (c) => c.notNull().defaultTo("pending"))
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("error", "text")
    .addColumn("tenant", "text")
    .addColumn("kind", "text")
    .addColumn("classifier_version", "text")
    .addColumn("duplicate_of", "text")
    .addColumn("enqueued_at", "timestamptz")
    .addColumn("processed_at", "timestamptz")
    .execute();
  await db.schema
    .createIndex("inbound_mails_status_idx")
    .on("inbound_mails")
    .columns(["status", "received_at"])
    .execute();
  await db.schema.createIndex("inbound_mails_sha256_idx").on("inbound_mails").column("sha256").execute();
  await db.schema
    .createIndex("inbound_mails_received_idx")
    .on("inbound_mails")
    .column("received_at")
    .execute();

  await db.schema
    .createTable("events")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("mail_id", "text", (c) => c.references("inbound_mails.id").onDelete("set null"))
    .addColumn("source", "text", (c) => c.notNull().defaultTo("mail"))
    .addColumn("tenant", "text", (c) => c.notNull())
    .addColumn("stream", "text", (c) => c.notNull())
    .addColumn("address", "text", (c) => c.notNull())
    .addColumn("address_hash", "text", (c) => c.notNull())
    .addColumn("address_original", "text", (c) => c.notNull())
    .addColumn("recipient_domain", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("reason", "text", (c) => c.notNull())
    .addColumn("class", "text", (c) => c.notNull())
    .addColumn("status", "text")
    .addColumn("smtp_code", "integer")
    .addColumn("action", "text")
    .addColumn("diagnostic", "text")
    .addColumn("remote_mta", "text")
    .addColumn("reporting_mta", "text")
    .addColumn("feedback_type", "text")
    .addColumn("parser", "text")
    .addColumn("rule", "text")
    .addColumn("verified", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("verp_key_id", "text")
    .addColumn("classifier_version", "text")
    .addColumn("decision", "jsonb")
    .addColumn("occurred_at", "timestamptz", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex("events_mail_address_uq")
    .on("events")
    .columns(["mail_id", "address", "stream"])
    .unique()
    .execute();
  await db.schema
    .createIndex("events_tenant_address_idx")
    .on("events")
    .columns(["tenant", "address_hash", "occurred_at"])
    .execute();
  await db.schema
    .createIndex("events_tenant_time_idx")
    .on("events")
    .columns(["tenant", "occurred_at"])
    .execute();

  await db.schema
    .createTable("suppressions")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("tenant", "text", (c) => c.notNull())
    .addColumn("stream", "text", (c) => c.notNull())
    .addColumn("address", "text")
    .addColumn("address_hash", "text", (c) => c.notNull())
    .addColumn("address_original", "text")
    .addColumn("reason", "text", (c) => c.notNull())
    .addColumn("class", "text", (c) => c.notNull())
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("rule", "text")
    .addColumn("event_ids", sql`bigint[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn("count", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("first_seen", "timestamptz", (c) => c.notNull())
    .addColumn("last_seen", "timestamptz", (c) => c.notNull())
    .addColumn("expires_at", "timestamptz")
    .addColumn("note", "text")
    .addColumn("created_by", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex("suppressions_key_uq")
    .on("suppressions")
    .columns(["tenant", "stream", "address_hash"])
    .unique()
    .execute();
  await db.schema
    .createIndex("suppressions_tenant_hash_idx")
    .on("suppressions")
    .columns(["tenant", "address_hash"])
    .execute();
  await db.schema
    .createIndex("suppressions_tenant_id_idx")
    .on("suppressions")
    .columns(["tenant", "id"])
    .execute();
  await db.schema.createIndex("suppressions_updated_idx").on("suppressions").column("updated_at").execute();

  await db.schema
    .createTable("suppression_log")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("tenant", "text", (c) => c.notNull())
    .addColumn("stream", "text", (c) => c.notNull())
    .addColumn("address_hash", "text", (c) => c.notNull())
    .addColumn("address", "text")
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("reason", "text")
    .addColumn("source", "text")
    .addColumn("actor", "text")
    .addColumn("note", "text")
    .addColumn("event_ids", sql`bigint[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn("at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex("suppression_log_addr_idx")
    .on("suppression_log")
    .columns(["tenant", "address_hash", "at"])
    .execute();

  await db.schema
    .createTable("address_state")
    .addColumn("tenant", "text", (c) => c.notNull())
    .addColumn("stream", "text", (c) => c.notNull())
    .addColumn("address_hash", "text", (c) => c.notNull())
    .addColumn("soft_level", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("soft_reset_at", "timestamptz")
    .addColumn("next_retry_at", "timestamptz")
    .addColumn("last_delivery_at", "timestamptz")
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("address_state_pk", ["tenant", "stream", "address_hash"])
    .execute();

  await db.schema
    .createTable("api_keys")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant", "text", (c) => c.notNull())
    .addColumn("name", "text")
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .addColumn("scopes", sql`text[]`, (c) => c.notNull())
    .addColumn("rate_limit_per_minute", "integer")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("revoked_at", "timestamptz")
    .addColumn("last_used_at", "timestamptz")
    .execute();

  await db.schema
    .createTable("webhooks")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant", "text", (c) => c.notNull())
    .addColumn("url", "text", (c) => c.notNull())
    .addColumn("secret", "text", (c) => c.notNull())
    .addColumn("events", sql`text[]`, (c) => c.notNull())
    .addColumn("description", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("disabled_at", "timestamptz")
    .execute();
  await db.schema.createIndex("webhooks_tenant_idx").on("webhooks").column("tenant").execute();

  await db.schema
    .createTable("outbox")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("tenant", "text", (c) => c.notNull())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("payload", "jsonb", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("dispatched_at", "timestamptz")
    .execute();
  await db.schema
    .createIndex("outbox_pending_idx")
    .on("outbox")
    .column("id")
    .where(sql.ref("dispatched_at"), "is", null)
    .execute();

  await db.schema
    .createTable("webhook_deliveries")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("webhook_id", "text", (c) => c.notNull().references("webhooks.id").onDelete("cascade"))
    .addColumn("outbox_id", "bigint", (c) => c.notNull())
    .addColumn("tenant", "text", (c) => c.notNull())
    .addColumn("event_type", "text", (c) => c.notNull())
    .addColumn("payload", "jsonb", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull().defaultTo("pending"))
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("last_status_code", "integer")
    .addColumn("last_error", "text")
    .addColumn("next_attempt_at", "timestamptz")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("delivered_at", "timestamptz")
    .execute();
  await db.schema
    .createIndex("webhook_deliveries_uq")
    .on("webhook_deliveries")
    .columns(["webhook_id", "outbox_id"])
    .unique()
    .execute();
  await db.schema
    .createIndex("webhook_deliveries_tenant_idx")
    .on("webhook_deliveries")
    .columns(["tenant", "id"])
    .execute();
}

export async function down(): Promise<void> {
  throw new Error("migrations are forward-only");
}
