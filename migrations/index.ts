// Every migration, in order. Listed here (not read from the folder) so that the same list serves the
// compiled build and the tests. Names sort; never edit a migration that has shipped: add one.
import type { Migration } from "kysely";
import * as m0001 from "./0001_initial.js";
import * as m0002 from "./0002_webhook_deliveries_due.js";
import * as m0003 from "./0003_raw_lz4.js";
import * as m0004 from "./0004_unfinished_mails_idx.js";
import * as m0005 from "./0005_digest_received_idx.js";
import * as m0006 from "./0006_retention_idx.js";
import * as m0009 from "./0009_sends_provider.js";
import * as m0010 from "./0010_rollups.js";
import * as m0015 from "./0015_event_permanent.js";
import * as m0016 from "./0016_log_positions.js";
import * as m0018 from "./0018_monitor.js";
import * as m0019 from "./0019_esp.js";
import * as m0020 from "./0020_dmarc.js";
import * as m0017 from "./0017_alerts.js";
import * as m0022 from "./0022_address_key.js";
import * as m0023 from "./0023_incidents_updates.js";
import * as m0024 from "./0024_sends_sending_domain.js";
import * as m0025 from "./0025_log_positions_fingerprint.js";

export const migrations: Record<string, Migration> = {
  "0001_initial": m0001,
  "0002_webhook_deliveries_due": m0002,
  "0003_raw_lz4": m0003,
  "0004_unfinished_mails_idx": m0004,
  "0005_digest_received_idx": m0005,
  "0006_retention_idx": m0006,
  "0009_sends_provider": m0009,
  "0010_rollups": m0010,
  "0015_event_permanent": m0015,
  "0016_log_positions": m0016,
  "0018_monitor": m0018,
  "0019_esp": m0019,
  "0020_dmarc": m0020,
  "0017_alerts": m0017,
  "0022_address_key": m0022,
  "0023_incidents_updates": m0023,
  "0024_sends_sending_domain": m0024,
  "0025_log_positions_fingerprint": m0025,
};
