// Retention by age: events, mail metadata and the suppression log older than their settings are deleted (raw bytes: purgeRaw in mails.ts; expired suppressions: expireSuppressions). Each purge deletes in
// batches of rows it locks with SKIP LOCKED, so that several processes running it at once share the work
// instead of waiting on each other, and no statement holds many locks for long.
import { sql } from "kysely";
import type { Db } from "./db.js";

const BATCH = 5_000;

/** Delete in batches until a batch comes back short; returns how many rows went. */
async function inBatches(run: () => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await run();
    total += n;
    if (n < BATCH) return total;
  }
}

async function deleted(db: Db, q: ReturnType<typeof sql<{ n: string }>>): Promise<number> {
  const r = await q.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}

/** Events that occurred before `before` (a suppression keeps its ids; its explanation then lacks them). */
export function purgeEvents(db: Db, before: Date): Promise<number> {
  return inBatches(() =>
    deleted(
      db,
      sql<{ n: string }>`with gone as (
        delete from events where id in (
          select id from events where occurred_at < ${before} limit ${BATCH} for update skip locked)
        returning 1)
      select count(*)::text as n from gone`,
    ),
  );
}

/**
 * Mails received before `before` that are done with (processed or duplicate): the whole row, metadata and
 * envelope. Pending, processing and failed mails are never deleted. Their events stay (mail_id set to null).
 */
export function purgeMails(db: Db, before: Date): Promise<number> {
  return inBatches(() =>
    deleted(
      db,
      sql<{ n: string }>`with gone as (
        delete from inbound_mails where id in (
          select id from inbound_mails
           where received_at < ${before} and status in ('processed', 'duplicate')
           limit ${BATCH} for update skip locked)
        returning 1)
      select count(*)::text as n from gone`,
    ),
  );
}

/**
 * Suppression log rows older than `before`. (Webhook history, dispatched outbox rows and finished deliveries,
 * is forgotten by the webhook worker: purgeWebhookHistory in webhooks.ts.)
 */
export function purgeLogs(db: Db, before: Date): Promise<number> {
  return inBatches(() =>
    deleted(
      db,
      sql<{ n: string }>`with gone as (
        delete from suppression_log where id in (
          select id from suppression_log where at < ${before} limit ${BATCH} for update skip locked)
        returning 1)
      select count(*)::text as n from gone`,
    ),
  );
}

/**
 * DMARC aggregate reports received before `before`, with their rows (dmarc_records, by its cascade): a few
 * reports per statement, since one may hold 100,000 rows.
 */
export function purgeDmarcReports(db: Db, before: Date): Promise<number> {
  return purgeReports(db, "dmarc_reports", before, 50);
}

/** SMTP TLS reports received before `before`. */
export function purgeTlsReports(db: Db, before: Date): Promise<number> {
  return purgeReports(db, "tls_reports", before, BATCH);
}

/** RFC 6591 authentication failure reports that occurred before `before`. */
export function purgeAuthFailureReports(db: Db, before: Date): Promise<number> {
  return inBatches(() =>
    deleted(
      db,
      sql<{ n: string }>`with gone as (
        delete from auth_failure_reports where id in (
          select id from auth_failure_reports where occurred_at < ${before} limit ${BATCH} for update skip locked)
        returning 1)
      select count(*)::text as n from gone`,
    ),
  );
}

async function purgeReports(
  db: Db,
  table: "dmarc_reports" | "tls_reports",
  before: Date,
  batch: number,
): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await deleted(
      db,
      sql<{ n: string }>`with gone as (
        delete from ${sql.table(table)} where id in (
          select id from ${sql.table(table)} where received_at < ${before} limit ${batch} for update skip locked)
        returning 1)
      select count(*)::text as n from gone`,
    );
    total += n;
    if (n < batch) return total;
  }
}
