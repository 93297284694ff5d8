// The worker's reads of a batch of mails: their raw bytes before the transaction (classified outside it), then
// their rows locked inside it.
import { sql, type Kysely, type Selectable } from "kysely";
import type { Database, InboundMailsTable } from "./schema.js";

/** A mail's bytes, to classify before the batch's transaction opens. */
export type MailBytes = Pick<Selectable<InboundMailsTable>, "id" | "status" | "raw">;

/**
 * The raw bytes of the mails that may need classifying: every mail asked for when re-processing, otherwise the
 * ones not finished (processed and duplicate mails are left alone). No lock: the bytes of a mail never change
 * (retention may drop them; the locked row says so).
 */
export async function mailsToClassify(
  db: Kysely<Database>,
  ids: string[],
  opts: { reprocess?: boolean } = {},
): Promise<MailBytes[]> {
  const { rows } = await sql<MailBytes>`
    select id, status, raw
      from inbound_mails
     where id = any(${ids}::text[])
       and raw is not null
       ${opts.reprocess ? sql`` : sql`and status not in ('processed', 'duplicate')`}`.execute(db);
  return rows;
}

/** What processing reads of a mail's locked row (its bytes were read and classified before). */
export type LockedMail = Pick<
  Selectable<InboundMailsTable>,
  "id" | "status" | "sha256" | "rcpt_to" | "received_at"
> & {
  /** Retention dropped the raw bytes. */
  purged: boolean;
};

/**
 * The mails, locked: one worker at a time processes a mail. The same statement takes the lock that serialises
 * the mails of one digest (duplicate deliveries), so the twin lookup, a later statement, sees every mail of that
 * digest processed before. Rows are locked in id order, so that two batches cannot wait on each other. Only the
 * columns processing reads (a row's others cost parsing for nothing). Not prepared (see PREPARED): a generic plan
 * made while the table is young would scan it whole ever after.
 */
export async function lockMails(db: Kysely<Database>, ids: string[]): Promise<Map<string, LockedMail>> {
  const { rows } = await sql<LockedMail>`
    select id, status, sha256, rcpt_to, received_at, raw is null as purged,
           pg_advisory_xact_lock(hashtext(sha256))::text as digest_lock
      from inbound_mails
     where id = any(${ids}::text[])
     order by id
       for update`.execute(db);
  return new Map(rows.map((r) => [r.id, r]));
}
