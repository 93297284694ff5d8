import type { Kysely } from "kysely";

// ESP webhooks and POP3 mailboxes.
//
// The ESP events already recorded (POST /v1/ingest/<provider>), by the provider's own id of each, per tenant: a
// webhook the provider sends again (a retry, a duplicate delivery) records nothing twice. Written in the
// transaction that records the event.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("esp_events")
    .addColumn("tenant", "text", (c) => c.notNull())
    .addColumn("provider", "text", (c) => c.notNull())
    .addColumn("event_id", "text", (c) => c.notNull())
    .addColumn("received_at", "timestamptz", (c) => c.notNull())
    .addPrimaryKeyConstraint("esp_events_pkey", ["tenant", "provider", "event_id"])
    .execute();
  await db.schema.createIndex("esp_events_received_at_idx").on("esp_events").column("received_at").execute();

  // The POP3 messages already committed to the spool (`rebound ingest pop3`), by account and UIDL: written in the
  // transaction that commits the mail, before the message is deleted on the server. A crash before the server
  // deletes it finds it here next time: deleted then without being taken twice (or left, with `after: keep`).
  await db.schema
    .createTable("pop3_uidls")
    .addColumn("account", "text", (c) => c.notNull())
    .addColumn("uidl", "text", (c) => c.notNull())
    .addColumn("mail_id", "text", (c) => c.notNull())
    .addColumn("taken_at", "timestamptz", (c) => c.notNull())
    .addPrimaryKeyConstraint("pop3_uidls_pkey", ["account", "uidl"])
    .execute();
}

export async function down(): Promise<void> {
  throw new Error("migrations are forward-only");
}
