// `rebound keys create|list|revoke`: API keys for operators. The token is printed once, at creation.
// `rebound keys address-key [--export]`: a new key for the address hashes, or the one the database keeps.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Command } from "commander";
import { newAddressKeyText } from "../address-key.js";
import { loadConfig } from "../config.js";
import { readAddressKey } from "../store/address-key.js";
import { createKey, isScope, listKeys, revokeKey, SCOPES, type Scope } from "../store/keys.js";
import type { CliIo } from "./io.js";
import { withDb } from "./with-db.js";

type Format = "json" | "text";

/** Write `text` to a new file readable by its owner alone; false (nothing written) when the file exists. */
function writeNewFile(file: string, text: string): boolean {
  mkdirSync(dirname(file), { recursive: true });
  try {
    writeFileSync(file, text, { flag: "wx", mode: 0o600 });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
}

function parseScopes(s: string): Scope[] {
  const scopes = s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
  const bad = scopes.filter((x) => !isScope(x));
  if (bad.length || scopes.length === 0)
    throw new Error(`--scopes must be a comma-separated list of ${SCOPES.join(", ")} (got "${s}")`);
  return scopes as Scope[];
}

function parseFormat(s: string): Format {
  if (s !== "json" && s !== "text") throw new Error(`--format must be json or text (got "${s}")`);
  return s;
}

export function register(cmd: Command, io: CliIo): void {
  const keys = cmd;

  keys
    .command("address-key")
    .description(
      "print a new key for the address hashes (for REBOUND_ADDRESS_KEY_FILE, before the first start), " +
        "or with --export the key this database keeps",
    )
    .option("--export", "print the key kept in the database (to move it into REBOUND_ADDRESS_KEY_FILE)")
    .option(
      "--file <path>",
      "write a new key to this file (readable by its owner alone) unless the file exists",
    )
    .action(async (opts: { export?: boolean; file?: string }) => {
      if (opts.file && opts.export) throw new Error("give --file or --export, not both");
      if (opts.file) {
        const made = writeNewFile(opts.file, newAddressKeyText());
        io.stdout.write(
          made ? `wrote a new address-hash key to ${opts.file}\n` : `kept the key already in ${opts.file}\n`,
        );
        return;
      }
      if (!opts.export) {
        io.stdout.write(newAddressKeyText());
        return;
      }
      const stored = await withDb(loadConfig(), (db) => readAddressKey(db));
      if (!stored) throw new Error("this database has no address key yet (it is made at the first start)");
      if (!stored.key)
        throw new Error(
          `this database's address key (${stored.fingerprint}) is kept in a file, not in the database`,
        );
      io.stdout.write(`${stored.key.toString("base64url")}
`);
    });

  keys
    .command("create")
    .description("create an API key and print its token (shown only once)")
    .requiredOption("--tenant <tenant>", "the tenant the key is bound to")
    .option("--scopes <scopes>", `comma-separated: ${SCOPES.join(", ")}`, "read")
    .option("--name <name>", "a label for the key")
    .option(
      "--rate-limit <perMinute>",
      "requests per minute for this key (0: unlimited; default: the server's)",
    )
    .option("--format <format>", "json or text", "text")
    .action(
      async (opts: { tenant: string; scopes: string; name?: string; rateLimit?: string; format: string }) => {
        const format = parseFormat(opts.format);
        const scopes = parseScopes(opts.scopes);
        let rateLimitPerMinute: number | undefined;
        if (opts.rateLimit !== undefined) {
          rateLimitPerMinute = Number(opts.rateLimit);
          if (!Number.isInteger(rateLimitPerMinute) || rateLimitPerMinute < 0)
            throw new Error("--rate-limit must be a non-negative integer");
        }
        const key = await withDb(loadConfig(), (db) =>
          createKey(db, { tenant: opts.tenant, scopes, name: opts.name, rateLimitPerMinute }),
        );
        if (format === "json") io.stdout.write(`${JSON.stringify(key)}\n`);
        else
          io.stdout.write(
            `id:     ${key.id}\ntenant: ${key.tenant}\nscopes: ${key.scopes.join(",")}\ntoken:  ${key.token}\n(the token is shown only now; send it as "Authorization: Bearer TOKEN")\n`,
          );
      },
    );

  keys
    .command("list")
    .description("list API keys (never their tokens)")
    .option("--tenant <tenant>", "only this tenant's keys")
    .option("--all", "include revoked keys")
    .option("--format <format>", "json or text", "text")
    .action(async (opts: { tenant?: string; all?: boolean; format: string }) => {
      const format = parseFormat(opts.format);
      const list = await withDb(loadConfig(), (db) =>
        listKeys(db, { tenant: opts.tenant, includeRevoked: opts.all }),
      );
      if (format === "json") {
        io.stdout.write(`${JSON.stringify(list)}\n`);
        return;
      }
      for (const k of list) {
        io.stdout.write(
          [
            k.id,
            k.tenant,
            k.scopes.join(","),
            k.name ?? "-",
            k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : "active",
            k.lastUsedAt?.toISOString() ?? "never used",
          ].join("\t") + "\n",
        );
      }
    });

  keys
    .command("revoke <id>")
    .description("revoke an API key (it stops working within a second)")
    .action(async (id: string) => {
      const done = await withDb(loadConfig(), (db) => revokeKey(db, id));
      if (done) io.stdout.write(`revoked ${id}\n`);
      else {
        io.stderr.write(`rebound: no active key ${id}\n`);
        io.exitCode = 1;
      }
    });
}
