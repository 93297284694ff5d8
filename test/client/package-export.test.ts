// `rebound/client` and `rebound/nodemailer` are package exports that load none of the server: imported by name in
// a fresh Node process (from dist, as a user's code would), every module that process loads is recorded by a
// resolve hook and checked.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "rebound-exports-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The URLs of every module (files and packages, node: built-ins left out) loaded by importing `specifier`. */
function loadedBy(specifier: string): string[] {
  const log = join(dir, `${specifier.replace(/\W/g, "_")}.log`);
  const hooks = join(dir, "hooks.mjs");
  writeFileSync(
    hooks,
    `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (!r.url.startsWith("node:")) appendFileSync(${JSON.stringify(log)}, r.url + "\\n");
  return r;
}`,
  );
  const register = join(dir, "register.mjs");
  writeFileSync(
    register,
    `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hooks).href)});`,
  );
  execFileSync(
    process.execPath,
    [
      "--import",
      pathToFileURL(register).href,
      "--input-type=module",
      "-e",
      `await import(${JSON.stringify(specifier)});`,
    ],
    { cwd: ROOT, stdio: "pipe" },
  );
  return [...new Set(readFileSync(log, "utf8").split("\n").filter(Boolean))].map((u) =>
    u.startsWith("file:") ? u.slice(pathToFileURL(ROOT).href.length + 1) : u,
  );
}

describe("the client's package exports", () => {
  it("are built into dist (npm run build)", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    for (const name of ["./client", "./nodemailer"]) {
      const target = pkg.exports[name];
      expect(existsSync(join(ROOT, target.default)), `${target.default}: run npm run build`).toBe(true);
      expect(existsSync(join(ROOT, target.types)), target.types).toBe(true);
    }
  });

  it("ship their types: a user's TypeScript imports them by name and the generated types hold", () => {
    const consumer = mkdtempSync(join(ROOT, ".consumer-"));
    try {
      writeFileSync(
        join(consumer, "use.ts"),
        `import { createClient, type LookupResult } from "rebound/client";
import { useRebound, ReboundSuppressedError } from "rebound/nodemailer";
const c = createClient({ baseUrl: "http://127.0.0.1:8025", token: "t" });
export const r: Promise<LookupResult> = c.lookup("a@example.org");
export const p = c.request("get", "/v1/suppressions/{address}", { path: { address: "a@example.org" } });
// @ts-expect-error no such path
c.request("get", "/v1/nowhere");
export { useRebound, ReboundSuppressedError };
`,
      );
      const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
      const args = ["--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext"];
      execFileSync(process.execPath, [tsc, ...args, "--target", "es2022", "--types", "node", "use.ts"], {
        cwd: consumer,
        stdio: "pipe",
      });
    } finally {
      rmSync(consumer, { recursive: true, force: true });
    }
  });

  it("rebound/client loads its own modules only: nothing of the server, no dependency", () => {
    const loaded = loadedBy("rebound/client");
    expect(loaded).toContain("dist/src/client/index.js");
    expect(loaded.filter((u) => !u.startsWith("dist/src/client/"))).toEqual([]);
  });

  it("rebound/nodemailer loads the client, the pure VERP core and Nodemailer's address parser, nothing of the server", () => {
    const loaded = loadedBy("rebound/nodemailer");
    expect(loaded).toContain("dist/src/nodemailer/index.js");
    const others = loaded.filter(
      (u) => !u.startsWith("dist/src/client/") && !u.startsWith("dist/src/nodemailer/"),
    );
    expect(others.filter((u) => !u.startsWith("node_modules/nodemailer/")).sort()).toEqual([
      "dist/src/core/address.js",
      "dist/src/core/verp.js",
    ]);
  });
});
