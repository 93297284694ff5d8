// `rebound erase ADDRESS [--tenant T]`: erasure (privacy law), as `DELETE /v1/addresses/{address}` does it, in
// every tenant unless one is named: the address's events, the raw bytes of the mails that name it, its mentions
// in envelopes and webhook payloads go; its suppressions stay under its keyed hash. Prints what was done as JSON.
import type { Command } from "commander";
import { loadConfig } from "../config.js";
import { eraseAddress } from "../store/erasure.js";
import type { CliIo } from "./io.js";
import { addressArg } from "./suppressions.js";
import { withDb } from "./with-db.js";

export function register(cmd: Command, io: CliIo): void {
  cmd
    .argument("<address>", "the address")
    .option("--tenant <name>", "erase it from this tenant only (default: from every tenant)")
    .option("--all-tenants", "erase it from every tenant (the default)")
    .action(async (input: string, opts: { tenant?: string; allTenants?: boolean }) => {
      if (opts.tenant !== undefined && opts.allTenants)
        throw new Error("give --tenant or --all-tenants, not both");
      const config = loadConfig();
      const address = addressArg(config, input);
      const tenant = opts.tenant ?? null;
      let addressHash = "";
      const r = await withDb(config, async (db, ctx) => {
        addressHash = (await ctx.addressHasher())(address);
        return eraseAddress(db, { tenant, address, addressHash, actor: "cli", now: new Date() });
      });
      io.stdout.write(`${JSON.stringify({ tenant: tenant ?? "*", addressHash, ...r })}\n`);
    });
}
