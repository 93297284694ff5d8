// An ESP event tied to the tenant and stream of the endpoint it came through. Pure.
//
// The tenant is the endpoint's (its credentials authenticated the request). The stream is the one the message
// names in its custom field (STREAM_FIELD) when that is a stream name (and one of the configured streams, when
// some are), else the endpoint's.
import { normalizeAddress } from "../address.js";
import type { Attributed } from "../attribute.js";
import { VERP_NAME } from "../verp.js";
import type { EspEvent } from "./types.js";

export interface EspTarget {
  tenant: string;
  stream: string;
  /** The streams a message may name (REBOUND_STREAMS); empty: any stream name. */
  streams: readonly string[];
  caseSensitiveLocalPart: boolean;
}

export function attributeEsp(e: EspEvent, t: EspTarget): Attributed | { error: string } {
  const n = normalizeAddress(e.recipient.recipient, { caseSensitiveLocalPart: t.caseSensitiveLocalPart });
  if (!n.ok) return { error: `${e.recipient.recipient.slice(0, 100)}: ${n.message}` };
  const named = e.stream?.trim().toLowerCase();
  const stream =
    named && VERP_NAME.test(named) && (t.streams.length === 0 || t.streams.includes(named))
      ? named
      : t.stream;
  return {
    address: n.address,
    addressOriginal: e.recipient.recipient,
    domain: n.domain,
    tenant: t.tenant,
    stream,
    // The provider's signature (or credentials) authenticated the request: as trusted as the API.
    verification: "verified",
    verpKeyId: null,
    recipient: { ...e.recipient, recipient: n.address },
  };
}
