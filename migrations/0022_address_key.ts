import { sql, type Kysely } from "kysely";

// The key of the address hashes (HMAC-SHA256, src/core/address.ts): one row. `fingerprint` names the key that
// made every `address_hash` in the database, so a process given another key refuses to start instead of
// filing addresses under hashes that match nothing. `key` holds the key itself only when no key file is
// configured (the embedded default, or a deployment that accepts the key beside the data); null when the key
// lives in REBOUND_ADDRESS_KEY_FILE.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("address_key")
    .addColumn("id", "integer", (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn("fingerprint", "text", (c) => c.notNull())
    .addColumn("key", "bytea")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(): Promise<void> {
  throw new Error("migrations are forward-only");
}
