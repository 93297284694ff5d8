// Erasure of one address (privacy law), in one tenant or in all of them: its events go; the raw bytes of every
// mail that names it go (the mails its events came from, their twins stored with the same digest, and mails
// whose envelope names it), and the envelope is redacted where it names it; webhook payloads that name it are
// redacted; its suppressions stay as hashed tombstones (address columns nulled, address_hash kept) so it
// stays suppressed.
import { sql } from "kysely";
import type { Db } from "./db.js";

export interface ErasureInput {
  /** The tenant to erase the address from; null: every tenant. */
  tenant: string | null;
  /** The normalised address and its hash. */
  address: string;
  addressHash: string;
  actor: string;
  now: Date;
}

export interface ErasureResult {
  eventsDeleted: number;
  mailsPurged: number;
  /** Suppressions kept as tombstones (by hash). */
  suppressionsKept: number;
  logRowsRedacted: number;
  webhookPayloadsRedacted: number;
}

export const ERASED = "[erased]";

/** Replace every occurrence of `needle` (case-insensitive) in the strings of a JSON value. */
export function redactJson(value: unknown, needle: string): unknown {
  if (typeof value === "string") return redactString(value, needle);
  if (Array.isArray(value)) return value.map((v) => redactJson(v, needle));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactJson(v, needle)]));
  return value;
}

function redactString(s: string, needle: string): string {
  if (!needle) return s;
  const lower = s.toLowerCase();
  const n = needle.toLowerCase();
  let out = "";
  let from = 0;
  for (let i = lower.indexOf(n); i >= 0; i = lower.indexOf(n, from)) {
    out += s.slice(from, i) + ERASED;
    from = i + n.length;
  }
  return out + s.slice(from);
}

const likePattern = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Everything in one transaction: an erasure is complete or not done at all. */
export async function eraseAddress(db: Db, e: ErasureInput): Promise<ErasureResult> {
  const [local, domain] = [
    e.address.slice(0, e.address.lastIndexOf("@")),
    e.address.slice(e.address.lastIndexOf("@") + 1),
  ];
  // The VERP inline form carries the recipient as `local=domain`: recipients of a mail that name it go too.
  const verpForm = `${local}=${domain}`;
  const inTenant = e.tenant === null ? sql<boolean>`true` : sql<boolean>`tenant = ${e.tenant}`;
  const redactEnvelope = (s: string) => redactString(redactString(s, e.address), verpForm);
  return db.transaction().execute(async (trx) => {
    // The mails that name the address: those its events came from, those whose envelope names it (in the
    // tenant, or not attributed to any), and their twins stored with the same digest.
    const named = await sql<{ id: string }>`
      select distinct mail_id as id from events
       where ${inTenant} and address_hash = ${e.addressHash} and mail_id is not null
      union
      select id from inbound_mails
       where (${e.tenant === null ? sql`true` : sql`tenant = ${e.tenant} or tenant is null`})
         and (mail_from ilike ${likePattern(e.address)}
              or mail_from ilike ${likePattern(verpForm)}
              or array_to_string(rcpt_to, ' ') ilike ${likePattern(e.address)}
              or array_to_string(rcpt_to, ' ') ilike ${likePattern(verpForm)})`.execute(trx);
    let mailIds = named.rows.map((r) => r.id);
    if (mailIds.length) {
      const twins = await sql<{ id: string }>`
        select t.id from inbound_mails m join inbound_mails t on t.sha256 = m.sha256
         where m.id = any(${mailIds}::text[])`.execute(trx);
      mailIds = [...new Set([...mailIds, ...twins.rows.map((r) => r.id)])];
    }
    let mailsPurged = 0;
    if (mailIds.length) {
      const rows = await trx
        .selectFrom("inbound_mails")
        .select(["id", "rcpt_to", "mail_from"])
        .where("id", "in", mailIds)
        .forUpdate()
        .execute();
      for (const m of rows) {
        await trx
          .updateTable("inbound_mails")
          .set({
            raw: null,
            raw_purged_at: sql<Date>`coalesce(raw_purged_at, ${e.now})`,
            rcpt_to: m.rcpt_to.map(redactEnvelope),
            mail_from: redactEnvelope(m.mail_from),
          })
          .where("id", "=", m.id)
          .execute();
        mailsPurged++;
      }
    }

    const deleted = await trx
      .deleteFrom("events")
      .where(inTenant)
      .where("address_hash", "=", e.addressHash)
      .executeTakeFirst();

    const noteRedacted = sql<
      string | null
    >`case when strpos(lower(note), lower(${e.address})) > 0 then ${ERASED} else note end`;
    const kept = await trx
      .updateTable("suppressions")
      .set({ address: null, address_original: null, note: noteRedacted, updated_at: e.now })
      .where(inTenant)
      .where("address_hash", "=", e.addressHash)
      .returning(["tenant", "stream"])
      .execute();
    const logged = await trx
      .updateTable("suppression_log")
      .set({ address: null, note: noteRedacted })
      .where(inTenant)
      .where("address_hash", "=", e.addressHash)
      .executeTakeFirst();
    if (kept.length)
      await trx
        .insertInto("suppression_log")
        .values(
          kept.map((k) => ({
            tenant: k.tenant,
            stream: k.stream,
            address_hash: e.addressHash,
            address: null,
            action: "erased",
            actor: e.actor,
            note: "address erased; the suppression stays by hash",
            at: e.now,
          })),
        )
        .execute();

    // Webhook payloads (pending outbox rows and the delivery log) that name the address.
    let webhookPayloadsRedacted = 0;
    for (const table of ["outbox", "webhook_deliveries"] as const) {
      const rows = await sql<{ id: string; payload: Record<string, unknown> }>`
        select id, payload from ${sql.table(table)}
         where ${inTenant} and payload::text ilike ${likePattern(e.address)}
         for update`.execute(trx);
      for (const r of rows.rows) {
        const payload = JSON.stringify(redactJson(r.payload, e.address));
        await sql`update ${sql.table(table)} set payload = ${payload}::jsonb where id = ${r.id}`.execute(trx);
        webhookPayloadsRedacted++;
      }
    }

    return {
      eventsDeleted: Number(deleted.numDeletedRows),
      mailsPurged,
      suppressionsKept: kept.length,
      logRowsRedacted: Number(logged.numUpdatedRows),
      webhookPayloadsRedacted,
    };
  });
}
