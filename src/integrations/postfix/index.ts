// The `lookup` role: the socketmap and policy delegation servers that Postfix (or Exim) asks at send time,
// answered from memory: a mirror of the suppressions in force kept exact by following the suppression log
// (suppression-mirror.ts), and the pauses last read (read again each second in the background).
import type { AddressHasher } from "../../core/address.js";
import type { Config } from "../../config.js";
import type { Logger } from "../../log.js";
import type { Metrics } from "../../metrics.js";
import type { Db } from "../../store/db.js";
import { SuppressionMirror } from "./suppression-mirror.js";
import { AddressDigest } from "./address-digest.js";
import { pauseCheck, suppressionCheck } from "./check.js";
import { PauseCache } from "../../alerts/pause-cache.js";
import { startPolicyServer } from "./policy.js";
import { startSocketmapServer } from "./socketmap.js";

export interface LookupRole {
  socketmapPort: number;
  policyPort: number;
  /** Resolves once the suppressions in force are loaded in memory (lookups ask the database until then). */
  ready: Promise<void>;
  close(): Promise<void>;
}

export async function startLookup(deps: {
  db: Db;
  config: Config;
  hashAddress: AddressHasher;
  /** The key `hashAddress` hashes with: given, most lookups make no string or object (address-digest.ts). */
  addressKey?: Uint8Array;
  logger: Logger;
  metrics: Metrics;
  now: () => Date;
  /** The same clock in milliseconds (no Date per lookup); default: `now`'s. */
  nowMs?: () => number;
  mirror?: SuppressionMirror;
}): Promise<LookupRole> {
  const { config, metrics } = deps;
  const logger = deps.logger.child({ role: "lookup" });
  // The process's copy when the API runs here too (src/main.ts starts and stops it), else one of its own.
  const mirror = deps.mirror ?? suppressionMirrorOf({ ...deps, logger });
  if (!deps.mirror) mirror.start();
  const common = {
    check: suppressionCheck(
      mirror,
      config.caseSensitiveLocalPart,
      deps.hashAddress,
      deps.addressKey && new AddressDigest(deps.addressKey, config.caseSensitiveLocalPart),
    ),
    paused: pauseCheck(new PauseCache(deps.db)),
    tenant: config.lookupTenant ?? config.defaultTenant,
    defaultStream: config.defaultStream,
    logger,
    onLookup: metrics.countLookup,
  };
  const closers: (() => Promise<void>)[] = deps.mirror ? [] : [() => mirror.stop()];
  try {
    const socketmap = await startSocketmapServer(common, config.lookupHost, config.lookupSocketmapPort);
    closers.push(() => socketmap.close());
    const policy = await startPolicyServer(
      {
        ...common,
        verpKeys: config.verpKeys,
        senderStreams: config.lookupSenderStreams,
        defaultTenant: config.defaultTenant,
      },
      config.lookupHost,
      config.lookupPolicyPort,
    );
    closers.push(() => policy.close());
    logger.info(
      { host: config.lookupHost, socketmap: socketmap.port, policy: policy.port },
      "lookup servers listening (socketmap, policy delegation)",
    );
    return {
      socketmapPort: socketmap.port,
      policyPort: policy.port,
      ready: mirror.ready,
      close: async () => {
        for (const c of closers.reverse()) await c();
      },
    };
  } catch (err) {
    for (const c of closers.reverse()) await c();
    throw err;
  }
}

/**
 * The copy of the suppressions in force as configured (REBOUND_LOOKUP_MAX_STALENESS_MS, the log read ten times
 * within it), its freshness in rebound_lookup_mirror_fresh_seconds: the lookup role's, and the API's when both run
 * in one process. Not started.
 */
export function suppressionMirrorOf(deps: {
  db: Db;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  now: () => Date;
  nowMs?: () => number;
}): SuppressionMirror {
  const { config, metrics } = deps;
  return new SuppressionMirror(deps.db, {
    logger: deps.logger,
    now: deps.now,
    nowMs: deps.nowMs,
    maxStalenessMs: config.lookupMaxStalenessMs,
    pollMs: Math.max(10, Math.floor(config.lookupMaxStalenessMs / 10)),
    onPoll: (at) => metrics.lookupMirrorFresh.set(at.getTime() / 1000),
  });
}
