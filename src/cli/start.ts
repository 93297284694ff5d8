// `rebound start [--role intake|worker|api ...]`: run the roles (all by default) until SIGTERM or SIGINT, then
// shut down gracefully (SMTP sessions and jobs in flight finish).
import { Option, type Command } from "commander";
import { loadConfig } from "../config.js";
import { relative } from "node:path";
import type { Config } from "../config.js";
import { DEFAULT_ROLES, ROLES, startApp, type App, type Role } from "../main.js";
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

export function register(cmd: Command, io: CliIo): void {
  cmd
    .addOption(new Option("--role <role...>", `roles to run: ${ROLES.join(", ")} (repeat or comma-separate)`))
    .action(async (opts: { role?: string[] }) => {
      const roles = parseRoles(opts.role);
      const config = loadConfig();
      const app = await startApp(config, roles).catch((err: unknown) => {
        throw new Error(explainStartError(err, config), { cause: err });
      });
      io.stderr.write(startBanner(app));
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once("SIGTERM", () => resolve("SIGTERM"));
        process.once("SIGINT", () => resolve("SIGINT"));
      });
      app.logger.info({ signal }, "shutting down");
      await app.close();
      app.logger.info("stopped");
    });
}

/** A URL's host part: IPv6 in brackets, every-interface addresses as the loopback a local client can use. */
function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith("..") ? rel : path;
}

/**
 * The short human block printed when the server is up: where it listens, what the first start made, and what
 * to do next (a curl with the key, a signed return path to send a test bounce to).
 */
export function startBanner(app: App): string {
  const config: Config = app.config;
  const http = app.httpPort !== undefined ? `http://${urlHost(config.httpHost)}:${app.httpPort}` : undefined;
  const lines = [`rebound: running ${app.roles.join(", ")}`];
  if (app.smtpPort !== undefined)
    lines.push(`  SMTP  ${urlHost(config.smtpHost)}:${app.smtpPort}, for ${config.domains.join(", ")}`);
  if (http) {
    lines.push(`  HTTP  ${http}   API docs: ${http}/docs   OpenAPI: ${http}/v1/openapi.json`);
    lines.push(`  Console  ${http}/console   (sign in with an API key)`);
  }
  if (app.socketmapPort !== undefined)
    lines.push(
      `  lookup  socketmap on ${config.lookupHost}:${app.socketmapPort}, policy on ${config.lookupHost}:${app.policyPort}`,
    );
  if (!config.databaseUrl) lines.push(`  data  ${shown(config.dataDir)} (embedded database)`);

  const { adminKey, verpKey } = app.firstRun;
  if (adminKey || verpKey) lines.push("", "First start: made for you, shown only now");
  if (adminKey)
    lines.push(
      `  API key (admin, tenant "${adminKey.tenant}"): ${adminKey.token}` +
        (adminKey.file ? `\n    kept in ${shown(adminKey.file)} (readable by you alone)` : ""),
    );
  if (verpKey)
    lines.push(
      `  VERP key (development): ${verpKey.id}:${verpKey.secret}`,
      `    kept in ${shown(verpKey.file)}; in production set REBOUND_VERP_KEYS to a key of your own:`,
      "    REBOUND_VERP_KEYS=$(npx rebound verp keygen)",
    );
  if (app.verpKeySource === "none" && (app.roles.includes("worker") || app.roles.includes("intake")))
    lines.push(
      "",
      "WARNING: no VERP key is configured (REBOUND_VERP_KEYS): no bounce is verified, NO BOUNCE WILL SUPPRESS.",
    );

  if (http && adminKey) {
    const token = adminKey.file ? `TOKEN=$(cat ${shown(adminKey.file)})` : `TOKEN=${adminKey.token}`;
    lines.push(
      "",
      "Next steps",
      `  ${token}`,
      `  curl -H "Authorization: Bearer $TOKEN" ${http}/v1/suppressions/jane@example.org`,
    );
    if (app.smtpPort !== undefined && app.verpKeySource !== "none")
      lines.push(
        "  # a signed return path (the MAIL FROM of a send), then a test bounce to it (README: Quick start)",
        "  RP=$(npx rebound verp encode --recipient jane@example.org --stream marketing)",
        `  curl -sS smtp://${urlHost(config.smtpHost)}:${app.smtpPort} --mail-from '' --mail-rcpt "$RP" --upload-file examples/bounce.eml`,
      );
  }
  lines.push("", "Stop with Ctrl-C.", "");
  return lines.join("\n");
}

/**
 * An expected failure to start, in one line that says what to change: a port in use or not allowed names its
 * variable (the caller prints the message, never a stack).
 */
export function explainStartError(err: unknown, config: Config): string {
  const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
  const message = err instanceof Error ? err.message : String(err);
  if (e.code !== "EADDRINUSE" && e.code !== "EACCES" && e.code !== "EADDRNOTAVAIL") return message;
  const setting =
    e.port === config.httpPort
      ? "REBOUND_HTTP_PORT"
      : e.port === config.smtpPort
        ? "REBOUND_SMTP_PORT"
        : e.port === config.metricsPort
          ? "REBOUND_METRICS_PORT"
          : "the port settings";
  const at = `${e.address ?? "?"}:${e.port ?? "?"}`;
  if (e.code === "EADDRINUSE")
    return `cannot listen on ${at}: the port is in use (another rebound start?); stop what uses it or set ${setting}`;
  if (e.code === "EACCES")
    return `cannot listen on ${at}: not allowed (ports below 1024 need privileges); set ${setting} to 1024 or above`;
  return `cannot listen on ${at}: no such local address (REBOUND_HTTP_HOST / REBOUND_SMTP_HOST)`;
}
