// What the API needs from the composition root.
import type { FastifyInstance } from "fastify";
import type { Kysely } from "kysely";
import type { Config } from "../config.js";
import type { AlertsConfig } from "../core/alerts/config.js";
import type { AddressHasher } from "../core/address.js";
import type { SuppressionMirror } from "../integrations/postfix/suppression-mirror.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import type { ProviderLookup } from "../monitor/provider-resolver.js";
import type { Queue } from "../queue/types.js";
import type { Database } from "../store/schema.js";
import type { HeapGrowth } from "../util/heap.js";

export interface ApiDeps {
  db: Kysely<Database>;
  config: Config;
  /** The keyed hash every table files addresses under (src/address-key.ts). */
  hashAddress: AddressHasher;
  logger: Logger;
  queue?: Queue;
  now?: () => Date;
  /** Counted into and served at `GET /metrics` (a registry of its own is made when absent). */
  metrics?: Metrics;
  /** The process's heap growth bound (startApi sets it); exports relax it while they stream. */
  heapGrowth?: HeapGrowth;
  /** Resolves recipient domains' mailbox providers (sends); absent: the provider table alone. */
  providers?: ProviderLookup;
  /** The alert rules and routes in effect (REBOUND_ALERTS); absent: the shipped defaults, no routes. */
  alerts?: AlertsConfig;
  /** The process's copy of the suppressions in force when the lookup role keeps it too (src/main.ts). */
  suppressionMirror?: SuppressionMirror;
}

/** A resource module: `src/api/routes/<name>.ts` default-exports one, registered under `/v1`. */
export type RouteModule = (app: FastifyInstance, deps: ApiDeps) => Promise<void>;
