// Retention by age: events, mail metadata and the suppression log older than their settings are deleted (raw bytes: purgeRaw in mails.ts; expired suppressions: expireSuppressions). Each purge deletes in
// batches of rows it locks with SKIP LOCKED, so that several processes running it at once share the work
// instead of waiting on each other, and no statement holds many locks for long.
import { sql } from "kysely";
import type { Db } from "./db.js";

const BATCH = 5_000;

/** Delete in batches until a batch comes back short; returns how many rows went. */
async function inBatches(run: () => Promise<number>, batch = BATCH): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await run();
    total += n;
    if (n < batch) return total;
  }
}

async function deleted(db: Db, q: ReturnType<typeof sql<{ n: string }>>): Promise<number> {
  const r = await q.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}

/**
 * Rows of `table` whose `column` is before `before` (and that match `where`), `batch` per statement; returns how
 * many went.
 */
function purgeBefore(
  db: Db,
  o: {
    table: string;
    column: string;
    before: Date;
    batch?: number;
    where?: ReturnType<typeof sql>;
  },
): Promise<number> {
  const batch = o.batch ?? BATCH;
  const extra = o.where ? sql` and ${o.where}` : sql``;
  return inBatches(
    () =>
      deleted(
        db,
        sql<{ n: string }>`with gone as (
          delete from ${sql.table(o.table)} where id in (
            select id from ${sql.table(o.table)}
             where ${sql.ref(o.column)} < ${o.before}${extra}
             limit ${batch} for update skip locked)
          returning 1)
        select count(*)::text as n from gone`,
      ),
    batch,
  );
}

/** Events that occurred before `before` (a suppression keeps its ids; its explanation then lacks them). */
export const purgeEvents = (db: Db, before: Date) =>
  purgeBefore(db, { table: "events", column: "occurred_at", before });

/**
 * Mails received before `before` that are done with (processed or duplicate): the whole row, metadata and
 * envelope. Pending, processing and failed mails are never deleted. Their events stay (mail_id set to null).
 */
export const purgeMails = (db: Db, before: Date) =>
  purgeBefore(db, {
    table: "inbound_mails",
    column: "received_at",
    before,
    where: sql`status in ('processed', 'duplicate')`,
  });

/**
 * Suppression log rows older than `before`. (Webhook history, dispatched outbox rows and finished deliveries,
 * is forgotten by the webhook worker: purgeWebhookHistory in webhooks.ts.)
 */
export const purgeLogs = (db: Db, before: Date) =>
  purgeBefore(db, { table: "suppression_log", column: "at", before });

/**
 * DMARC aggregate reports received before `before`, with their rows (dmarc_records, by its cascade): a few
 * reports per statement, since one may hold 100,000 rows.
 */
export const purgeDmarcReports = (db: Db, before: Date) =>
  purgeBefore(db, { table: "dmarc_reports", column: "received_at", before, batch: 50 });

/** SMTP TLS reports received before `before`. */
export const purgeTlsReports = (db: Db, before: Date) =>
  purgeBefore(db, { table: "tls_reports", column: "received_at", before });

/** RFC 6591 authentication failure reports that occurred before `before`. */
export const purgeAuthFailureReports = (db: Db, before: Date) =>
  purgeBefore(db, { table: "auth_failure_reports", column: "occurred_at", before });
