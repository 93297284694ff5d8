// The key the address hashes are made with (migration 0022): its fingerprint, and the key itself when it is kept
// in the database. The first process to claim it re-files the addresses hashed before keyed hashes (a bare
// SHA-256) under the keyed hash, in the same transaction.
import { sql, type Kysely } from "kysely";
import type { AddressHasher } from "../core/address.js";
import type { Database } from "./schema.js";

export interface StoredAddressKey {
  fingerprint: string;
  /** Null when the key lives in a file (REBOUND_ADDRESS_KEY_FILE). */
  key: Buffer | null;
}

export async function readAddressKey(db: Kysely<Database>): Promise<StoredAddressKey | undefined> {
  const r = await db.selectFrom("address_key").select(["fingerprint", "key"]).executeTakeFirst();
  return r && { fingerprint: r.fingerprint, key: r.key ? Buffer.from(r.key) : null };
}

export interface Refiled {
  /** Distinct addresses re-filed under the keyed hash. */
  addresses: number;
  /** Rows left under a bare SHA-256 because no table names their address any more (erased before 0022). */
  orphans: number;
}

/** The tables that file rows by address hash. */
const HASHED = [
  { table: "events" },
  { table: "suppressions" },
  { table: "suppression_log" },
  { table: "address_state" },
] as const;

/**
 * Claim the address key: write its row unless one exists. The claimant (true) re-files every row hashed
 * before keyed hashes existed; a process that finds the row (false) uses it as it is. Concurrent claimants wait
 * on the row's primary key: one writes, the others find it.
 */
export async function claimAddressKey(
  db: Kysely<Database>,
  k: StoredAddressKey,
  hasher: AddressHasher,
  legacy: AddressHasher,
): Promise<{ claimed: boolean; refiled?: Refiled }> {
  return db.transaction().execute(async (trx) => {
    const ins = await trx
      .insertInto("address_key")
      .values({ id: 1, fingerprint: k.fingerprint, key: k.key })
      .onConflict((oc) => oc.column("id").doNothing())
      .returning("id")
      .executeTakeFirst();
    if (!ins) return { claimed: false };
    return { claimed: true, refiled: await refile(trx, hasher, legacy) };
  });
}

async function refile(trx: Kysely<Database>, hasher: AddressHasher, legacy: AddressHasher): Promise<Refiled> {
  const known = await sql<{ address: string }>`
    select address from events
    union select address from suppressions where address is not null
    union select address from suppression_log where address is not null`.execute(trx);
  const from: string[] = [];
  const to: string[] = [];
  for (const { address } of known.rows) {
    from.push(legacy(address));
    to.push(hasher(address));
  }
  const BATCH = 5_000;
  for (let i = 0; i < from.length; i += BATCH) {
    const f = from.slice(i, i + BATCH);
    const t = to.slice(i, i + BATCH);
    for (const { table } of HASHED)
      await sql`
        update ${sql.table(table)} x set address_hash = m.new
          from unnest(${f}::text[], ${t}::text[]) as m(old, new)
         where x.address_hash = m.old`.execute(trx);
  }
  // Rows whose hash is not a keyed one: 64 hex digits that no known address re-filed.
  let orphans = 0;
  const keyed = new Set(to);
  for (const { table } of HASHED) {
    const left = await sql<{ address_hash: string }>`
      select distinct address_hash from ${sql.table(table)}`.execute(trx);
    orphans += left.rows.filter((r) => !keyed.has(r.address_hash)).length;
  }
  return { addresses: from.length, orphans };
}
