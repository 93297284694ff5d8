// Addresses in API input: the one normalisation, and a 400 with the reason for an invalid one.
import { normalizeAddress } from "../core/address.js";
import type { ApiDeps } from "./deps.js";
import { ApiError } from "./errors.js";

export interface CheckedAddress {
  address: string;
  /** Its keyed hash (ApiDeps.hashAddress). */
  hash: string;
}

export function addressOrThrow(
  input: string,
  deps: { config: Pick<ApiDeps["config"], "caseSensitiveLocalPart">; hashAddress: ApiDeps["hashAddress"] },
): CheckedAddress {
  const n = normalizeAddress(input, { caseSensitiveLocalPart: deps.config.caseSensitiveLocalPart });
  if (!n.ok)
    throw new ApiError(400, "invalid_address", `invalid address: ${n.message}`, { reason: n.error, input });
  return { address: n.address, hash: deps.hashAddress(n.address) };
}
