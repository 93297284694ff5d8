// ESP events recorded through the same policy as bounces that arrive by mail: each event, in a transaction of
// its own, claims the provider's id of it (a webhook sent again records nothing twice), then goes through
// applyEvent (src/worker/apply-event.ts) like each recipient of a processed mail: decision, event, suppression,
// address state, rollups (tied to its send by Message-ID where the payload gives one), announcement.
import { attributeEsp, type EspTarget } from "../../core/esp/attribute.js";
import type { EspItem, EspProvider } from "../../core/esp/types.js";
import type { Policy } from "../../core/policy-config.js";
import type { ProviderLookup } from "../../monitor/provider-resolver.js";
import type { Db } from "../../store/db.js";
import { claimEspEvent } from "../../store/esp-events.js";
import { applyEvent } from "../../worker/apply-event.js";

export interface EspRecordDeps {
  db: Db;
  policy: Policy;
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
  for (const item of items) {
    if ("ignored" in item) {
      out.ignored++;
      continue;
    }
    if ("invalid" in item) {
      problem(item.invalid);
      continue;
    }
    const e = item.event;
    const who = attributeEsp(e, target);
    if ("error" in who) {
      problem(who.error);
      continue;
    }
    const now = deps.now();
    const eventId = await deps.db.transaction().execute(async (trx) => {
      if (!(await claimEspEvent(trx, { tenant: target.tenant, provider, eventId: e.eventId, at: now })))
        return undefined;
      const applied = await applyEvent(
        trx,
        { policy: deps.policy, now, classifierVersion: null, providers: deps.providers },
        {
          mailId: null,
          source: "esp",
          kind: e.kind,
          who,
          occurredAt: e.occurredAt,
          messageId: e.messageId,
        },
      );
      return applied.eventId ?? "";
    });
    if (eventId === undefined) out.duplicates++;
    else {
      out.recorded++;
      if (eventId) out.eventIds.push(eventId);
    }
  }
  return out;
}
