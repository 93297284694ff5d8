// The spool: raw inbound mail, committed before SMTP says 250; its processing status; raw retention.
import { sql } from "kysely";
import type { Db } from "./db.js";
import type { MailStatus } from "./schema.js";

export interface NewMail {
  id: string;
  mailFrom: string;
  rcptTo: string[];
  remoteIp?: string | null;
  helo?: string | null;
  raw: Buffer;
  sha256: string;
  receivedAt?: Date;
  /** Set when the job is enqueued right after the commit (the intake), so no second write marks it. */
  enqueuedAt?: Date | null;
}

export async function insertMail(db: Db, m: NewMail): Promise<void> {
  await insertMails(db, [m]);
}

/**
 * Several mails in one statement, so one commit (one WAL flush) makes them all durable: the intake's group
 * commit of the mails that arrived on concurrent sessions while the previous batch was being written.
 */
export async function insertMails(db: Db, mails: NewMail[]): Promise<void> {
  if (!mails.length) return;
  await db
    .insertInto("inbound_mails")
    .values(
      mails.map((m) => ({
        id: m.id,
        mail_from: m.mailFrom,
        rcpt_to: m.rcptTo,
        remote_ip: m.remoteIp ?? null,
        helo: m.helo ?? null,
        size: m.raw.length,
        sha256: m.sha256,
        raw: m.raw,
        received_at: m.receivedAt ?? new Date(),
        status: "pending" as const,
        enqueued_at: m.enqueuedAt ?? null,
      })),
    )
    .execute();
}

export async function getMail(db: Db, id: string) {
  return db.selectFrom("inbound_mails").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function setMailStatus(
  db: Db,
  id: string,
  status: MailStatus,
  fields: {
    error?: string | null;
    kind?: string | null;
    tenant?: string | null;
    classifierVersion?: string | null;
    duplicateOf?: string | null;
    at?: Date;
  } = {},
): Promise<void> {
  await db
    .updateTable("inbound_mails")
    .set({
      status,
      ...(fields.error !== undefined ? { error: fields.error } : {}),
      ...(fields.kind !== undefined ? { kind: fields.kind } : {}),
      ...(fields.tenant !== undefined ? { tenant: fields.tenant } : {}),
      ...(fields.classifierVersion !== undefined ? { classifier_version: fields.classifierVersion } : {}),
      ...(fields.duplicateOf !== undefined ? { duplicate_of: fields.duplicateOf } : {}),
      ...(status === "processed" || status === "duplicate" ? { processed_at: fields.at ?? new Date() } : {}),
    })
    .where("id", "=", id)
    .execute();
}

/** Mails processed in one transaction (the worker's batch), in one statement. */
export async function markProcessed(
  db: Db,
  mails: { id: string; kind: string; tenant: string }[],
  classifierVersion: string,
  at: Date,
): Promise<void> {
  if (!mails.length) return;
  await sql`
    update inbound_mails as m
    set status = 'processed', kind = v.kind, tenant = v.tenant, classifier_version = ${classifierVersion},
      error = null, processed_at = ${at}
    from unnest(${mails.map((m) => m.id)}::text[], ${mails.map((m) => m.kind)}::text[],
      ${mails.map((m) => m.tenant)}::text[]) as v(id, kind, tenant)
    where m.id = v.id`.execute(db);
}

export async function countAttempt(db: Db, id: string): Promise<void> {
  await db
    .updateTable("inbound_mails")
    .set((eb) => ({ attempts: eb("attempts", "+", 1) }))
    .where("id", "=", id)
    .execute();
}

export async function markEnqueued(db: Db, ids: string[], at = new Date()): Promise<void> {
  if (ids.length)
    await db.updateTable("inbound_mails").set({ enqueued_at: at }).where("id", "in", ids).execute();
}

/** The enqueue after the commit failed: the sweeper takes these at its next pass. */
export async function clearEnqueued(db: Db, ids: string[]): Promise<void> {
  if (ids.length)
    await db.updateTable("inbound_mails").set({ enqueued_at: null }).where("id", "in", ids).execute();
}

/** Mails still pending that were never enqueued, or enqueued before `enqueuedBefore` (the sweeper's work). */
export async function pendingMailIds(db: Db, enqueuedBefore: Date, limit = 1000): Promise<string[]> {
  const rows = await db
    .selectFrom("inbound_mails")
    .select("id")
    .where("status", "=", "pending")
    .where((eb) => eb.or([eb("enqueued_at", "is", null), eb("enqueued_at", "<", enqueuedBefore)]))
    .orderBy("received_at")
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

export async function failedMailIds(db: Db, limit = 10_000): Promise<string[]> {
  const rows = await db
    .selectFrom("inbound_mails")
    .select("id")
    .where("status", "=", "failed")
    .orderBy("received_at")
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

/** Retention: drop raw bytes received before `before`; metadata stays. Returns how many were purged. */
export async function purgeRaw(db: Db, before: Date): Promise<number> {
  const res = await db
    .updateTable("inbound_mails")
    .set({ raw: null, raw_purged_at: sql<Date>`now()` })
    .where("received_at", "<", before)
    .where("raw", "is not", null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}
