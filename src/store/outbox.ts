// The outbox: events for webhooks, written in the same transaction as the change they announce. The webhook
// dispatcher reads the rows not yet dispatched, in id order.
import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

export const OUTBOX_TYPES = [
  "bounce.hard",
  "bounce.soft",
  "bounce.block",
  "complaint",
  "suppression.added",
  "suppression.removed",
] as const;
export type OutboxType = (typeof OUTBOX_TYPES)[number];

export interface OutboxEvent {
  tenant: string;
  type: OutboxType;
  payload: Record<string, unknown>;
}

export async function emitOutbox(db: Kysely<Database>, e: OutboxEvent): Promise<void> {
  await db
    .insertInto("outbox")
    .values({ tenant: e.tenant, type: e.type, payload: JSON.stringify(e.payload) })
    .execute();
}

/** Rows not yet dispatched, oldest first. */
export async function pendingOutbox(db: Kysely<Database>, limit = 500, afterId = "0") {
  return db
    .selectFrom("outbox")
    .selectAll()
    .where("dispatched_at", "is", null)
    .where("id", ">", afterId)
    .orderBy("id")
    .limit(limit)
    .execute();
}

export async function markOutboxDispatched(db: Kysely<Database>, ids: string[], at: Date): Promise<void> {
  if (ids.length) await db.updateTable("outbox").set({ dispatched_at: at }).where("id", "in", ids).execute();
}
