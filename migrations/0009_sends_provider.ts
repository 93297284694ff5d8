import { sql, type Kysely } from "kysely";

// Send volume (POST /v1/sends) and what ties an event to its send.
//
// - events: the recipient's mailbox provider, and what its send said (campaign, sending IP, when it was sent)
//   when the event could be tied to one. Null columns: adding them rewrites nothing.
// - sends: one row per message sent, keyed by its Message-ID within the tenant (a retried upload adds nothing);
//   no recipient address is kept, only its domain and provider.
// - send_batches: uploads of counts, keyed by their batch id (a retried upload adds nothing).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable("events")
    .addColumn("provider", "text")
    .addColumn("campaign", "text")
    .addColumn("sending_ip", "text")
    .addColumn("sent_at", "timestamptz")
    .execute();

  await db.schema
    .createTable("sends")
    .addColumn("tenant", "text", (c) => c.notNull())
    .addColumn("message_id", "text", (c) => c.notNull())
    .addColumn("stream", "text", (c) => c.notNull())
    .addColumn("campaign", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("sending_ip", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("recipient_domain", "text", (c) => c.notNull())
    .addColumn("provider", "text", (c) => c.notNull())
    .addColumn("sent_at", "timestamptz", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("sends_pk", ["tenant", "message_id"])
    .execute();
  // For retention: a BRIN index (sends arrive roughly in time order; it costs next to nothing to keep).
  await db.schema.createIndex("sends_sent_at_idx").on("sends").using("brin").column("sent_at").execute();

  await db.schema
    .createTable("send_batches")
    .addColumn("tenant", "text", (c) => c.notNull())
    .addColumn("batch_id", "text", (c) => c.notNull())
    .addColumn("records", "integer", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("send_batches_pk", ["tenant", "batch_id"])
    .execute();
}

export async function down(): Promise<void> {
  throw new Error("migrations are forward-only");
}
