// `rebound incidents list|show ID|ack ID|resolve ID`: the incidents the alert rules opened (docs/monitoring.md),
// acknowledged and resolved by hand as through the API (the same webhooks, pauses resumed, routes told).
import { userInfo } from "node:os";
import type { Command } from "commander";
import { createAlertDispatcher } from "../alerts/dispatch.js";
import { incidentEffects } from "../alerts/effects.js";
import { loadAlerts } from "../alerts/file.js";
import { presentIncident } from "../alerts/present.js";
import { loadConfig } from "../config.js";
import { createLogger } from "../log.js";
import { INCIDENT_STATUSES, SEVERITIES, type Severity } from "../core/alerts/types.js";
import {
  acknowledgeIncident,
  getIncident,
  incidentHistory,
  incidentsPage,
  resolveIncidentByHand,
  type StatusFilter,
} from "../store/incidents.js";
import type { CliIo } from "./io.js";
import { withDb } from "./with-db.js";

type Format = "json" | "text";

function parseFormat(s: string): Format {
  if (s !== "json" && s !== "text") throw new Error(`--format must be json or text (got "${s}")`);
  return s;
}

function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v))
    throw new Error(`--${name} must be one of ${allowed.join(", ")} (got "${v}")`);
  return v as T;
}

export function register(cmd: Command, io: CliIo): void {
  cmd
    .command("list")
    .description("incidents, newest first")
    .option("--tenant <tenant>", "the tenant (default: REBOUND_DEFAULT_TENANT)")
    .option("--status <status>", `${[...INCIDENT_STATUSES, "active"].join(", ")} (default: active)`, "active")
    .option("--severity <severity>", SEVERITIES.join(", "))
    .option("--rule <ruleId>", "only this rule's")
    .option("--limit <n>", "at most this many", "50")
    .option("--format <format>", "json or text", "text")
    .action(
      async (opts: {
        tenant?: string;
        status: string;
        severity?: string;
        rule?: string;
        limit: string;
        format: string;
      }) => {
        const format = parseFormat(opts.format);
        const status = oneOf<StatusFilter>("status", opts.status, [...INCIDENT_STATUSES, "active"]);
        const severity = oneOf<Severity>("severity", opts.severity, SEVERITIES);
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
          throw new Error("--limit must be an integer from 1 to 10000");
        const config = loadConfig();
        const tenant = opts.tenant ?? config.defaultTenant;
        const rows = await withDb(config, (db) =>
          incidentsPage(db, { tenant, status, severity, ruleId: opts.rule }, { limit }),
        );
        const list = rows.map((r) => presentIncident(r));
        if (format === "json") {
          io.stdout.write(`${JSON.stringify(list)}\n`);
          return;
        }
        for (const i of list)
          io.stdout.write(`${i.id}\t${i.status}\t${i.severity}\t${i.ruleId}\t${i.openedAt}\t${i.summary}\n`);
        if (!list.length) io.stdout.write("no incidents\n");
      },
    );

  cmd
    .command("show")
    .description("one incident with its evidence and history")
    .argument("<id>", "the incident's id")
    .option("--tenant <tenant>", "the tenant (default: REBOUND_DEFAULT_TENANT)")
    .option("--format <format>", "json or text", "text")
    .action(async (id: string, opts: { tenant?: string; format: string }) => {
      const format = parseFormat(opts.format);
      const config = loadConfig();
      const tenant = opts.tenant ?? config.defaultTenant;
      const inc = await withDb(config, async (db) => {
        const row = await getIncident(db, tenant, id);
        return row && presentIncident(row, await incidentHistory(db, String(row.id)));
      });
      if (!inc) throw new Error(`no incident ${id} in tenant ${tenant}`);
      if (format === "json") {
        io.stdout.write(`${JSON.stringify(inc)}\n`);
        return;
      }
      const ev = inc.evidence as {
        topReasons: { reason: string; rule: string | null; count: number }[];
        samples: { recipient: string; diagnostic: string | null }[];
        blocklists: string[];
      };
      const lines = [
        `incident ${inc.id} (${inc.ruleId}): ${inc.status}, ${inc.severity}`,
        inc.summary,
        `opened ${inc.openedAt}, updated ${inc.updatedAt}` +
          (inc.acknowledgedAt ? `, acknowledged ${inc.acknowledgedAt} by ${inc.acknowledgedBy}` : "") +
          (inc.resolvedAt ? `, resolved ${inc.resolvedAt} by ${inc.resolvedBy}` : ""),
        `teams: ${inc.teams.join(", ")}`,
      ];
      if (ev.blocklists.length) lines.push(`blocklists: ${ev.blocklists.join(", ")}`);
      for (const r of ev.topReasons) lines.push(`  ${r.count}\t${r.reason}${r.rule ? ` (${r.rule})` : ""}`);
      for (const s of ev.samples) lines.push(`  sample ${s.recipient}: ${s.diagnostic ?? "-"}`);
      for (const h of inc.history)
        lines.push(
          `  ${String(h.at)} ${String(h.type)}${h.severity ? ` ${String(h.severity)}` : ""}${h.route ? ` ${String(h.route)}` : ""}${h.note ? `: ${String(h.note)}` : ""}`,
        );
      io.stdout.write(`${lines.join("\n")}\n`);
    });

  for (const [name, action] of [
    ["ack", "acknowledge"],
    ["resolve", "resolve"],
  ] as const) {
    cmd
      .command(name)
      .description(
        action === "acknowledge"
          ? "acknowledge an open incident (stops its escalation)"
          : "resolve an incident by hand",
      )
      .argument("<id>", "the incident's id")
      .option("--tenant <tenant>", "the tenant (default: REBOUND_DEFAULT_TENANT)")
      .option("--note <note>", "why, for the history")
      .option("--format <format>", "json or text", "text")
      .action(async (id: string, opts: { tenant?: string; note?: string; format: string }) => {
        const format = parseFormat(opts.format);
        const config = loadConfig();
        const alerts = loadAlerts(config);
        const tenant = opts.tenant ?? config.defaultTenant;
        const now = new Date();
        const by = `cli:${operator()}`;
        const inc = await withDb(config, async (db) => {
          let queued: string[] = [];
          const row = await db.transaction().execute(async (trx) => {
            const changed =
              action === "acknowledge"
                ? await acknowledgeIncident(trx, { tenant, id, by, note: opts.note ?? null, now })
                : await resolveIncidentByHand(trx, { tenant, id, by, note: opts.note ?? null, now });
            if (changed)
              queued = await incidentEffects(
                trx,
                alerts,
                {
                  notice: action === "acknowledge" ? "acknowledged" : "resolved",
                  incident: changed,
                  by: "hand",
                },
                now,
              );
            return changed;
          });
          // Its notifications now, once each (a route that fails is retried by the worker's loop).
          const dispatcher = createAlertDispatcher({
            db,
            alerts,
            logger: createLogger(config.logLevel, undefined, config.logFormat),
            now: () => new Date(),
          });
          try {
            await dispatcher.deliverNow(queued);
          } finally {
            await dispatcher.close();
          }
          if (!row) {
            const existing = await getIncident(db, tenant, id);
            throw new Error(
              existing
                ? `incident ${id} is ${existing.status}: it cannot be ${action}d`
                : `no incident ${id} in tenant ${tenant}`,
            );
          }
          return presentIncident(row);
        });
        if (format === "json") io.stdout.write(`${JSON.stringify(inc)}\n`);
        else io.stdout.write(`incident ${inc.id} ${inc.status}\n`);
      });
  }
}

/** Who runs the command, for the history. */
function operator(): string {
  try {
    return userInfo().username;
  } catch {
    return "operator";
  }
}
