// Each test file gets its own PostgreSQL schema (or its own in-memory PGlite), migrated to the latest.
import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { addressHasher, addressKeyFingerprint } from "../../src/core/address.js";
import { claimAddressKey } from "../../src/store/address-key.js";
import { migrateToLatest, openDb, type Db, type DbHandle } from "../../src/store/db.js";

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export interface TestDb extends DbHandle {
  /** Drop the schema and close. */
  drop(): Promise<void>;
}

export function uniqueSchema(prefix = "t"): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
}

/**
 * The address-hash key of the tests' databases: kept in each database (as a process that is given no key file
 * keeps the one it makes), so a server started on it hashes as `testHash` does.
 */
export const TEST_ADDRESS_KEY = Buffer.alloc(32, 7);
export const testHash = addressHasher(TEST_ADDRESS_KEY);

/** The tests' keyed hash of a column, in SQL (HMAC-SHA256 from PostgreSQL's sha256() and the key's pads). */
export function testHashSql(column: string) {
  const block = Buffer.alloc(64);
  TEST_ADDRESS_KEY.copy(block);
  const ipad = Buffer.from(block.map((b) => b ^ 0x36));
  const opad = Buffer.from(block.map((b) => b ^ 0x5c));
  return sql<string>`encode(sha256(${opad}::bytea || sha256(${ipad}::bytea || convert_to(${sql.ref(column)}, 'UTF8'))), 'hex')`;
}

/** An input of the suppression store with its address's hash filled in. */
export const withHash = <T extends { address: string }>(input: T): T & { addressHash: string } => ({
  ...input,
  addressHash: testHash(input.address),
});

/** Record the tests' key in a fresh database (as the first process would record its own). */
export async function claimTestAddressKey(db: Db): Promise<void> {
  await claimAddressKey(
    db,
    { fingerprint: addressKeyFingerprint(TEST_ADDRESS_KEY), key: TEST_ADDRESS_KEY },
    testHash,
    testHash,
  );
}

/** A fresh, migrated schema on the real PostgreSQL. */
export async function createTestDb(opts: { poolSize?: number } = {}): Promise<TestDb> {
  const schema = uniqueSchema();
  const handle = await openDb({ databaseUrl: TEST_DATABASE_URL, schema, poolSize: opts.poolSize });
  await migrateToLatest(handle.db);
  await claimTestAddressKey(handle.db);
  return {
    ...handle,
    async drop() {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(handle.db);
      await handle.close();
    },
  };
}

/** A fresh, migrated in-memory PGlite (the embedded default). */
export async function createEmbeddedTestDb(): Promise<TestDb> {
  const handle = await openDb({ dataDir: ":memory:" });
  await migrateToLatest(handle.db);
  await claimTestAddressKey(handle.db);
  return { ...handle, drop: () => handle.close() };
}
