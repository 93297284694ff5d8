// The `lookup` role: the socketmap and policy delegation servers that Postfix (or Exim) asks at send time,
// answered from an in-memory index of the suppression table kept current like the API's.
import type { AddressHasher } from "../../core/address.js";
import type { Config } from "../../config.js";
import type { Logger } from "../../log.js";
import type { Metrics } from "../../metrics.js";
import type { Db } from "../../store/db.js";
import { SuppressionIndex } from "../../api/suppression-index.js";
import { suppressionCheck } from "./check.js";
import { startPolicyServer } from "./policy.js";
import { startSocketmapServer } from "./socketmap.js";

export interface LookupRole {
  socketmapPort: number;
  policyPort: number;
  close(): Promise<void>;
}

export async function startLookup(deps: {
  db: Db;
  config: Config;
  hashAddress: AddressHasher;
  logger: Logger;
  metrics: Metrics;
  now: () => Date;
}): Promise<LookupRole> {
  const { config, metrics } = deps;
  const logger = deps.logger.child({ role: "lookup" });
  const index = new SuppressionIndex(deps.db, { logger, now: deps.now });
  index.start();
  const common = {
    check: suppressionCheck(index, config.caseSensitiveLocalPart, deps.hashAddress),
    tenant: config.lookupTenant ?? config.defaultTenant,
    defaultStream: config.defaultStream,
    logger,
    onLookup: (server: "socketmap" | "policy", outcome: "suppressed" | "not_suppressed" | "error") =>
      metrics.lookups.inc({ server, outcome }),
  };
  const closers: (() => Promise<void>)[] = [() => index.stop()];
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
      close: async () => {
        for (const c of closers.reverse()) await c();
      },
    };
  } catch (err) {
    for (const c of closers.reverse()) await c();
    throw err;
  }
}
