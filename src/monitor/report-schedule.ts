// Scheduled deliverability reports: on REBOUND_REPORT_SCHEDULE (a cron pattern, UTC; croner), each tenant's
// report of the period just ended is mailed through the SMTP relay (REBOUND_MAIL_RELAY_URL, nodemailer) to
// REBOUND_REPORT_TO. Every
// process that runs the schedule tries; the one that takes the period's row in report_runs sends it, so a report
// goes out once however many processes run. A failed send is logged and taken again at the next tick.
import { Cron } from "croner";
import nodemailer from "nodemailer";
import { smtpRelayOptions } from "../util/smtp-relay.js";
import type { Config } from "../config.js";
import type { ReportPeriod } from "../core/deliverability-report.js";
import { reportCsv, reportHtml, reportSubject, reportText } from "../core/report-render.js";
import type { Logger } from "../log.js";
import type { Db } from "../store/db.js";
import { claimReportRun, finishReportRun } from "../store/report-runs.js";
import { buildReport } from "./report.js";

export type ReportScheduleConfig = Pick<
  Config,
  | "reportSchedule"
  | "reportPeriod"
  | "reportTenants"
  | "reportTo"
  | "mailFrom"
  | "mailRelayUrl"
  | "defaultTenant"
>;

export interface ReportDeps {
  db: Db;
  config: ReportScheduleConfig;
  logger: Logger;
  now?: () => Date;
}

export interface ReportMail {
  from: string;
  to: string[];
  subject: string;
  html: string;
  text: string;
  csv: { filename: string; content: string };
}

/** A report's mail: HTML with the charts, a plain-text part, the figures as a CSV attachment. */
export function reportMail(
  model: Parameters<typeof reportHtml>[0],
  o: { from: string; to: string[] },
): ReportMail {
  return {
    from: o.from,
    to: o.to,
    subject: reportSubject(model),
    html: reportHtml(model),
    text: reportText(model),
    csv: { filename: `rebound-${model.tenant}-${model.from.slice(0, 10)}.csv`, content: reportCsv(model) },
  };
}

export async function sendReportMail(smtpUrl: string, m: ReportMail): Promise<void> {
  const transport = nodemailer.createTransport(smtpRelayOptions(smtpUrl, 60_000));
  try {
    await transport.sendMail({
      from: m.from,
      to: m.to,
      subject: m.subject,
      text: m.text,
      html: m.html,
      attachments: [{ filename: m.csv.filename, content: m.csv.content, contentType: "text/csv" }],
    });
  } finally {
    transport.close();
  }
}

export interface ReportTick {
  sent: string[];
  /** Taken by another process, or sent before. */
  skipped: string[];
  failed: string[];
}

/** One tick of the schedule: each tenant's report of the period just ended, sent by whoever takes it first. */
export async function sendScheduledReports(deps: ReportDeps): Promise<ReportTick> {
  const c = deps.config;
  const now = (deps.now ?? (() => new Date()))();
  const period: ReportPeriod = c.reportPeriod;
  const tick: ReportTick = { sent: [], skipped: [], failed: [] };
  if (!c.mailRelayUrl || !c.reportTo.length) return tick;
  const tenants = c.reportTenants.length ? c.reportTenants : [c.defaultTenant];
  for (const tenant of tenants) {
    const model = await buildReport(deps.db, { tenant, period, now });
    const key = { tenant, period, periodStart: new Date(model.from) };
    if (!(await claimReportRun(deps.db, key, now))) {
      tick.skipped.push(tenant);
      continue;
    }
    try {
      await sendReportMail(c.mailRelayUrl, reportMail(model, { from: c.mailFrom, to: c.reportTo }));
      await finishReportRun(deps.db, key, {}, new Date());
      tick.sent.push(tenant);
      deps.logger.info({ tenant, period, from: model.from }, "report sent");
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      await finishReportRun(deps.db, key, { error }, new Date());
      tick.failed.push(tenant);
      deps.logger.warn(
        { tenant, period, from: model.from, err: error },
        "report not sent; retried next time",
      );
    }
  }
  return tick;
}

/**
 * Runs sendScheduledReports on REBOUND_REPORT_SCHEDULE; undefined when no schedule is set. An invalid pattern
 * throws a clear error at start.
 */
export function startReportSchedule(deps: ReportDeps): { stop(): void } | undefined {
  const pattern = deps.config.reportSchedule;
  if (!pattern) return undefined;
  const logger = deps.logger.child({ task: "reports" });
  let job: Cron;
  try {
    job = new Cron(pattern, { timezone: "UTC", protect: true }, async () => {
      try {
        await sendScheduledReports({ ...deps, logger });
      } catch (err) {
        logger.warn({ err: err instanceof Error ? err.message : String(err) }, "report tick failed");
      }
    });
  } catch (err) {
    throw new Error(
      `REBOUND_REPORT_SCHEDULE: "${pattern}" is not a cron pattern (${err instanceof Error ? err.message : String(err)}); e.g. "0 7 * * 1", Mondays at 07:00 UTC`,
    );
  }
  logger.info({ next: job.nextRun()?.toISOString(), period: deps.config.reportPeriod }, "reports scheduled");
  return { stop: () => job.stop() };
}
