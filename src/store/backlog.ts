// The backlogs the metrics show: mails not processed yet and webhook deliveries not delivered yet, by status.
import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

export const MAIL_BACKLOG_STATUSES = ["pending", "processing", "failed"] as const;
export const DELIVERY_BACKLOG_STATUSES = ["pending", "failed"] as const;

/** Mails not processed yet, per status (every status listed, 0 when none). */
export async function mailBacklog(db: Kysely<Database>): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom("inbound_mails")
    .select(["status", (eb) => eb.fn.countAll<string>().as("n")])
    .where("status", "in", [...MAIL_BACKLOG_STATUSES])
    .groupBy("status")
    .execute();
  return counts(MAIL_BACKLOG_STATUSES, rows);
}

/** Webhook deliveries not delivered yet, per status (every status listed, 0 when none). */
export async function deliveryBacklog(db: Kysely<Database>): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom("webhook_deliveries")
    .select(["status", (eb) => eb.fn.countAll<string>().as("n")])
    .where("status", "in", [...DELIVERY_BACKLOG_STATUSES])
    .groupBy("status")
    .execute();
  return counts(DELIVERY_BACKLOG_STATUSES, rows);
}

function counts(statuses: readonly string[], rows: { status: string; n: string }[]): Map<string, number> {
  const out = new Map(statuses.map((s) => [s, 0]));
  for (const r of rows) out.set(r.status, Number(r.n));
  return out;
}
