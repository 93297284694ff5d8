// The inbound mail behind an event (the raw bounce or complaint report), for the console's "show the bounce".
import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

export interface EventMail {
  mailId: string;
  /** Null when retention purged it. */
  raw: Buffer | null;
  rawPurgedAt: Date | null;
  diagnostic: string | null;
  status: string | null;
  smtpCode: number | null;
  feedbackType: string | null;
}

/**
 * The mail of a tenant's event, or undefined when the event does not exist (for the tenant) or came from no
 * mail (`source: api`).
 */
export async function eventMail(
  db: Kysely<Database>,
  tenant: string,
  eventId: string,
): Promise<EventMail | undefined> {
  const row = await db
    .selectFrom("events as e")
    .innerJoin("inbound_mails as m", "m.id", "e.mail_id")
    .select([
      "m.id as mail_id",
      "m.raw",
      "m.raw_purged_at",
      "e.diagnostic",
      "e.status",
      "e.smtp_code",
      "e.feedback_type",
    ])
    .where("e.tenant", "=", tenant)
    .where("e.id", "=", eventId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    mailId: row.mail_id,
    raw: row.raw,
    rawPurgedAt: row.raw_purged_at,
    diagnostic: row.diagnostic,
    status: row.status,
    smtpCode: row.smtp_code,
    feedbackType: row.feedback_type,
  };
}
