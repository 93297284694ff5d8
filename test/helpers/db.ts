// Each test file gets its own PostgreSQL schema (or its own in-memory PGlite), migrated to the latest.
import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { migrateToLatest, openDb, type DbHandle } from "../../src/store/db.js";

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export interface TestDb extends DbHandle {
  /** Drop the schema and close. */
  drop(): Promise<void>;
}

export function uniqueSchema(prefix = "t"): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
}

/** A fresh, migrated schema on the real PostgreSQL. */
export async function createTestDb(opts: { poolSize?: number } = {}): Promise<TestDb> {
  const schema = uniqueSchema();
  const handle = await openDb({ databaseUrl: TEST_DATABASE_URL, schema, poolSize: opts.poolSize });
  await migrateToLatest(handle.db);
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
  return { ...handle, drop: () => handle.close() };
}
