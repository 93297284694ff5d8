// `rebound start [--role intake|worker|api ...]`: run the roles (all by default) until SIGTERM or SIGINT, then
// shut down gracefully (SMTP sessions and jobs in flight finish).
import { Option, type Command } from "commander";
import { loadConfig } from "../config.js";
import { DEFAULT_ROLES, ROLES, startApp, type Role } from "../main.js";
import type { CliIo } from "./io.js";

export function parseRoles(values: string[] | undefined): Role[] {
  if (!values?.length) return [...DEFAULT_ROLES];
  const roles = values
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter(Boolean);
  for (const r of roles) {
    if (!(ROLES as readonly string[]).includes(r))
      throw new Error(`unknown role "${r}" (roles: ${ROLES.join(", ")})`);
  }
  return [...new Set(roles)] as Role[];
}

export function register(program: Command, io: CliIo): void {
  program
    .command("start")
    .description(
      "run the MX (intake), the worker and the HTTP API (all in one process by default), and the lookup servers",
    )
    .addOption(new Option("--role <role...>", `roles to run: ${ROLES.join(", ")} (repeat or comma-separate)`))
    .action(async (opts: { role?: string[] }) => {
      const roles = parseRoles(opts.role);
      const config = loadConfig();
      const app = await startApp(config, roles);
      io.stderr.write(
        `rebound: running ${roles.join(", ")}` +
          (app.smtpPort !== undefined
            ? `; SMTP on port ${app.smtpPort} for ${config.domains.join(", ")}`
            : "") +
          (app.httpPort !== undefined ? `; HTTP on port ${app.httpPort}` : "") +
          (app.socketmapPort !== undefined
            ? `; socketmap on ${config.lookupHost}:${app.socketmapPort}, policy on ${config.lookupHost}:${app.policyPort}`
            : "") +
          "\n",
      );
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once("SIGTERM", () => resolve("SIGTERM"));
        process.once("SIGINT", () => resolve("SIGINT"));
      });
      app.logger.info({ signal }, "shutting down");
      await app.close();
      app.logger.info("stopped");
    });
}
