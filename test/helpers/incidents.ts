// Incidents opened the way the alert loop opens them: this hour's rollups for a tenant (provider google, no
// sending IP), then one round of the alert engine over them.
import { createAlertEngine } from "../../src/alerts/engine.js";
import { DEFAULT_ALERTS, type AlertsConfig } from "../../src/core/alerts/config.js";
import { hourOf } from "../../src/core/rollup.js";
import { createLogger } from "../../src/log.js";
import type { Db } from "../../src/store/db.js";
import { addToRollups } from "../../src/store/rollups.js";

export interface HourCounts {
  stream: string;
  campaign: string;
  counts: Record<string, number>;
  /** google unless given. */
  provider?: string;
}

/**
 * Adds `rows` to this hour's rollups of `tenant`, then runs the alert rules once: `alerts` (the shipped ones
 * unless given), for `tenants` (the engine's list; none unless given).
 */
export async function openIncidents(
  db: Db,
  tenant: string,
  rows: HourCounts[],
  o: { alerts?: AlertsConfig; tenants?: string[] } = {},
): Promise<void> {
  const hour = hourOf(new Date());
  await addToRollups(
    db,
    rows.map((r) => ({ tenant, hour, provider: "google", sendingIp: "", ...r })),
  );
  const engine = createAlertEngine({
    db,
    alerts: o.alerts ?? DEFAULT_ALERTS,
    logger: createLogger("silent"),
    now: () => new Date(),
    tenants: o.tenants ?? [],
  });
  await engine.runOnce();
  await engine.stop();
}
