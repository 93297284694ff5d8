// The database: PostgreSQL through `pg` in production, PGlite (in-process PostgreSQL) when no DATABASE_URL is
// set. One Kysely<Database> either way; migrations run by kysely's Migrator.
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Kysely, Migrator, PostgresDialect, sql, type MigrationResultSet } from "kysely";
import pg from "pg";
import { migrations } from "../../migrations/index.js";
import { borrowEmbeddedDb, shareEmbeddedDb, shareSocketPath } from "./embedded-share.js";
import { PreparingClient } from "./prepared.js";
import type { Database } from "./schema.js";

export type Db = Kysely<Database>;

export interface DbOptions {
  /** PostgreSQL URL; unset: PGlite in `${dataDir}/pglite` (or in memory when dataDir is `:memory:`). */
  databaseUrl?: string;
  dataDir?: string;
  /** Schema to work in (created if missing). */
  schema?: string;
  poolSize?: number;
  /** Run the statements marked PREPARED as named prepared statements (default true; see prepared.ts). */
  preparedStatements?: boolean;
  /** Embedded: lend the database to other processes over a socket in the data folder (`rebound start`). */
  share?: boolean;
  /** Embedded: when a running process lends it, borrow the database rather than fail on its lock (the CLI). */
  borrow?: boolean;
}

export interface DbHandle {
  db: Db;
  embedded: boolean;
  schema: string;
  close(): Promise<void>;
}

// bigint columns (bigserial ids, counts) come back as strings; keep them so, ids never overflow a JS number.
pg.types.setTypeParser(20, (v: string) => v);

// The pg pool behind each PostgreSQL Db, for what kysely cannot do (COPY streams).
const pools = new WeakMap<Db, pg.Pool>();

/** The pg pool of a Db opened on PostgreSQL; none for the embedded PGlite. */
export function pgPoolOf(db: Db): pg.Pool | undefined {
  return pools.get(db);
}

export async function openDb(opts: DbOptions): Promise<DbHandle> {
  const schema = opts.schema ?? "public";
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  if (opts.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: 5_000,
      // No JIT: it pays off for long analytic queries, not for ours, and a statement planned on missing or young
      // statistics can be estimated costly enough to be compiled (milliseconds each) though it reads a few rows.
      options: `-c jit=off${schema === "public" ? "" : ` -c search_path=${schema}`}`,
      ...(opts.preparedStatements === false
        ? {}
        : { Client: PreparingClient as unknown as typeof pg.Client }),
    });
    // A pool error (a server restart) must not crash the process: the next query reconnects.
    pool.on("error", () => undefined);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    pools.set(db, pool);
    if (schema !== "public") await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
    return { db, embedded: false, schema, close: () => db.destroy() };
  }
  const dir = opts.dataDir ?? "./data";
  if (opts.borrow && dir !== ":memory:") {
    const pool = await borrowEmbeddedDb(shareSocketPath(dir));
    if (pool) {
      const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
      return { db, embedded: true, schema, close: () => db.destroy() };
    }
  }
  const { PGlite } = await import("@electric-sql/pglite");
  let dataDir: string | undefined;
  let unlock = () => {};
  if (dir !== ":memory:") {
    dataDir = join(dir, "pglite");
    mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDir(join(dir, "pglite.lock"));
  }
  const lite = new PGlite(dataDir);
  try {
    await lite.waitReady;
  } catch (err) {
    unlock();
    throw err;
  }
  if (schema !== "public") {
    await lite.exec(`create schema if not exists "${schema}"; set search_path to "${schema}"`);
  }
  const pool = pgliteAsPool(lite);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  // Lending is a convenience: where it cannot be (a socket path too long...), the CLI finds the lock as before.
  const share =
    opts.share && dataDir
      ? await shareEmbeddedDb(pool, shareSocketPath(dir)).catch(() => undefined)
      : undefined;
  return {
    db,
    embedded: true,
    schema,
    close: async () => {
      await share?.close();
      await db.destroy();
      await lite.close();
      unlock();
    },
  };
}

export class EmbeddedDbLockedError extends Error {}

/**
 * PGlite is one process's database: a second process opening the same folder would corrupt it. A lock file
 * with the owner's pid keeps others out (a stale one, whose process is gone, is taken over).
 */
function lockDataDir(path: string): () => void {
  for (let i = 0; i < 2; i++) {
    try {
      writeFileSync(path, String(process.pid), { flag: "wx" });
      return () => {
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number(readFileSync(path, "utf8").trim());
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new EmbeddedDbLockedError(
          `the embedded database in ${path.replace(/pglite\.lock$/, "")} is in use by process ${pid} (a running \`rebound start\`?): ` +
            "stop it first, or run Rebound on PostgreSQL (DATABASE_URL) to share the database between processes",
        );
      }
      unlinkSync(path);
    }
  }
  throw new EmbeddedDbLockedError(`could not lock ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
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

/** The migrations this schema has not run yet (`rebound doctor`). */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableSchema: rows[0]?.schema ?? "public",
  });
  return (await migrator.getMigrations()).filter((m) => !m.executedAt).map((m) => m.name);
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
