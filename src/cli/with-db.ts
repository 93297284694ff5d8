// Commands that need the database open it from the configuration, run, and close it. The embedded database of a
// running `rebound start` is borrowed from it (src/store/embedded-share.ts), so they work beside the server.
import type { Config } from "../config.js";
import { migrateToLatest, openDb, type Db } from "../store/db.js";

export async function withDb<T>(
  config: Config,
  fn: (db: Db) => Promise<T>,
  opts: { migrate?: boolean } = {},
): Promise<T> {
  const handle = await openDb({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    schema: config.databaseSchema,
    preparedStatements: config.databasePreparedStatements,
    poolSize: 2,
    borrow: true,
  });
  try {
    if (opts.migrate !== false) await migrateToLatest(handle.db);
    return await fn(handle.db);
  } finally {
    await handle.close();
  }
}
