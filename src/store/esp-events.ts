// ESP events already recorded (migration 0019): claimed in the transaction that records each, so that a webhook
// the provider sends again records nothing twice (a concurrent duplicate waits on the key, then sees it taken).
import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

/**
 * Claim a provider's event ids for a tenant (in the transaction that records their events); returns those that
 * were not recorded before. Claimed in id order, so that two requests claiming the same ids never wait on each
 * other crosswise.
 */
export async function claimEspEvents(
  db: Kysely<Database>,
  e: { tenant: string; provider: string; eventIds: string[]; at: Date },
): Promise<Set<string>> {
  const ids = [...new Set(e.eventIds)].sort();
  if (!ids.length) return new Set();
  const rows = await db
    .insertInto("esp_events")
    .values(ids.map((id) => ({ tenant: e.tenant, provider: e.provider, event_id: id, received_at: e.at })))
    .onConflict((oc) => oc.columns(["tenant", "provider", "event_id"]).doNothing())
    .returning("event_id")
    .execute();
  return new Set(rows.map((r) => r.event_id));
}

/** Claims received before `before` (providers have long stopped retrying those events); how many went. */
export async function purgeEspClaims(db: Kysely<Database>, before: Date): Promise<number> {
  const r = await db.deleteFrom("esp_events").where("received_at", "<", before).executeTakeFirst();
  return Number(r.numDeletedRows);
}
