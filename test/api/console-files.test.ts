// The console's files as the API serves them: the page for any console path, hashed files cached for a year,
// ETags, gzip, the Content-Security-Policy on every answer, and a clear 404 where the console was not built.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONSOLE_CSP, installConsole } from "../../src/api/console.js";
import { installErrorHandling } from "../../src/api/errors.js";

const JS = "console.log('the console');".repeat(50);

async function appWith(dir: string): Promise<FastifyInstance> {
  const app = Fastify();
  installErrorHandling(app);
  installConsole(app, dir);
  await app.ready();
  return app;
}

let built: FastifyInstance;
let empty: FastifyInstance;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "rebound-console-"));
  mkdirSync(join(dir, "assets"));
  writeFileSync(
    join(dir, "index.html"),
    '<!doctype html><script type="module" src="/console/assets/a-1234.js"></script>',
  );
  writeFileSync(join(dir, "assets", "a-1234.js"), JS);
  built = await appWith(dir);
  empty = await appWith(mkdtempSync(join(tmpdir(), "rebound-console-empty-")));
});
afterAll(async () => {
  await built?.close();
  await empty?.close();
});

describe("the console's files", () => {
  it("answers the page for /console and any page under it, revalidated, with the CSP", async () => {
    for (const url of [
      "/console",
      "/console/",
      "/console/providers/google",
      "/console/suppressions?address=a@b.c",
    ]) {
      const res = await built.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(res.headers["cache-control"]).toBe("no-cache");
      expect(res.headers["content-security-policy"]).toBe(CONSOLE_CSP);
      expect(res.headers["x-frame-options"]).toBe("DENY");
      expect(res.body).toContain("/console/assets/a-1234.js");
    }
  });

  it("serves hashed files for a year, gzipped when asked, and 304 to a matching ETag", async () => {
    const res = await built.inject({
      url: "/console/assets/a-1234.js",
      headers: { "accept-encoding": "gzip, br" },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(res.headers["content-encoding"]).toBe("gzip");
    expect(res.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(gunzipSync(res.rawPayload).toString()).toBe(JS);
    const plain = await built.inject({ url: "/console/assets/a-1234.js" });
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.body).toBe(JS);
    const again = await built.inject({
      url: "/console/assets/a-1234.js",
      headers: { "if-none-match": String(res.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
  });

  it("answers 404 for a hashed file that is not there (an old build's), never the page", async () => {
    const res = await built.inject({ url: "/console/assets/gone-9999.js" });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: { code: "not_found" } });
  });

  it("says how to build the console where it was not built", async () => {
    const res = await empty.inject({ url: "/console/" });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.message).toContain("npm run build");
  });
});
