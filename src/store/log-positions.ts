// Log followers' positions: read at start, written in the transaction of the events the lines before it made.
import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

export interface LogPosition {
  /** A file's device and inode; for journald (`journal:` names), the cursor of the last entry taken. */
  fileId: string;
  /** The byte offset in the file (0 for journald). */
  offset: number;
  /** The file's first bytes, `len:sha256` (src/integrations/postfix/log-file.ts); none for journald and for
   * positions saved before migration 0025. */
  fingerprint?: string;
  state: unknown;
  lines: number;
}

export async function getLogPosition(db: Kysely<Database>, name: string): Promise<LogPosition | undefined> {
  const r = await db.selectFrom("log_positions").selectAll().where("name", "=", name).executeTakeFirst();
  return (
    r && {
      fileId: r.file_id,
      offset: Number(r.offset),
      ...(r.fingerprint === null ? {} : { fingerprint: r.fingerprint }),
      state: r.state,
      lines: Number(r.lines),
    }
  );
}

export async function saveLogPosition(
  db: Kysely<Database>,
  name: string,
  p: LogPosition,
  at: Date,
): Promise<void> {
  const row = {
    file_id: p.fileId,
    offset: p.offset,
    fingerprint: p.fingerprint ?? null,
    state: JSON.stringify(p.state),
    lines: p.lines,
    updated_at: at,
  };
  await db
    .insertInto("log_positions")
    .values({ name, ...row })
    .onConflict((oc) => oc.column("name").doUpdateSet(row))
    .execute();
}
