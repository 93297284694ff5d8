// Commands that need the database open it from the configuration, run, and close it. The embedded database of a
// running `rebound start` is borrowed from it (src/store/embedded-share.ts), so they work beside the server.
import { resolveAddressKey } from "../address-key.js";
import type { Config } from "../config.js";
import type { AddressHasher } from "../core/address.js";
import { migrateToLatest, openDb, type Db } from "../store/db.js";

export interface DbContext {
  /** The keyed hash the database files addresses under (read, or made on first use: src/address-key.ts). */
  addressHasher(): Promise<AddressHasher>;
}

export async function withDb<T>(
  config: Config,
  fn: (db: Db, ctx: DbContext) => Promise<T>,
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
    let hasher: Promise<AddressHasher> | undefined;
    const ctx: DbContext = {
      addressHasher: () => (hasher ??= resolveAddressKey(handle.db, config).then((k) => k.hashAddress)),
    };
    return await fn(handle.db, ctx);
  } finally {
    await handle.close();
  }
}
