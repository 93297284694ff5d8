// Outbox -> deliveries: the worker writes outbox rows in the same transaction as its events; this turns each
// into one delivery per subscribed endpoint of the tenant. Safe to run in several processes at once.
import type { Db } from "../store/db.js";
import { dispatchOutbox } from "../store/webhooks.js";

export interface DispatchResult {
  /** Outbox rows taken. */
  taken: number;
  /** Deliveries made, ready for their first try. */
  deliveryIds: string[];
}

/** Dispatch the whole backlog, `batch` outbox rows per transaction. */
export async function dispatchPending(db: Db, now: () => Date, batch = 500): Promise<DispatchResult> {
  const out: DispatchResult = { taken: 0, deliveryIds: [] };
  for (;;) {
    const r = await dispatchOutbox(db, { limit: batch, now: now() });
    out.taken += r.taken;
    out.deliveryIds.push(...r.deliveryIds);
    if (r.taken < batch) return out;
  }
}
