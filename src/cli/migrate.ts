import type { Command } from "commander";
import { loadConfig } from "../config.js";
import { migrateToLatest, openDb } from "../store/db.js";
import type { CliIo } from "./io.js";

export function register(cmd: Command, io: CliIo): void {
  cmd.action(async () => {
    const config = loadConfig();
    const handle = await openDb({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      schema: config.databaseSchema,
      preparedStatements: config.databasePreparedStatements,
      borrow: true,
    });
    try {
      const result = await migrateToLatest(handle.db);
      const applied = result.results?.filter((r) => r.status === "Success").map((r) => r.migrationName) ?? [];
      io.stdout.write(applied.length ? `applied: ${applied.join(", ")}\n` : "already up to date\n");
    } finally {
      await handle.close();
    }
  });
}
