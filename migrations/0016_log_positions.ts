import { sql, type Kysely } from "kysely";

// Where a log follower (`rebound ingest postfix-log --follow`) stands in its file: written in the transaction that
// records the events of the lines before it, so that a restart neither loses nor counts a line twice. `state`
// holds what the reader carries between lines (the mails still in Postfix's queue: their sender, Message-ID).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("log_positions")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("file_id", "text", (c) => c.notNull())
    .addColumn("offset", "bigint", (c) => c.notNull())
    .addColumn("state", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("lines", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull())
    .execute();
}

export async function down(): Promise<void> {
  throw new Error("migrations are forward-only");
}
