// Bulk import of suppressions (moving a list over from a hosted provider): one statement per batch adds
// the rows, replaces expired ones, keeps the ones in force, and logs each addition with the actor.
// Imports do not announce each row to webhooks (a million-row move would flood them).
import { sql, type Kysely } from "kysely";
import type { Database } from "./schema.js";

export interface ImportRow {
  stream: string;
  /** Normalized. */
  address: string;
  addressHash: string;
  addressOriginal: string;
  reason: string;
  class: string;
  expiresAt: Date | null;
  note: string | null;
  /** When the provider first suppressed it (default: now). */
  since: Date | null;
}

/** Add a batch (no two rows with the same stream and address); returns how many were added. */
export async function importSuppressions(
  db: Kysely<Database>,
  tenant: string,
  rows: ImportRow[],
  actor: string | null,
  at: Date,
): Promise<number> {
  if (rows.length === 0) return 0;
  const col = <T>(f: (r: ImportRow) => T) => rows.map(f);
  const res = await sql<{ n: string }>`
    with input as (
      select * from unnest(
        ${col((r) => r.stream)}::text[], ${col((r) => r.address)}::text[], ${col((r) => r.addressHash)}::text[],
        ${col((r) => r.addressOriginal)}::text[], ${col((r) => r.reason)}::text[], ${col((r) => r.class)}::text[],
        ${col((r) => r.expiresAt?.toISOString() ?? null)}::timestamptz[], ${col((r) => r.note)}::text[],
        ${col((r) => (r.since ?? at).toISOString())}::timestamptz[]
      ) as i(stream, address, address_hash, address_original, reason, class, expires_at, note, first_seen)
    ), up as (
      insert into suppressions as s (tenant, stream, address, address_hash, address_original, reason, class, source, rule,
                                     event_ids, count, first_seen, last_seen, expires_at, note, created_by, created_at, updated_at)
      select ${tenant}, stream, address, address_hash, address_original, reason, class, 'import', null,
             '{}', 1, first_seen, ${at}, expires_at, note, ${actor}, ${at}, ${at}
        from input
      on conflict (tenant, stream, address_hash) do update set
        address = excluded.address, address_original = excluded.address_original, reason = excluded.reason,
        class = excluded.class, source = excluded.source, rule = null, event_ids = '{}', count = 1,
        first_seen = excluded.first_seen, last_seen = excluded.last_seen, expires_at = excluded.expires_at,
        note = excluded.note, created_by = excluded.created_by, created_at = excluded.created_at,
        updated_at = excluded.updated_at
      where s.expires_at is not null and s.expires_at <= ${at}
      returning s.stream, s.address_hash, s.address, s.reason, s.note
    ), logged as (
      insert into suppression_log (tenant, stream, address_hash, address, action, reason, source, actor, note, at)
      select ${tenant}, stream, address_hash, address, 'added', reason, 'import', ${actor}, note, ${at} from up
      returning 1
    )
    select count(*)::text as n from logged`.execute(db);
  return Number(res.rows[0]?.n ?? 0);
}
