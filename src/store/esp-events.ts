// ESP events already recorded (migration 0019): claimed in the transaction that records each, so that a webhook
// the provider sends again records nothing twice (a concurrent duplicate waits on the key, then sees it taken).
import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

/** Claim a provider's event id for a tenant; false when it was recorded before. */
export async function claimEspEvent(
  db: Kysely<Database>,
  e: { tenant: string; provider: string; eventId: string; at: Date },
): Promise<boolean> {
  const row = await db
    .insertInto("esp_events")
    .values({ tenant: e.tenant, provider: e.provider, event_id: e.eventId, received_at: e.at })
    .onConflict((oc) => oc.columns(["tenant", "provider", "event_id"]).doNothing())
    .returning("event_id")
    .executeTakeFirst();
  return row !== undefined;
}

/** Claims received before `before` (providers have long stopped retrying those events); how many went. */
export async function purgeEspClaims(db: Kysely<Database>, before: Date): Promise<number> {
  const r = await db.deleteFrom("esp_events").where("received_at", "<", before).executeTakeFirst();
  return Number(r.numDeletedRows);
}
