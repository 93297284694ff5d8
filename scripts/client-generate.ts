// `npm run client:generate`: build the API over an in-memory embedded database (no PostgreSQL needed), take its
// OpenAPI document and write the client's types (src/client/schema.ts).
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { buildApi } from "../src/api/server.js";
import { loadConfig } from "../src/config.js";
import { addressHasher } from "../src/core/address.js";
import { createLogger } from "../src/log.js";
import { migrateToLatest, openDb } from "../src/store/db.js";
import { CLIENT_SCHEMA_PATH, renderClientSchema } from "./client-schema.js";

const handle = await openDb({ dataDir: ":memory:" });
try {
  await migrateToLatest(handle.db);
  const app = await buildApi({
    db: handle.db,
    config: loadConfig({}, {}),
    // The document does not depend on the key of the address hashes.
    hashAddress: addressHasher(randomBytes(32)),
    logger: createLogger("silent"),
  });
  try {
    await app.ready();
    writeFileSync(CLIENT_SCHEMA_PATH, await renderClientSchema(app.swagger()));
    process.stdout.write(`wrote ${CLIENT_SCHEMA_PATH}\n`);
  } finally {
    await app.close();
  }
} finally {
  await handle.close();
}
