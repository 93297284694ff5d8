// The key of the address hashes: REBOUND_ADDRESS_KEY_FILE when set (a key kept apart from the data, as a
// production deployment should), else a key the first process makes and keeps in the database (the embedded
// default, and deployments that have not set one: start warns). The database records the key's fingerprint,
// so a process given another key refuses to start rather than file addresses under hashes that match nothing.
// The file's I/O lives here, at the edge; hashing is src/core/address.ts's.
import { hash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Kysely } from "kysely";
import { ConfigError, type Config } from "./config.js";
import {
  ADDRESS_KEY_MIN_BYTES,
  addressHasher,
  addressKeyFingerprint,
  type AddressHasher,
} from "./core/address.js";
import { claimAddressKey, readAddressKey, type Refiled } from "./store/address-key.js";
import type { Database } from "./store/schema.js";

export const ADDRESS_KEY_SOURCES = ["file", "database"] as const;
export type AddressKeySource = (typeof ADDRESS_KEY_SOURCES)[number];

export interface ResolvedAddressKey {
  hashAddress: AddressHasher;
  /** The key itself (the lookup role hashes with it without hashAddress's strings: postfix/address-digest.ts). */
  key: Uint8Array;
  fingerprint: string;
  source: AddressKeySource;
  /** Set when this process made the key (and re-filed what older versions had hashed without one). */
  created?: { refiled: Refiled };
}

/** A key file's text: the key in base64url, base64 or hex, at least 32 bytes, one line (`#` comments allowed). */
export function parseAddressKey(text: string, where: string): Buffer {
  const line = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l && !l.startsWith("#"));
  if (!line) throw new ConfigError(`${where} holds no key`);
  const key =
    /^[0-9a-f]+$/i.test(line) && line.length % 2 === 0
      ? Buffer.from(line, "hex")
      : Buffer.from(line, "base64url");
  if (key.length < ADDRESS_KEY_MIN_BYTES)
    throw new ConfigError(
      `${where}: the key has ${key.length} bytes; at least ${ADDRESS_KEY_MIN_BYTES} are needed ` +
        "(make one with `rebound keys address-key`)",
    );
  return key;
}

/** A new key, as a key file holds it. */
export function newAddressKeyText(): string {
  return `${randomBytes(32).toString("base64url")}\n`;
}

function readKeyFile(file: string): Buffer {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`REBOUND_ADDRESS_KEY_FILE: cannot read ${file}: ${(err as Error).message}`);
  }
  return parseAddressKey(text, `the address-hash key file ${file}`);
}

/** A bare SHA-256: how addresses were filed before keyed hashes (re-filed once, by the first claimant). */
const legacy: AddressHasher = (a) => hash("sha256", a, "hex");

/** The key in effect for this database; made and recorded on first use. */
export async function resolveAddressKey(db: Kysely<Database>, config: Config): Promise<ResolvedAddressKey> {
  const fromFile = config.addressKeyFile ? readKeyFile(config.addressKeyFile) : undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    const stored = await readAddressKey(db);
    if (stored) {
      if (fromFile) {
        const fp = addressKeyFingerprint(fromFile);
        if (fp !== stored.fingerprint)
          throw new ConfigError(
            `REBOUND_ADDRESS_KEY_FILE holds the key ${fp}, but this database's addresses are hashed with the key ` +
              `${stored.fingerprint}${stored.key ? " (kept in the database)" : ""}: every lookup would miss. ` +
              "Give the key the database was made with",
          );
        return { hashAddress: addressHasher(fromFile), key: fromFile, fingerprint: fp, source: "file" };
      }
      if (!stored.key)
        throw new ConfigError(
          `this database's addresses are hashed with the key ${stored.fingerprint}, kept in a file: ` +
            "set REBOUND_ADDRESS_KEY_FILE to it",
        );
      return {
        hashAddress: addressHasher(stored.key),
        key: stored.key,
        fingerprint: stored.fingerprint,
        source: "database",
      };
    }
    const key = fromFile ?? randomBytes(32);
    const fingerprint = addressKeyFingerprint(key);
    const hasher = addressHasher(key);
    const claim = await claimAddressKey(db, { fingerprint, key: fromFile ? null : key }, hasher, legacy);
    if (claim.claimed)
      return {
        hashAddress: hasher,
        key,
        fingerprint,
        source: fromFile ? "file" : "database",
        created: { refiled: claim.refiled! },
      };
    // Another process claimed it first: read what it wrote.
  }
  throw new Error("the address-hash key could not be read after it was claimed");
}
