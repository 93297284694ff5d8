// Reads the alerts file named by the configuration (REBOUND_ALERTS). The I/O edge of src/core/alerts/config.ts.
import { readFileSync } from "node:fs";
import type { Config } from "../config.js";
import {
  AlertsConfigError,
  DEFAULT_ALERTS,
  parseAlertsConfig,
  withRelay,
  type AlertsConfig,
} from "../core/alerts/config.js";

/**
 * The alerting configuration: the file at `config.alertsPath` over the shipped defaults (the defaults when
 * unset), its e-mail routes through the configuration's relay (REBOUND_MAIL_RELAY_URL).
 */
export function loadAlerts(
  config: Pick<Config, "alertsPath"> & Partial<Pick<Config, "mailRelayUrl" | "mailFrom">>,
): AlertsConfig {
  const relay = config.mailRelayUrl
    ? { smtpUrl: config.mailRelayUrl, from: config.mailFrom ?? "rebound@localhost" }
    : undefined;
  if (!config.alertsPath) return withRelay(DEFAULT_ALERTS, relay, "REBOUND_ALERTS");
  let text: string;
  try {
    text = readFileSync(config.alertsPath, "utf8");
  } catch (err) {
    throw new AlertsConfigError(
      `REBOUND_ALERTS: cannot read ${config.alertsPath}: ${(err as Error).message}`,
    );
  }
  return parseAlertsConfig(text, `REBOUND_ALERTS file ${config.alertsPath}`, relay);
}
