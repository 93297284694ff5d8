import { afterAll, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { startApp, type App } from "../../src/main.js";
import { listKeys } from "../../src/store/keys.js";

let app: App | undefined;
afterAll(async () => app?.close());

it("makes one admin key on the first embedded start and shows its token, which the API accepts", async () => {
  const config = loadConfig(
    { dataDir: ":memory:", httpHost: "127.0.0.1", httpPort: 0, logLevel: "silent", defaultTenant: "first" },
    {},
  );
  const written: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    app = await startApp(config, ["api"], { logger: createLogger("silent") });
  } finally {
    process.stderr.write = write;
  }
  const keys = await listKeys(app.db, { includeRevoked: true });
  expect(keys.map((k) => [k.tenant, k.name, [...k.scopes].sort()])).toEqual([
    ["first", "bootstrap", ["admin", "read", "write"]],
  ]);
  const token = /first API key for tenant "first": (\S+)/.exec(written.join(""))?.[1];
  expect(token).toBeDefined();
  const res = await fetch(`http://127.0.0.1:${app.httpPort}/v1/suppressions/someone@example.com`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  expect(((await res.json()) as { suppressed: boolean }).suppressed).toBe(false);
});
