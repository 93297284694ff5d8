import { sql, type Kysely } from "kysely";

// The index by status holds only the mails not finished yet (pending, processing, failed): what the sweeper,
// `rebound reprocess --failed` and the metrics look for. A mail marked processed or duplicate leaves it rather
// than adding an entry that nothing reads: one index entry less to write per mail (the worker's status update
// cannot be a HOT update while any index names the status), and an index the size of the backlog rather than
// of the whole spool.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex("inbound_mails_unfinished_idx")
    .on("inbound_mails")
    .columns(["status", "received_at"])
    .where(sql.ref("status"), "in", sql`('pending', 'processing', 'failed')`)
    .execute();
  await db.schema.dropIndex("inbound_mails_status_idx").execute();
}

export async function down(): Promise<void> {
  throw new Error("migrations are forward-only");
}
