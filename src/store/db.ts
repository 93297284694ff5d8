// The database: PostgreSQL through `pg` in production, PGlite (in-process PostgreSQL) when no DATABASE_URL is
// set. One Kysely<Database> either way; migrations run by kysely's Migrator.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Kysely, Migrator, PostgresDialect, sql, type MigrationResultSet } from "kysely";
import pg from "pg";
import { migrations } from "../../migrations/index.js";
import type { Database } from "./schema.js";

export type Db = Kysely<Database>;

export interface DbOptions {
  /** PostgreSQL URL; unset: PGlite in `${dataDir}/pglite` (or in memory when dataDir is `:memory:`). */
  databaseUrl?: string;
  dataDir?: string;
  /** Schema to work in (created if missing). */
  schema?: string;
  poolSize?: number;
}

export interface DbHandle {
  db: Db;
  embedded: boolean;
  schema: string;
  close(): Promise<void>;
}

// bigint columns (bigserial ids, counts) come back as strings; keep them so, ids never overflow a JS number.
pg.types.setTypeParser(20, (v: string) => v);

export async function openDb(opts: DbOptions): Promise<DbHandle> {
  const schema = opts.schema ?? "public";
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  if (opts.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: 5_000,
      options: schema === "public" ? undefined : `-c search_path=${schema}`,
    });
    // A pool error (a server restart) must not crash the process: the next query reconnects.
    pool.on("error", () => undefined);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    if (schema !== "public") await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
    return { db, embedded: false, schema, close: () => db.destroy() };
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const dir = opts.dataDir ?? "./data";
  let dataDir: string | undefined;
  if (dir !== ":memory:") {
    dataDir = join(dir, "pglite");
    mkdirSync(dataDir, { recursive: true });
  }
  const lite = new PGlite(dataDir);
  await lite.waitReady;
  if (schema !== "public") {
    await lite.exec(`create schema if not exists "${schema}"; set search_path to "${schema}"`);
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: pgliteAsPool(lite) }) });
  return {
    db,
    embedded: true,
    schema,
    close: async () => {
      await db.destroy();
      await lite.close();
    },
  };
}

interface PGliteLike {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[]; affectedRows?: number }>;
}

/**
 * PGlite behind the small part of pg.Pool that kysely's PostgresDialect uses. PGlite is one connection, so
 * the pool hands out one client at a time: a transaction holds it until it commits.
 */
function pgliteAsPool(lite: PGliteLike) {
  let tail: Promise<void> = Promise.resolve();
  const client = {
    async query(text: string, params: unknown[] = []) {
      const res = await lite.query<Record<string, unknown>>(text, params);
      const command = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? "SELECT";
      return { rows: res.rows, rowCount: res.affectedRows ?? res.rows.length, command };
    },
  };
  return {
    async connect() {
      let release!: () => void;
      const prev = tail;
      tail = new Promise<void>((r) => (release = r));
      await prev;
      return Object.assign(Object.create(client) as typeof client, { release: () => release() });
    },
    async end() {},
  } as unknown as pg.Pool;
}

/** Bring the schema up to date. Forward-only. */
export async function migrateToLatest(db: Db): Promise<MigrationResultSet> {
  // Name the schema: kysely's Migrator otherwise finds its tables in any schema of the database (another test
  // file's, another tenant's) and skips creating them here.
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableSchema: rows[0]?.schema ?? "public",
  });
  // The Migrator introspects every schema; one dropped at that moment by another process (a test's teardown)
  // fails the introspection, not the migration, so that error is worth one more try.
  for (let attempt = 1; ; attempt++) {
    const result = await migrator.migrateToLatest();
    if (!result.error) return result;
    const err = result.error instanceof Error ? result.error : new Error(String(result.error));
    if (attempt >= 3 || !/schema .* does not exist|relation .* does not exist/.test(err.message)) throw err;
    await new Promise((r) => setTimeout(r, 100 * attempt));
  }
}
