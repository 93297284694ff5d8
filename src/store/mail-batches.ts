// Mail ids in batches, for re-processing: every mail whose raw bytes are still kept, in arrival order.
import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

export interface BatchCursor {
  receivedAt: Date;
  id: string;
}

/** Mails with raw bytes (status processed, failed or pending) after the cursor, oldest first. */
export async function reprocessableMailIds(
  db: Kysely<Database>,
  after: BatchCursor | null,
  limit = 500,
): Promise<BatchCursor[]> {
  let q = db
    .selectFrom("inbound_mails")
    .select(["id", "received_at"])
    .where("raw", "is not", null)
    .where("status", "in", ["processed", "failed", "pending"]);
  if (after) {
    q = q.where((eb) =>
      eb.or([
        eb("received_at", ">", after.receivedAt),
        eb.and([eb("received_at", "=", after.receivedAt), eb("id", ">", after.id)]),
      ]),
    );
  }
  const rows = await q.orderBy("received_at").orderBy("id").limit(limit).execute();
  return rows.map((r) => ({ id: r.id, receivedAt: r.received_at }));
}
