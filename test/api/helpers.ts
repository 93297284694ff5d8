// A real API on a loopback port over a real PostgreSQL schema, and a fetch-based client with a key.
import { afterAll, beforeAll } from "vitest";
import { createTestDb, testHash, type TestDb } from "../helpers/db.js";
import type { ApiDeps } from "../../src/api/deps.js";
import { startApi } from "../../src/api/server.js";
import { loadConfig, type Config } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import type { Db } from "../../src/store/db.js";
import { createKey, type Scope } from "../../src/store/keys.js";

export interface TestApi {
  url: string;
  close(): Promise<void>;
}

export async function startTestApi(
  db: Db,
  overrides: Partial<Config> = {},
  deps: Pick<ApiDeps, "heapGrowth" | "alerts"> = {},
): Promise<TestApi> {
  const config = loadConfig({ httpHost: "127.0.0.1", httpPort: 0, ...overrides }, {});
  const api = await startApi({ db, config, hashAddress: testHash, logger: createLogger("silent"), ...deps });
  await api.app.suppressionIndex.ready;
  return { url: `http://127.0.0.1:${api.port}`, close: api.close };
}

/**
 * For the tests of one file: a test database and an API on it, made before them, closed and dropped after.
 * `openApi()` is the API's OpenAPI document.
 */
export function apiPerFile(): {
  readonly db: TestDb;
  readonly api: TestApi;
  openApi(): ReturnType<Response["json"]>;
} {
  let t: TestDb | undefined;
  let api: TestApi | undefined;
  beforeAll(async () => {
    t = await createTestDb();
    api = await startTestApi(t.db);
  });
  afterAll(async () => {
    await api?.close();
    await t?.drop();
  });
  return {
    get db() {
      return t!;
    },
    get api() {
      return api!;
    },
    openApi: async () => (await fetch(`${api!.url}/v1/openapi.json`)).json(),
  };
}

export interface Client {
  token: string;
  keyId: string;
  get(path: string): Promise<Response>;
  send(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
}

export async function client(
  db: Db,
  api: TestApi,
  tenant: string,
  scopes: Scope[] = ["read", "write"],
  rateLimitPerMinute?: number,
): Promise<Client> {
  const key = await createKey(db, { tenant, scopes, rateLimitPerMinute });
  const auth = { authorization: `Bearer ${key.token}` };
  return {
    token: key.token,
    keyId: key.id,
    get: (path) => fetch(api.url + path, { headers: auth }),
    send: (method, path, body, headers = {}) =>
      fetch(api.url + path, {
        method,
        headers: {
          ...auth,
          ...(body !== undefined && typeof body !== "string" ? { "content-type": "application/json" } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      }),
  };
}

export const enc = encodeURIComponent;

declare global {
  interface Response {
    // Tests read answers loosely and assert on them.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    json(): Promise<any>;
  }
}
