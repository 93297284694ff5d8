// Addresses in API input: the one normalisation, and a 400 with the reason for an invalid one.
import { hashAddress, normalizeAddress } from "../core/address.js";
import { ApiError } from "./errors.js";

export interface CheckedAddress {
  address: string;
  hash: string;
}

export function addressOrThrow(input: string, caseSensitiveLocalPart: boolean): CheckedAddress {
  const n = normalizeAddress(input, { caseSensitiveLocalPart });
  if (!n.ok)
    throw new ApiError(400, "invalid_address", `invalid address: ${n.message}`, { reason: n.error, input });
  return { address: n.address, hash: hashAddress(n.address) };
}
