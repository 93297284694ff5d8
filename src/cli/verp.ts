// `rebound verp encode --recipient ADDR --stream S [--tenant T] [--domain D]` prints the signed return path;
// `rebound verp decode ADDRESS [--candidate ADDR ...]` prints what it carries, as JSON (exit 1 when it does not
// verify); `rebound verp keygen [--file F]` makes a key. Keys come from REBOUND_VERP_KEYS, else its file
// (src/verp-keys.ts: the embedded default's development key); the domain defaults to the first of REBOUND_DOMAINS.
import type { Command } from "commander";
import { loadConfig } from "../config.js";
import { decodeVerp, encodeVerp, type VerpKey } from "../core/verp.js";
import { generateVerpKey, withVerpKeys, writeVerpKeysFile } from "../verp-keys.js";
import type { CliIo } from "./io.js";

export function register(cmd: Command, io: CliIo): void {
  const verp = cmd;
  registerEncode(verp, io);
  registerDecode(verp, io);
  registerKeygen(verp, io);
}

/** The keys in effect, or an error that says how to get one. */
function keysOrExplain(): { keys: VerpKey[]; domains: string[] } {
  const config = withVerpKeys(loadConfig());
  if (!config.verpKeys.length)
    throw new Error(
      "no VERP key configured: set REBOUND_VERP_KEYS (make one with `rebound verp keygen`), or run " +
        "`rebound start` once with the embedded database (it makes a development key in the data folder)",
    );
  return { keys: config.verpKeys, domains: config.domains };
}

function registerKeygen(verp: Command, io: CliIo): void {
  verp
    .command("keygen")
    .description("make a VERP key (`id:secret`, 32 random bytes) for REBOUND_VERP_KEYS")
    .option("--id <id>", "the key id, 1-8 letters or digits (a new id for each key in a rotation)", "k1")
    .option("--file <path>", "write it to this file (readable by its owner alone) unless the file exists")
    .action((opts: { id: string; file?: string }) => {
      if (!/^[a-z0-9]{1,8}$/i.test(opts.id)) throw new Error("--id must be 1-8 letters or digits");
      const key = generateVerpKey(opts.id.toLowerCase());
      if (!opts.file) {
        io.stdout.write(`${key.id}:${key.secret}\n`);
        return;
      }
      const made = writeVerpKeysFile(opts.file, key);
      io.stderr.write(
        made ? `wrote a new VERP key to ${opts.file}\n` : `kept the key already in ${opts.file}\n`,
      );
    });
}

function registerEncode(verp: Command, io: CliIo): void {
  verp
    .command("encode")
    .description("print the signed return path for one recipient and stream")
    .requiredOption("--recipient <address>", "the recipient of the send")
    .requiredOption("--stream <name>", "the sender's stream (transactional, marketing, ...)")
    .option("--tenant <name>", "the tenant (default: none, the default tenant)")
    .option("--domain <domain>", "the bounce domain (default: the first of REBOUND_DOMAINS)")
    .action((opts: { recipient: string; stream: string; tenant?: string; domain?: string }) => {
      const { keys, domains } = keysOrExplain();
      const domain = opts.domain ?? domains[0] ?? "localhost";
      io.stdout.write(
        `${encodeVerp({ recipient: opts.recipient, stream: opts.stream, tenant: opts.tenant }, keys, domain)}\n`,
      );
    });
}

function registerDecode(verp: Command, io: CliIo): void {
  verp
    .command("decode")
    .description("decode and verify a return path; prints JSON")
    .argument("<address>", "the return path (a bounce's envelope recipient)")
    .option("--candidate <address...>", "for the hashed form: addresses the bounce names")
    .action((address: string, opts: { candidate?: string[] }) => {
      const { keys } = keysOrExplain();
      const decoded = decodeVerp(address, keys, { candidates: opts.candidate });
      io.stdout.write(`${JSON.stringify(decoded)}\n`);
      if (!decoded.ok) io.exitCode = 1;
    });
}
