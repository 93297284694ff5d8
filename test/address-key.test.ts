// The key of the address hashes: made and kept in the database on first use, or read from a file; recorded by
// fingerprint so that a process given another key refuses to start; rows hashed by older versions (a bare
// SHA-256) re-filed once. On the real PostgreSQL.
import { createHash, createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newAddressKeyText, parseAddressKey, resolveAddressKey } from "../src/address-key.js";
import { ConfigError, loadConfig } from "../src/config.js";
import { addressHasher, addressKeyFingerprint } from "../src/core/address.js";
import { migrateToLatest, openDb, type DbHandle } from "../src/store/db.js";
import { cli } from "./cli/run-cli.js";
import { TEST_DATABASE_URL, uniqueSchema } from "./helpers/db.js";

const bare = (a: string) => createHash("sha256").update(a).digest("hex");
const hmac = (key: Buffer, a: string) => addressHasher(key)(a);

let dir: string;
const opened: { handle: DbHandle; schema: string }[] = [];

/** A fresh migrated schema whose address key nobody has claimed yet. */
async function freshDb() {
  const schema = uniqueSchema("ak");
  const handle = await openDb({ databaseUrl: TEST_DATABASE_URL, schema, poolSize: 4 });
  await migrateToLatest(handle.db);
  opened.push({ handle, schema });
  return { db: handle.db, schema };
}

const configWith = (addressKeyFile?: string) =>
  loadConfig({ databaseUrl: TEST_DATABASE_URL, ...(addressKeyFile ? { addressKeyFile } : {}) }, {});

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "rebound-address-key-"));
});

afterEach(async () => {
  for (const { handle, schema } of opened.splice(0)) {
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(handle.db);
    await handle.close();
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the address-hash key", () => {
  it("hashes as Node's HMAC-SHA256 does, for keys shorter and longer than the block, never as a bare SHA-256", () => {
    const key = Buffer.alloc(32, 0x0b);
    expect(hmac(key, "Hi There")).toBe(createHmac("sha256", key).update("Hi There").digest("hex"));
    expect(hmac(key, "a@example.com")).not.toBe(bare("a@example.com"));
    const long = randomBytes(100); // longer than the block: hashed first, as RFC 2104 says
    expect(addressHasher(long)("x@y.z")).toBe(createHmac("sha256", long).update("x@y.z").digest("hex"));
    expect(() => addressHasher(Buffer.alloc(16))).toThrow(/at least 32 bytes/);
  });

  it("one hasher gives Node's HMAC for every address in turn: short, non-ASCII, longer than its buffer, short again", () => {
    const key = randomBytes(32);
    const h = addressHasher(key);
    const addresses = [
      "a@b.c",
      "jürgen.müller@bücher.example",
      "x".repeat(300) + "@example.com",
      "😀@example.org",
      "z@y.x",
    ];
    for (const a of addresses) expect(h(a)).toBe(createHmac("sha256", key).update(a, "utf8").digest("hex"));
  });

  it("is made on first use and kept in the database; a second process reads the same key; two databases differ", async () => {
    const a = await freshDb();
    const first = await resolveAddressKey(a.db, configWith());
    expect(first.source).toBe("database");
    expect(first.created).toEqual({ refiled: { addresses: 0, orphans: 0 } });
    const again = await resolveAddressKey(a.db, configWith());
    expect(again.created).toBeUndefined();
    expect(again.fingerprint).toBe(first.fingerprint);
    expect(again.hashAddress("p@example.com")).toBe(first.hashAddress("p@example.com"));
    const b = await freshDb();
    const other = await resolveAddressKey(b.db, configWith());
    expect(other.fingerprint).not.toBe(first.fingerprint);
    expect(other.hashAddress("p@example.com")).not.toBe(first.hashAddress("p@example.com"));
    // The key itself, for the lookups' own hashing: the same HMAC as hashAddress, each time it is read.
    for (const k of [first, again])
      expect(createHmac("sha256", k.key).update("p@example.com").digest("hex")).toBe(
        first.hashAddress("p@example.com"),
      );
  });

  it("gives one key to processes that claim it at the same time", async () => {
    const a = await freshDb();
    const all = await Promise.all([1, 2, 3, 4].map(() => resolveAddressKey(a.db, configWith())));
    expect(new Set(all.map((k) => k.fingerprint)).size).toBe(1);
    expect(all.filter((k) => k.created).length).toBe(1);
  });

  it("reads REBOUND_ADDRESS_KEY_FILE, records only its fingerprint, and refuses another key or none", async () => {
    const a = await freshDb();
    const file = join(dir, "key-a");
    writeFileSync(file, newAddressKeyText(), { mode: 0o600 });
    const fromFile = await resolveAddressKey(a.db, configWith(file));
    expect(fromFile.source).toBe("file");
    expect(createHmac("sha256", fromFile.key).update("p@example.com").digest("hex")).toBe(
      fromFile.hashAddress("p@example.com"),
    );
    const row = await sql<{ key: Buffer | null; fingerprint: string }>`
      select key, fingerprint from address_key`.execute(a.db);
    expect(row.rows).toEqual([{ key: null, fingerprint: fromFile.fingerprint }]);

    const otherFile = join(dir, "key-b");
    writeFileSync(otherFile, newAddressKeyText());
    await expect(resolveAddressKey(a.db, configWith(otherFile))).rejects.toThrow(ConfigError);
    await expect(resolveAddressKey(a.db, configWith(otherFile))).rejects.toThrow(
      /hashed with the key .*every lookup would miss/,
    );
    await expect(resolveAddressKey(a.db, configWith())).rejects.toThrow(/set REBOUND_ADDRESS_KEY_FILE/);
  });

  it("takes a database-kept key moved into a file (its fingerprint matches)", async () => {
    const a = await freshDb();
    const kept = await resolveAddressKey(a.db, configWith());
    const row = await sql<{ key: Buffer }>`select key from address_key`.execute(a.db);
    const file = join(dir, "moved");
    writeFileSync(
      file,
      `# moved out of the database\n${Buffer.from(row.rows[0]!.key).toString("base64url")}\n`,
    );
    const moved = await resolveAddressKey(a.db, configWith(file));
    expect(moved.fingerprint).toBe(kept.fingerprint);
    expect(moved.hashAddress("q@example.com")).toBe(kept.hashAddress("q@example.com"));
  });

  it("refuses a key file that holds too short a key, or none, with the file named", () => {
    expect(() => parseAddressKey("abcd\n", "the file f")).toThrow(/the file f: the key has 2 bytes/);
    expect(() => parseAddressKey("# only a comment\n", "the file f")).toThrow(/the file f holds no key/);
    expect(parseAddressKey(`${"ab".repeat(32)}\n`, "f")).toEqual(Buffer.alloc(32, 0xab));
    expect(addressKeyFingerprint(parseAddressKey(newAddressKeyText(), "f"))).toMatch(/^[0-9a-f]{16}$/);
  });

  it("re-files rows an older version hashed with a bare SHA-256, and counts the tombstones it cannot", async () => {
    const a = await freshDb();
    const at = new Date("2026-03-01T00:00:00Z");
    const known = "known@example.com";
    const erased = "erased-long-ago@example.com";
    await sql`insert into suppressions (tenant, stream, address, address_hash, reason, class, source,
        first_seen, last_seen) values
        ('acme', '*', ${known}, ${bare(known)}, 'userunknown', 'hard', 'bounce', ${at}, ${at}),
        ('acme', '*', null, ${bare(erased)}, 'userunknown', 'hard', 'bounce', ${at}, ${at})`.execute(a.db);
    await sql`insert into address_state (tenant, stream, address_hash, soft_level)
        values ('acme', 'news', ${bare(known)}, 2)`.execute(a.db);
    const k = await resolveAddressKey(a.db, configWith());
    expect(k.created?.refiled).toEqual({ addresses: 1, orphans: 1 });
    const sup = await sql<{ address_hash: string }>`
      select address_hash from suppressions where address = ${known}`.execute(a.db);
    expect(sup.rows[0]!.address_hash).toBe(k.hashAddress(known));
    const state = await sql<{ address_hash: string; soft_level: number }>`
      select address_hash, soft_level from address_state`.execute(a.db);
    expect(state.rows).toEqual([{ address_hash: k.hashAddress(known), soft_level: 2 }]);
  });

  it("prints a new key, writes one to a 0600 file once, and exports the database-kept one, from the CLI", async () => {
    const made = await cli("keys", "address-key");
    expect(made.code).toBe(0);
    expect(parseAddressKey(made.stdout, "stdout")).toHaveLength(32);
    const file = join(dir, "made", "address-key");
    expect((await cli("keys", "address-key", "--file", file)).stdout).toContain(
      "wrote a new address-hash key",
    );
    const first = readFileSync(file, "utf8");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await cli("keys", "address-key", "--file", file)).stdout).toContain("kept the key already");
    expect(readFileSync(file, "utf8")).toBe(first);
    const a = await freshDb();
    const kept = await resolveAddressKey(a.db, configWith());
    const env = {
      DATABASE_URL: TEST_DATABASE_URL,
      REBOUND_DATABASE_SCHEMA: a.schema,
      REBOUND_LOG_LEVEL: "silent",
    };
    const before = { ...process.env };
    Object.assign(process.env, env);
    try {
      const out = await cli("keys", "address-key", "--export");
      expect(out.code).toBe(0);
      expect(addressKeyFingerprint(parseAddressKey(out.stdout, "stdout"))).toBe(kept.fingerprint);
    } finally {
      for (const key of Object.keys(env)) if (!(key in before)) delete process.env[key];
      Object.assign(process.env, before);
    }
  });
});
