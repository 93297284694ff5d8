import { type Kysely } from "kysely";

// The worker's duplicate lookup wants, for each digest, its oldest processed mails. With the digest alone in the
// index, "oldest first" let the planner walk the index by arrival time instead and test every mail on the way
// whenever the table's statistics were missing or young (no ANALYZE yet, autovacuum off or behind): measured, 0.2 s
// per digest at 300,000 mails, and a parallel seq scan of the whole spool for the plain `= any(...)` form. Digest
// then arrival time in one index serves the lookup in that order, whatever the statistics say.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex("inbound_mails_digest_idx")
    .on("inbound_mails")
    .columns(["sha256", "received_at"])
    .execute();
  await db.schema.dropIndex("inbound_mails_sha256_idx").execute();
}

export async function down(): Promise<void> {
  throw new Error("migrations are forward-only");
}
