// The first start on PostgreSQL: no key is made for the operator (several processes share the database), but
// start says loudly what is missing: an API key (and how to make one, in docker-compose terms), a VERP key.
import { Writable } from "node:stream";
import { sql } from "kysely";
import { afterAll, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { startApp, type App } from "../../src/main.js";
import { openDb } from "../../src/store/db.js";
import { createKey, listKeys } from "../../src/store/keys.js";
import { TEST_DATABASE_URL, uniqueSchema } from "../helpers/db.js";

const schema = uniqueSchema("first_pg");
let app: App | undefined;
// Closed first (its roles' loops stop), then its schema dropped over a connection of its own: dropping under a
// running worker's alert and report loops can deadlock with them.
afterAll(async () => {
  await app?.close();
  const h = await openDb({ databaseUrl: TEST_DATABASE_URL, poolSize: 1 });
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(h.db);
  await h.close();
});

async function startCapturing(): Promise<{ app: App; warnings: string[] }> {
  const warnings: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) {
        const entry = JSON.parse(line) as { level: number; msg: string };
        if (entry.level === 40) warnings.push(entry.msg);
      }
      done();
    },
  });
  const config = loadConfig(
    {
      databaseUrl: TEST_DATABASE_URL,
      databaseSchema: schema,
      httpPort: 0,
      smtpPort: 0,
      dataDir: "/nonexistent/never-written",
      logLevel: "warn",
    },
    {},
  );
  const started = await startApp(config, ["api", "worker", "intake"], { logger: createLogger("warn", sink) });
  return { app: started, warnings };
}

it("warns that no bounce will suppress without a VERP key, and how to make the first API key", async () => {
  const first = await startCapturing();
  app = first.app;
  expect(app.firstRun).toEqual({});
  expect(await listKeys(app.db, { includeRevoked: true })).toEqual([]);
  expect(app.verpKeySource).toBe("none");
  expect(first.warnings.some((w) => w.includes("NO BOUNCE WILL SUPPRESS ANYONE"))).toBe(true);
  expect(
    first.warnings.some((w) =>
      w.includes(
        "docker compose exec api node bin/rebound.js keys create --tenant default --scopes read,write,admin",
      ),
    ),
  ).toBe(true);

  // Once a key exists, that warning is gone.
  await createKey(app.db, { tenant: "default", scopes: ["admin"] });
  await app.close();
  const second = await startCapturing();
  app = second.app;
  expect(second.warnings.some((w) => w.includes("no API key exists yet"))).toBe(false);
}, 60_000);
