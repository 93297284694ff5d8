import { type Kysely } from "kysely";

// Retention (src/store/retention.ts) deletes by age across every tenant: events by occurred_at, the suppression
// log by at. Each gets an index on that time alone, so a purge pass reads only what it deletes (the existing
// indexes lead with the tenant or the address).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex("events_occurred_idx").on("events").column("occurred_at").execute();
  await db.schema.createIndex("suppression_log_at_idx").on("suppression_log").column("at").execute();
}

export async function down(): Promise<void> {
  throw new Error("migrations are forward-only");
}
