// A tenant's webhook endpoint subscribed to every event type: outbox rows are written only for such tenants.
import type { Db } from "../../src/store/db.js";
import { OUTBOX_TYPES } from "../../src/store/outbox.js";
import { insertWebhook } from "../../src/store/webhooks.js";

let n = 0;

export async function subscribeToAll(db: Db, tenant: string, events: readonly string[] = OUTBOX_TYPES) {
  return insertWebhook(db, {
    id: `wh_test_${tenant}_${++n}`,
    tenant,
    url: "https://hooks.example.com/rebound",
    secret: "whsec_test",
    events: [...events],
    now: new Date(),
  });
}
