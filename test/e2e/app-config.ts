// The configuration of an app under test end to end (startApp: PostgreSQL in a schema of its own, the
// in-process queue, SMTP and HTTP on free loopback ports, the e2e domains and VERP keys, no logs). The schemas
// made are dropped after the file's tests.
import { sql } from "kysely";
import { afterAll } from "vitest";
import { loadConfig, type Config } from "../../src/config.js";
import { openDb } from "../../src/store/db.js";
import { TEST_DATABASE_URL, uniqueSchema } from "../helpers/db.js";
import { BOUNCE_DOMAIN, FBL_DOMAIN, VERP_KEYS_ENV } from "./fixtures.js";

export type Settings = Partial<Record<keyof Config, unknown>>;

/**
 * Makes configurations with `base` over the defaults above, each on a new schema named after `prefix`; call it
 * at the top of a test file (it registers the schemas' removal after all its tests, after the file's own
 * afterAll hooks).
 */
export function e2eConfigs(prefix: string, base: Settings = {}): (over?: Settings) => Config {
  const schemas: string[] = [];
  afterAll(async () => {
    const h = await openDb({ databaseUrl: TEST_DATABASE_URL });
    for (const s of schemas) await sql`drop schema if exists ${sql.id(s)} cascade`.execute(h.db);
    await h.close();
  });
  return (over = {}) => {
    const schema = uniqueSchema(prefix);
    schemas.push(schema);
    return loadConfig(
      {
        databaseUrl: TEST_DATABASE_URL,
        databaseSchema: schema,
        domains: `${BOUNCE_DOMAIN},${FBL_DOMAIN}`,
        smtpHost: "127.0.0.1",
        smtpPort: 0,
        httpHost: "127.0.0.1",
        httpPort: 0,
        verpKeys: VERP_KEYS_ENV,
        logLevel: "silent",
        ...base,
        ...over,
      },
      {},
    );
  };
}
