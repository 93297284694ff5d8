import { type Kysely } from "kysely";

// Each event says whether its failure is permanent (true), transient (false) or unknown (null), as classify()
// decided (issue 14, section 3). Null for the events stored before: their mails can be re-processed.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("events").addColumn("permanent", "boolean").execute();
}

export async function down(): Promise<void> {
  throw new Error("migrations are forward-only");
}
