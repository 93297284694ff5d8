// `rebound report`: the deliverability report of the last complete week or month, on standard output as HTML
// (the mail's body), JSON (the report model) or CSV (its figure rows).
import type { Command } from "commander";
import { loadConfig } from "../config.js";
import {
  REPORT_FORMATS,
  REPORT_PERIODS,
  type ReportFormat,
  type ReportPeriod,
} from "../core/deliverability-report.js";
import { renderReport } from "../core/report-render.js";
import { buildReport } from "../monitor/report.js";
import type { CliIo } from "./io.js";
import { withDb } from "./with-db.js";

export function register(report: Command, io: CliIo): void {
  report
    .option("--period <period>", `${REPORT_PERIODS.join(" | ")}: the last complete one`, "week")
    .option("--tenant <name>", "the tenant (default: REBOUND_DEFAULT_TENANT)")
    .option("--format <format>", REPORT_FORMATS.join(" | "), "html")
    .option("--as-of <date>", "the period is the last complete one before this date-time (default: now)")
    .action(async (opts: { period: string; tenant?: string; format: string; asOf?: string }) => {
      if (!(REPORT_PERIODS as readonly string[]).includes(opts.period))
        throw new Error(`--period must be one of ${REPORT_PERIODS.join(", ")}`);
      if (!(REPORT_FORMATS as readonly string[]).includes(opts.format))
        throw new Error(`--format must be one of ${REPORT_FORMATS.join(", ")}`);
      const now = opts.asOf ? new Date(opts.asOf) : new Date();
      if (Number.isNaN(now.getTime())) throw new Error(`--as-of is not a date-time: ${opts.asOf}`);
      const config = loadConfig();
      const model = await withDb(config, (db) =>
        buildReport(db, {
          tenant: opts.tenant ?? config.defaultTenant,
          period: opts.period as ReportPeriod,
          now,
        }),
      );
      io.stdout.write(renderReport(model, opts.format as ReportFormat));
    });
}
