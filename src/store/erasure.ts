// Erasure of one address of one tenant (privacy law): its events and the raw mails that spoke of it go; its
// suppressions stay as hashed tombstones (address columns nulled, address_hash kept) so it stays suppressed.
import { sql } from "kysely";
import type { Db } from "./db.js";

export interface ErasureInput {
  tenant: string;
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
  return db.transaction().execute(async (trx) => {
    const mails = await trx
      .selectFrom("events")
      .select("mail_id")
      .distinct()
      .where("tenant", "=", e.tenant)
      .where("address_hash", "=", e.addressHash)
      .where("mail_id", "is not", null)
      .execute();
    const mailIds = mails.map((m) => m.mail_id).filter((id): id is string => id !== null);
    let mailsPurged = 0;
    if (mailIds.length) {
      const rows = await trx
        .selectFrom("inbound_mails")
        .select(["id", "rcpt_to"])
        .where("id", "in", mailIds)
        .forUpdate()
        .execute();
      for (const m of rows) {
        const rcpt = m.rcpt_to.map((r) => redactString(redactString(r, e.address), verpForm));
        await trx
          .updateTable("inbound_mails")
          .set({ raw: null, raw_purged_at: sql<Date>`coalesce(raw_purged_at, ${e.now})`, rcpt_to: rcpt })
          .where("id", "=", m.id)
          .execute();
        mailsPurged++;
      }
    }

    const deleted = await trx
      .deleteFrom("events")
      .where("tenant", "=", e.tenant)
      .where("address_hash", "=", e.addressHash)
      .executeTakeFirst();

    const noteRedacted = sql<
      string | null
    >`case when strpos(lower(note), lower(${e.address})) > 0 then ${ERASED} else note end`;
    const kept = await trx
      .updateTable("suppressions")
      .set({ address: null, address_original: null, note: noteRedacted, updated_at: e.now })
      .where("tenant", "=", e.tenant)
      .where("address_hash", "=", e.addressHash)
      .returning(["stream"])
      .execute();
    const logged = await trx
      .updateTable("suppression_log")
      .set({ address: null, note: noteRedacted })
      .where("tenant", "=", e.tenant)
      .where("address_hash", "=", e.addressHash)
      .executeTakeFirst();
    if (kept.length)
      await trx
        .insertInto("suppression_log")
        .values(
          kept.map((k) => ({
            tenant: e.tenant,
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
         where tenant = ${e.tenant} and payload::text ilike ${likePattern(e.address)}
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
