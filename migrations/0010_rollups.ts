import { type Kysely } from "kysely";

// Hourly rollups: per tenant, stream, campaign, sending IP, provider and hour, what was sent and what came back.
// Written by increments (INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n) in the transaction that writes
// what they count, so that several worker processes add up. An unknown campaign or sending IP is ''.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("rollups")
    .addColumn("tenant", "text", (c) => c.notNull())
    .addColumn("hour", "timestamptz", (c) => c.notNull())
    .addColumn("stream", "text", (c) => c.notNull())
    .addColumn("provider", "text", (c) => c.notNull())
    .addColumn("campaign", "text", (c) => c.notNull())
    .addColumn("sending_ip", "text", (c) => c.notNull())
    .addColumn("sent", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("delivered", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("hard", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("soft", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("block", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("complaint", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("auto_reply", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("unverified", "bigint", (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint("rollups_pk", ["tenant", "hour", "stream", "provider", "campaign", "sending_ip"])
    .execute();
}

export async function down(): Promise<void> {
  throw new Error("migrations are forward-only");
}
