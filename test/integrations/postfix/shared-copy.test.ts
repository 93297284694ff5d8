// The API and the lookup role in one process share one copy of the suppressions in force (src/main.ts): it is
// loaded once, and a suppression made or removed through the API reaches the socketmap answers through it.
import { Writable } from "node:stream";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config.js";
import { createLogger } from "../../../src/log.js";
import { startApp, type App } from "../../../src/main.js";
import { createKey } from "../../../src/store/keys.js";
import { TEST_DATABASE_URL, uniqueSchema } from "../../helpers/db.js";
import { until } from "../../helpers/until.js";
import { SocketmapClient } from "./lookup-client.js";

const schema = uniqueSchema("lookup_shared");
let app: App;
let sm: SocketmapClient;
let token: string;
const logLines: string[] = [];

beforeAll(async () => {
  const config = loadConfig(
    {
      databaseUrl: TEST_DATABASE_URL,
      databaseSchema: schema,
      httpHost: "127.0.0.1",
      httpPort: 0,
      lookupSocketmapPort: 0,
      lookupPolicyPort: 0,
    },
    {},
  );
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  app = await startApp(config, ["api", "lookup"], { logger: createLogger("info", sink) });
  await app.lookupReady;
  token = (await createKey(app.db, { tenant: config.defaultTenant, scopes: ["read", "write"] })).token;
  sm = await SocketmapClient.open(app.socketmapPort!);
});

afterAll(async () => {
  sm?.close();
  await app?.close();
  const { openDb } = await import("../../../src/store/db.js");
  const h = await openDb({ databaseUrl: TEST_DATABASE_URL });
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(h.db);
  await h.close();
});

const api = (method: string, path: string, body?: unknown) =>
  fetch(`http://127.0.0.1:${app.httpPort}/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });

describe("the API and the lookup role in one process", () => {
  it("load one copy of the suppressions, which both answer from", async () => {
    await until(() => logLines.some((l) => l.includes("suppression mirror loaded")));
    expect(logLines.filter((l) => l.includes("suppression mirror loaded"))).toHaveLength(1);
    expect(logLines.some((l) => l.includes("suppression index loaded"))).toBe(false);
  });

  it("refuse at the socketmap what the API suppressed, at once in the API, and let it through once removed", async () => {
    expect(await sm.ask("suppressed/* both@example.org")).toEqual(["NOTFOUND "]);
    expect((await api("PUT", "/suppressions/both@example.org", { stream: "*" })).status).toBe(201);
    const got = (await (await api("GET", "/suppressions/both@example.org?stream=marketing")).json()) as {
      suppressed: boolean;
    };
    expect(got.suppressed).toBe(true);
    await until(async () =>
      (await sm.ask("suppressed/* both@example.org"))[0]!.startsWith("OK REJECT 5.7.1"),
    );
    expect((await api("DELETE", "/suppressions/both@example.org?stream=*")).status).toBe(200);
    await until(async () => (await sm.ask("suppressed/* both@example.org"))[0] === "NOTFOUND ");
    const gone = (await (await api("GET", "/suppressions/both@example.org?stream=marketing")).json()) as {
      suppressed: boolean;
    };
    expect(gone.suppressed).toBe(false);
  });
});
