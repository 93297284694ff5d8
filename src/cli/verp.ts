// `rebound verp encode --recipient ADDR --stream S [--tenant T] [--domain D]` prints the signed return path;
// `rebound verp decode ADDRESS [--candidate ADDR ...]` prints what it carries, as JSON (exit 1 when it does not
// verify). Keys come from REBOUND_VERP_KEYS; the domain defaults to the first of REBOUND_DOMAINS. Return paths are
// dated (their week of issue signed in) and decoded with REBOUND_VERP_MAX_AGE_DAYS as the MX would.
import type { Command } from "commander";
import { loadConfig } from "../config.js";
import { decodeVerp, encodeVerp } from "../core/verp.js";
import type { CliIo } from "./io.js";

export function register(program: Command, io: CliIo): void {
  const verp = program
    .command("verp")
    .description("signed return paths (VERP): encode for a send, decode a bounce address");
  registerEncode(verp, io);
  registerDecode(verp, io);
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
      const config = loadConfig();
      const domain = opts.domain ?? config.domains[0] ?? "localhost";
      io.stdout.write(
        `${encodeVerp(
          { recipient: opts.recipient, stream: opts.stream, tenant: opts.tenant },
          config.verpKeys,
          domain,
          { issuedAt: new Date() },
        )}\n`,
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
      const config = loadConfig();
      const decoded = decodeVerp(address, config.verpKeys, {
        candidates: opts.candidate,
        maxAgeDays: config.verpMaxAgeDays,
        now: new Date(),
      });
      io.stdout.write(`${JSON.stringify(decoded)}\n`);
      if (!decoded.ok) io.exitCode = 1;
    });
}
