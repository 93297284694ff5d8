// The one question both servers ask: is this address suppressed for this tenant and stream now, and by what?
// Answered from the API's in-memory index (most addresses are ruled out without a query) and the database.
import type { SuppressionIndex } from "../../api/suppression-index.js";
import { applying, governing } from "../../api/present.js";
import { normalizeAddress, type AddressHasher } from "../../core/address.js";
import type { Governing } from "./answer.js";

export interface SuppressionCheck {
  /** `stream`: a stream, or `*` for any. An address that does not normalise is never suppressed. */
  (tenant: string, address: string, stream: string): Promise<Governing | undefined>;
}

export function suppressionCheck(
  index: SuppressionIndex,
  caseSensitiveLocalPart: boolean,
  hashAddress: AddressHasher,
): SuppressionCheck {
  return async (tenant, address, stream) => {
    const n = normalizeAddress(address, { caseSensitiveLocalPart });
    if (!n.ok) return undefined;
    const hash = hashAddress(n.address);
    if (!index.mightContain(tenant, hash)) return undefined;
    const rows = (await index.lookup(tenant, [hash])).get(hash);
    const top = governing(applying(rows, stream === "*" ? undefined : stream));
    if (!top) return undefined;
    return {
      stream: top.stream,
      reason: top.reason,
      class: top.class,
      since: top.first_seen,
      until: top.expires_at,
    };
  };
}
