// Read-side queries of the suppression store for the API: lookups by address hash, the id feed that keeps
// the API's in-memory index current, browsing with filters and keyset pages.
import { sql, type Kysely } from "kysely";
import type { Database } from "./schema.js";

export interface SuppressionRow {
  id: string;
  tenant: string;
  stream: string;
  address: string | null;
  address_hash: string;
  address_original: string | null;
  reason: string;
  class: string;
  source: string;
  rule: string | null;
  event_ids: string[];
  count: number;
  first_seen: Date;
  last_seen: Date;
  expires_at: Date | null;
  note: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

/** The suppressions in force (not expired at `now`) of some address hashes of one tenant, in every stream. */
export async function activeSuppressionsByHash(
  db: Kysely<Database>,
  tenant: string,
  hashes: string[],
  now: Date,
): Promise<SuppressionRow[]> {
  if (hashes.length === 0) return [];
  const rows = await db
    .selectFrom("suppressions")
    .selectAll()
    .where("tenant", "=", tenant)
    .where(sql<boolean>`address_hash = any(${hashes}::text[])`)
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]))
    .execute();
  return rows as SuppressionRow[];
}

export interface KeyRow {
  id: string;
  tenant: string;
  address_hash: string;
}

/** Suppression keys with an id above `afterId`, or one of `ids` (ids seen missing earlier), by id. */
export async function suppressionKeysSince(
  db: Kysely<Database>,
  afterId: string,
  ids: string[],
  limit: number,
): Promise<KeyRow[]> {
  let q = db.selectFrom("suppressions").select(["id", "tenant", "address_hash"]);
  q =
    ids.length > 0
      ? q.where((eb) =>
          eb.or([eb("id", ">", afterId as never), eb(sql<boolean>`id = any(${ids}::bigint[])`, "=", true)]),
        )
      : q.where("id", ">", afterId as never);
  return (await q.orderBy("id").limit(limit).execute()) as KeyRow[];
}

export interface EventSummary {
  id: string;
  mail_id: string | null;
  stream: string;
  kind: string;
  reason: string;
  class: string;
  status: string | null;
  smtp_code: number | null;
  diagnostic: string | null;
  rule: string | null;
  verified: boolean;
  occurred_at: Date;
}

/** Events of one tenant by id (the evidence behind a suppression). */
export async function eventsByIds(
  db: Kysely<Database>,
  tenant: string,
  ids: string[],
): Promise<EventSummary[]> {
  if (ids.length === 0) return [];
  return (await db
    .selectFrom("events")
    .select([
      "id",
      "mail_id",
      "stream",
      "kind",
      "reason",
      "class",
      "status",
      "smtp_code",
      "diagnostic",
      "rule",
      "verified",
      "occurred_at",
    ])
    .where("tenant", "=", tenant)
    .where(sql<boolean>`id = any(${ids}::bigint[])`)
    .orderBy("occurred_at")
    .execute()) as EventSummary[];
}
