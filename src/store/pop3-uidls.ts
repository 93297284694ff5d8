// The POP3 messages already committed to the spool, by account and UIDL (migration 0019).
import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

/** Which of these UIDLs of an account were committed before. */
export async function takenUidls(
  db: Kysely<Database>,
  account: string,
  uidls: string[],
): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < uidls.length; i += 10_000) {
    const part = uidls.slice(i, i + 10_000);
    const rows = await db
      .selectFrom("pop3_uidls")
      .select("uidl")
      .where("account", "=", account)
      .where("uidl", "in", part)
      .execute();
    for (const r of rows) out.add(r.uidl);
  }
  return out;
}

/** Note messages as committed (in the transaction that commits them). */
export async function recordUidls(
  db: Kysely<Database>,
  account: string,
  taken: { uidl: string; mailId: string }[],
  at: Date,
): Promise<void> {
  if (!taken.length) return;
  await db
    .insertInto("pop3_uidls")
    .values(taken.map((t) => ({ account, uidl: t.uidl, mail_id: t.mailId, taken_at: at })))
    .onConflict((oc) => oc.columns(["account", "uidl"]).doNothing())
    .execute();
}

/** Forget the UIDLs of an account that its mailbox no longer holds (the full list just read from it). */
export async function forgetUidlsBut(
  db: Kysely<Database>,
  account: string,
  present: string[],
): Promise<void> {
  let q = db.deleteFrom("pop3_uidls").where("account", "=", account);
  if (present.length) q = q.where("uidl", "not in", present);
  await q.execute();
}
