import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";
import { resolveVerpKeys } from "../src/verp-keys.js";
import { cli } from "./cli/run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "rebound-verp-keys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("where the VERP keys come from", () => {
  it("REBOUND_VERP_KEYS first, then the file REBOUND_VERP_KEYS_FILE names", () => {
    const file = join(dir, "keys-a");
    writeFileSync(file, "k2:from-the-file-0123456789,k1:older-key-in-the-file-01\n");
    const fromFile = resolveVerpKeys(
      loadConfig({}, { REBOUND_VERP_KEYS_FILE: file, DATABASE_URL: "postgres://x/y" }),
    );
    expect(fromFile).toMatchObject({ source: "file", file });
    expect(fromFile.keys.map((k) => k.id)).toEqual(["k2", "k1"]);
    const fromEnv = resolveVerpKeys(
      loadConfig({}, { REBOUND_VERP_KEYS_FILE: file, REBOUND_VERP_KEYS: "k9:from-the-environment-0001" }),
    );
    expect(fromEnv).toMatchObject({ source: "env", keys: [{ id: "k9" }] });
  });

  it("refuses a named file that is missing or malformed", () => {
    expect(() => resolveVerpKeys(loadConfig({}, { REBOUND_VERP_KEYS_FILE: join(dir, "none") }))).toThrow(
      ConfigError,
    );
    const bad = join(dir, "keys-bad");
    writeFileSync(bad, "no-colon-here\n");
    expect(() => resolveVerpKeys(loadConfig({}, { REBOUND_VERP_KEYS_FILE: bad }))).toThrow(/id:secret/);
  });

  it("makes a development key in the embedded data folder only when asked (the first start), then reads it", () => {
    const data = join(dir, "data");
    const config = loadConfig({}, { REBOUND_DATA_DIR: data });
    expect(resolveVerpKeys(config)).toEqual({ keys: [], source: "none" });
    const made = resolveVerpKeys(config, { create: true });
    expect(made.created?.id).toBe("dev");
    expect(made.keys).toEqual([made.created]);
    const again = resolveVerpKeys(config, { create: true });
    expect(again.created).toBeUndefined();
    expect(again.keys).toEqual(made.keys);
    // Never on PostgreSQL (several processes: the operator sets keys), never in memory.
    expect(resolveVerpKeys(loadConfig({}, { DATABASE_URL: "postgres://x/y" }), { create: true }).source).toBe(
      "none",
    );
    expect(resolveVerpKeys(loadConfig({ dataDir: ":memory:" }, {}), { create: true }).source).toBe("none");
  });
});

describe("rebound verp keygen", () => {
  it("prints a new id:secret, and writes a file readable by its owner alone unless it exists", async () => {
    const printed = await cli("verp", "keygen", "--id", "k7");
    expect(printed.stdout).toMatch(/^k7:[A-Za-z0-9_-]{43}\n$/);
    const file = join(dir, "generated");
    const first = await cli("verp", "keygen", "--file", file);
    expect(first.code).toBe(0);
    const content = readFileSync(file, "utf8");
    expect(content).toMatch(/^k1:[A-Za-z0-9_-]{43}\n$/);
    expect((statSync(file).mode & 0o777).toString(8)).toBe("600");
    const second = await cli("verp", "keygen", "--file", file);
    expect(second.stderr).toContain("kept the key already in");
    expect(readFileSync(file, "utf8")).toBe(content);
  });
});
