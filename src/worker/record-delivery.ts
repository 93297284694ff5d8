// A delivery a sender reports (POST /v1/deliveries): an event of class `delivered` through the policy, which
// resets the address's soft-bounce counts in that stream. One transaction.
import type { Kysely } from "kysely";
import { normalizeAddress, type AddressHasher } from "../core/address.js";
import type { Decision } from "../core/policy.js";
import type { Policy } from "../core/policy-config.js";
import type { Database } from "../store/schema.js";
import { applyEvent } from "./apply-event.js";

export interface DeliveryInput {
  tenant: string;
  stream: string;
  address: string;
  /** When it was delivered (default: now). */
  occurredAt?: Date;
  /** The event's source (default `api`). */
  source?: string;
  caseSensitiveLocalPart?: boolean;
}

export class InvalidAddressError extends Error {}

export async function recordDelivery(
  deps: { db: Kysely<Database>; policy: Policy; hashAddress: AddressHasher; now: () => Date },
  d: DeliveryInput,
): Promise<{ eventId: string; decision: Decision }> {
  const n = normalizeAddress(d.address, { caseSensitiveLocalPart: d.caseSensitiveLocalPart });
  if (!n.ok) throw new InvalidAddressError(n.message);
  const now = deps.now();
  return deps.db.transaction().execute(async (trx) => {
    const applied = await applyEvent(
      trx,
      { policy: deps.policy, hashAddress: deps.hashAddress, now, classifierVersion: null },
      {
        mailId: null,
        source: d.source ?? "api",
        kind: "delivery",
        occurredAt: d.occurredAt ?? now,
        who: {
          address: n.address,
          addressOriginal: d.address,
          domain: n.domain,
          tenant: d.tenant,
          stream: d.stream,
          // reported by the sender itself, over an authenticated API
          verification: "verified",
          verpKeyId: null,
          recipient: {
            recipient: n.address,
            reason: "delivered",
            class: "delivered",
            permanent: null,
            rule: "api.delivery",
            parser: "header",
          },
        },
      },
    );
    return { eventId: applied.eventId ?? "", decision: applied.decision };
  });
}
