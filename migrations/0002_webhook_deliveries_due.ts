import { sql, type Kysely } from "kysely";

// The webhook worker polls for deliveries due for a try every second: a partial index keeps that cheap as
// the delivery log (mostly `delivered` rows) grows.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex("webhook_deliveries_due_idx")
    .on("webhook_deliveries")
    .column("next_attempt_at")
    .where(sql.ref("status"), "in", sql`('pending', 'failed')`)
    .execute();
}

export async function down(): Promise<void> {
  throw new Error("migrations are forward-only");
}
