// The history behind an address (or a tenant's events) as the API shows it: newest occurrence first, keyset
// pages that continue after a given event. Served by events_tenant_address_idx / events_tenant_time_idx.
import { sql, type Kysely } from "kysely";
import type { EventRow } from "./events.js";
import type { Database } from "./schema.js";

export interface HistoryFilter {
  tenant: string;
  addressHash?: string;
  stream?: string;
  class?: string;
  reason?: string;
  provider?: string;
  campaign?: string;
  since?: Date;
  until?: Date;
  limit: number;
}

/**
 * Events by (occurred_at, id) descending. `afterId`: continue after that event (of the same tenant); returns
 * undefined when that event does not exist (any more).
 */
export async function eventHistory(
  db: Kysely<Database>,
  f: HistoryFilter,
  afterId?: string,
): Promise<EventRow[] | undefined> {
  let q = db.selectFrom("events").selectAll().where("tenant", "=", f.tenant);
  if (afterId !== undefined) {
    const after = await db
      .selectFrom("events")
      .select(["occurred_at", "id"])
      .where("tenant", "=", f.tenant)
      .where("id", "=", afterId)
      .executeTakeFirst();
    if (!after) return undefined;
    q = q.where(sql<boolean>`(occurred_at, id) < (${after.occurred_at}, ${after.id}::bigint)`);
  }
  if (f.addressHash) q = q.where("address_hash", "=", f.addressHash);
  if (f.stream) q = q.where("stream", "=", f.stream);
  if (f.class) q = q.where("class", "=", f.class);
  if (f.reason) q = q.where("reason", "=", f.reason);
  if (f.provider) q = q.where("provider", "=", f.provider);
  if (f.campaign !== undefined) q = q.where("campaign", "=", f.campaign);
  if (f.since) q = q.where("occurred_at", ">=", f.since);
  if (f.until) q = q.where("occurred_at", "<", f.until);
  return q.orderBy("occurred_at", "desc").orderBy("id", "desc").limit(f.limit).execute();
}
