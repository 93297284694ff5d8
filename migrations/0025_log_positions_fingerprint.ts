import { sql, type Kysely } from "kysely";

// A log file's fingerprint beside its saved position (src/integrations/postfix/log-file.ts): `len:sha256` of the
// file's first bytes, so that a file that took the old one's device and inode (deleted, then another created) is
// not resumed at the old one's offset. Null for journald's cursors and for positions saved before: those resume
// as they did. A nullable column without a default: no rewrite of the table.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table log_positions add column fingerprint text`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error("migrations are forward-only");
}
