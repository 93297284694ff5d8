// Retention, run by every role (intake, worker, api): on a timer (hourly; the first pass at start) raw mail,
// events, mail metadata, logs, resolved incidents (with their history and notifications), resumed stream pauses,
// DMARC, TLS and authentication failure reports and ESP event ids past their settings are deleted, and
// suppressions past their expiry. The deletes skip rows another process has locked, so any number of processes
// may run it at once.
import type { Config } from "./config.js";
import type { Logger } from "./log.js";
import type { Db } from "./store/db.js";
import { purgeRaw } from "./store/mails.js";
import { purgeEspClaims } from "./store/esp-events.js";
import {
  purgeAuthFailureReports,
  purgeDmarcReports,
  purgeEvents,
  purgeLogs,
  purgeMails,
  purgeTlsReports,
} from "./store/retention.js";
import { purgeIncidents } from "./store/incidents.js";
import { purgeRollups } from "./store/rollups.js";
import { purgeResumedPauses } from "./store/stream-pauses.js";
import { expireSuppressions } from "./store/suppressions.js";

export type RetentionConfig = Pick<
  Config,
  | "rawRetentionDays"
  | "eventRetentionDays"
  | "mailRetentionDays"
  | "logRetentionDays"
  | "rollupHourlyRetentionDays"
  | "rollupDailyRetentionDays"
  | "espEventRetentionDays"
  | "dmarcRetentionDays"
  | "tlsReportRetentionDays"
  | "incidentRetentionDays"
>;

export interface RetentionDeps {
  db: Db;
  config: RetentionConfig;
  logger: Logger;
  now?: () => Date;
}

/** What one pass deleted. */
export interface RetentionPass {
  rawPurged: number;
  eventsDeleted: number;
  mailsDeleted: number;
  logRowsDeleted: number;
  suppressionsExpired: number;
  rollupRowsDeleted: number;
  /** Incidents resolved longer ago than REBOUND_INCIDENT_RETENTION_DAYS (their history and notifications too). */
  incidentsDeleted: number;
  /** Stream pauses resumed longer ago than REBOUND_INCIDENT_RETENTION_DAYS (a pause in force never goes). */
  streamPausesDeleted: number;
  /** ESP event ids older than REBOUND_ESP_EVENT_RETENTION_DAYS, kept to record a webhook sent again once. */
  espClaimsDeleted: number;
  /** DMARC aggregate reports (their rows went with them) and RFC 6591 authentication failure reports. */
  dmarcReportsDeleted: number;
  tlsReportsDeleted: number;
}

export interface Retention {
  /** One pass now. A step that fails is logged and counted as 0; the others still run. */
  run(): Promise<RetentionPass>;
  stop(): void;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function startRetention(deps: RetentionDeps, opts: { intervalMs?: number } = {}): Retention {
  const now = deps.now ?? (() => new Date());
  const logger = deps.logger.child({ task: "retention" });
  const c = deps.config;
  const ago = (days: number) => new Date(now().getTime() - days * DAY_MS);

  const step = async (name: string, days: number, f: (before: Date) => Promise<number>): Promise<number> => {
    // 0 days: kept forever.
    if (!days) return 0;
    try {
      return await f(ago(days));
    } catch (err) {
      logger.warn(
        { err: err instanceof Error ? err.message : String(err), step: name },
        "retention step failed",
      );
      return 0;
    }
  };

  let running: Promise<RetentionPass> | undefined;
  const run = (): Promise<RetentionPass> =>
    (running ??= (async () => {
      const pass: RetentionPass = {
        rawPurged: await step("raw", c.rawRetentionDays, (b) => purgeRaw(deps.db, b)),
        eventsDeleted: await step("events", c.eventRetentionDays, (b) => purgeEvents(deps.db, b)),
        mailsDeleted: await step("mails", c.mailRetentionDays, (b) => purgeMails(deps.db, b)),
        logRowsDeleted: await step("logs", c.logRetentionDays, (b) => purgeLogs(deps.db, b)),
        suppressionsExpired: await step("expired suppressions", 1, () => expireSuppressions(deps.db, now())),
        rollupRowsDeleted:
          (await step("hourly rollups", c.rollupHourlyRetentionDays, (b) =>
            purgeRollups(deps.db, { hourlyBefore: b }),
          )) +
          (await step("daily rollups", c.rollupDailyRetentionDays, (b) =>
            purgeRollups(deps.db, { dailyBefore: b }),
          )),
        espClaimsDeleted: await step("esp event ids", c.espEventRetentionDays, (b) =>
          purgeEspClaims(deps.db, b),
        ),
        dmarcReportsDeleted:
          (await step("dmarc reports", c.dmarcRetentionDays, (b) => purgeDmarcReports(deps.db, b))) +
          (await step("auth failure reports", c.dmarcRetentionDays, (b) =>
            purgeAuthFailureReports(deps.db, b),
          )),
        tlsReportsDeleted: await step("tls reports", c.tlsReportRetentionDays, (b) =>
          purgeTlsReports(deps.db, b),
        ),
        incidentsDeleted: await step("resolved incidents", c.incidentRetentionDays, (b) =>
          purgeIncidents(deps.db, b),
        ),
        streamPausesDeleted: await step("resumed stream pauses", c.incidentRetentionDays, (b) =>
          purgeResumedPauses(deps.db, b),
        ),
      };
      if (Object.values(pass).some((n) => n > 0)) logger.info(pass, "retention pass");
      return pass;
    })().finally(() => (running = undefined)));

  const tick = () => void run();
  tick();
  const timer = setInterval(tick, opts.intervalMs ?? 60 * 60 * 1000);
  timer.unref();
  return { run, stop: () => clearInterval(timer) };
}
