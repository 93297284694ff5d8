// `rebound doctor`: checks a deployment (database, Redis, VERP keys, policy, the bounce domains' MX and their
// reachability on port 25, the STARTTLS certificate) and says what to fix. Exit 1 when a check fails.
import type { Command } from "commander";
import { loadConfig } from "../config.js";
import type { CliIo } from "./io.js";

export function register(cmd: Command, io: CliIo): void {
  cmd
    .option(
      "--dns-server <servers>",
      "DNS servers to ask, comma-separated host or host:port (default: the system's)",
    )
    .option("--smtp-port <port>", "the port the MX hosts are tried on", "25")
    .option("--timeout <ms>", "per network check", "5000")
    .option("--format <format>", "pretty or json", "pretty")
    .action(async (opts: { dnsServer?: string; smtpPort: string; timeout: string; format: string }) => {
      const { runDoctor } = await import("../doctor/checks.js");
      const config = loadConfig();
      const checks = await runDoctor(config, {
        dnsServers: opts.dnsServer?.split(",").map((s) => s.trim()),
        smtpPort: Number(opts.smtpPort),
        timeoutMs: Number(opts.timeout),
        now: new Date(),
      });
      if (opts.format === "json") io.stdout.write(JSON.stringify({ checks }) + "\n");
      else
        for (const c of checks)
          io.stdout.write(
            `${c.status === "ok" ? "ok  " : c.status === "warn" ? "warn" : "FAIL"} ${c.id}: ${c.summary}\n` +
              (c.fix ? `     fix: ${c.fix}\n` : ""),
          );
      if (checks.some((c) => c.status === "fail")) io.exitCode = 1;
    });
}
