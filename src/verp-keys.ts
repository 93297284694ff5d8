// Where the VERP keys come from: REBOUND_VERP_KEYS; else the file REBOUND_VERP_KEYS_FILE names; else, in the
// embedded default, `${dataDir}/verp-keys`, which the first `rebound start` makes with a development key (so a
// fresh install verifies its own return paths at once; production sets keys of its own). The file's I/O lives
// here, at the edge; the keys' format is config.ts's.
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ConfigError, parseVerpKeys, type Config } from "./config.js";
import type { VerpKey } from "./core/verp.js";

export const VERP_KEY_SOURCES = ["env", "file", "none"] as const;
export type VerpKeySource = (typeof VERP_KEY_SOURCES)[number];

export interface ResolvedVerpKeys {
  keys: VerpKey[];
  source: VerpKeySource;
  /** The file read (or made). */
  file?: string;
  /** Set when this call made the file with a new development key. */
  created?: VerpKey;
}

/** The keys file in effect: REBOUND_VERP_KEYS_FILE, or the embedded default's `${dataDir}/verp-keys`. */
export function verpKeysFile(config: Config): string | undefined {
  if (config.verpKeysFile) return config.verpKeysFile;
  if (config.databaseUrl || config.dataDir === ":memory:") return undefined;
  return join(config.dataDir, "verp-keys");
}

/** A new `id:secret` pair (32 random bytes). */
export function generateVerpKey(id = "k1"): VerpKey {
  return { id, secret: randomBytes(32).toString("base64url") };
}

/**
 * Write a keys file holding `key`, readable by its owner alone; false (nothing written) when it exists.
 */
export function writeVerpKeysFile(file: string, key: VerpKey): boolean {
  mkdirSync(dirname(file), { recursive: true });
  try {
    writeFileSync(file, `${key.id}:${key.secret}\n`, { flag: "wx", mode: 0o600 });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
}

/**
 * The keys in effect. With `create`, the embedded default's file is made with a development key when missing
 * (only there: a file named by REBOUND_VERP_KEYS_FILE must exist).
 */
export function resolveVerpKeys(config: Config, opts: { create?: boolean } = {}): ResolvedVerpKeys {
  if (config.verpKeys.length) return { keys: config.verpKeys, source: "env" };
  const file = verpKeysFile(config);
  if (!file) return { keys: [], source: "none" };
  let created: VerpKey | undefined;
  if (opts.create && !config.verpKeysFile) {
    const key = generateVerpKey("dev");
    if (writeVerpKeysFile(file, key)) created = key;
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" && !config.verpKeysFile)
      return { keys: [], source: "none" };
    throw new ConfigError(`REBOUND_VERP_KEYS_FILE: cannot read ${file}: ${(err as Error).message}`);
  }
  const keys = parseVerpKeys(text, `the VERP keys file ${file}`);
  if (!keys.length) throw new ConfigError(`the VERP keys file ${file} holds no key`);
  return { keys, source: "file", file, created };
}

/** The configuration with the keys in effect (for the commands that sign or verify). */
export function withVerpKeys(config: Config, opts: { create?: boolean } = {}): Config {
  const resolved = resolveVerpKeys(config, opts);
  return resolved.source === "file" ? { ...config, verpKeys: resolved.keys } : config;
}
