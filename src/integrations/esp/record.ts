// ESP events recorded through the same policy as bounces that arrive by mail, a request in one transaction: the
// provider's ids of its events are claimed (a webhook sent again records nothing twice), then the new events go
// through the worker's bulk path (src/worker/apply-bulk.ts, as `ingest postfix-log` does): decision, event,
// suppression, address state, announcement, and rollups (tied to the send by Message-ID where the payload gives
// one). A failure records nothing, and the provider's retry records it all.
import { attributeEsp, type EspTarget } from "../../core/esp/attribute.js";
import type { EspEvent, EspItem, EspProvider } from "../../core/esp/types.js";
import type { AddressHasher } from "../../core/address.js";
import type { Attributed } from "../../core/attribute.js";
import type { Policy } from "../../core/policy-config.js";
import { RollupCollector } from "../../core/rollup.js";
import type { ProviderLookup } from "../../monitor/provider-resolver.js";
import type { Db } from "../../store/db.js";
import { claimEspEvents } from "../../store/esp-events.js";
import { addToRollups } from "../../store/rollups.js";
import { keyOf } from "../../worker/apply-event.js";
import {
  applyInBulk,
  applyWithHistories,
  bulkableWithHistory,
  type BulkItem,
} from "../../worker/apply-bulk.js";

export interface EspRecordDeps {
  db: Db;
  policy: Policy;
  /** The deployment's keyed address hash (src/core/address.ts). */
  hashAddress: AddressHasher;
  now: () => Date;
  providers?: ProviderLookup;
}

export interface EspOutcome {
  /** Events recorded now. */
  recorded: number;
  /** Events recorded before (the provider sent them again). */
  duplicates: number;
  /** Events of types Rebound does not record (opens, clicks, ...), by the mapping entry that says so. */
  ignored: number;
  /** Items that are no event Rebound can record (no recipient, an invalid address, ...), with why (the first few). */
  invalid: number;
  problems: string[];
  /** The ids of the events recorded now. */
  eventIds: string[];
}

const MAX_PROBLEMS = 10;

export async function recordEspItems(
  deps: EspRecordDeps,
  provider: EspProvider,
  target: EspTarget,
  items: readonly EspItem[],
): Promise<EspOutcome> {
  const out: EspOutcome = { recorded: 0, duplicates: 0, ignored: 0, invalid: 0, problems: [], eventIds: [] };
  const problem = (why: string) => {
    out.invalid++;
    if (out.problems.length < MAX_PROBLEMS) out.problems.push(why);
  };
  const events: { e: EspEvent; who: Attributed }[] = [];
  const ids = new Set<string>();
  for (const item of items) {
    if ("ignored" in item) out.ignored++;
    else if ("invalid" in item) problem(item.invalid);
    else if (ids.has(item.event.eventId))
      out.duplicates++; // the same event twice in one request
    else {
      const who = attributeEsp(item.event, target);
      if ("error" in who) problem(who.error);
      else {
        ids.add(item.event.eventId);
        events.push({ e: item.event, who });
      }
    }
  }
  if (!events.length) return out;

  const now = deps.now();
  const rollups = new RollupCollector();
  const ctx = {
    policy: deps.policy,
    hashAddress: deps.hashAddress,
    now,
    classifierVersion: null,
    providers: deps.providers,
    rollups,
  };
  const written = await deps.db.transaction().execute(async (trx) => {
    const fresh = await claimEspEvents(trx, { tenant: target.tenant, provider, eventIds: [...ids], at: now });
    const todo = events.filter(({ e }) => fresh.has(e.eventId));
    // Rounds with one event per address at most (the bulk path writes each address's events of a round
    // together), in the request's order; each round's addresses in key order (locks taken in one order).
    const rounds: BulkItem[][] = [];
    const seen = new Map<string, number>();
    for (const { e, who } of todo) {
      const k = keyOf(who.tenant, who.stream, who.address);
      const r = seen.get(k) ?? 0;
      seen.set(k, r + 1);
      (rounds[r] ??= []).push({
        ctx,
        spec: {
          mailId: null,
          source: "esp",
          kind: e.kind,
          who,
          occurredAt: e.occurredAt,
          messageId: e.messageId,
          sendingDomain: e.sendingDomain,
        },
      });
    }
    const made: string[] = [];
    for (const round of rounds) {
      const key = (i: BulkItem) => keyOf(i.spec.who.tenant, i.spec.who.stream, i.spec.who.address);
      round.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
      const withHistory = round.filter(bulkableWithHistory);
      const without = round.filter((i) => !bulkableWithHistory(i));
      for (const applied of [
        ...(withHistory.length ? await applyWithHistories(trx, withHistory) : []),
        ...(without.length ? await applyInBulk(trx, without) : []),
      ])
        if (applied.eventId) made.push(applied.eventId);
    }
    await addToRollups(trx, rollups.take());
    return { made, duplicates: events.length - todo.length };
  });
  out.recorded = written.made.length;
  out.duplicates += written.duplicates;
  out.eventIds = written.made;
  return out;
}
