// The one question both servers ask: is this address suppressed for this tenant and stream now, and by what?
// Answered from the lookup role's mirror of the suppressions in force (suppression-mirror.ts): synchronously
// while the mirror is current, from the database (a promise) while it lags or loads.
import { normalizeAddress, type AddressHasher } from "../../core/address.js";
import type { Governing, Paused } from "./answer.js";
import type { PauseCache } from "../../alerts/pause-cache.js";
import { pauseFor } from "../../core/alerts/pause.js";
import { providerOf } from "../../core/provider.js";
import { ASK, type SuppressionMirror } from "./suppression-mirror.js";

/** An answer now, or a promise of one (the database asked). */
export type Maybe<T> = T | Promise<T>;

export interface SuppressionCheck {
  /** `stream`: a stream, or `*` for any. An address that does not normalise is never suppressed. */
  (tenant: string, address: string, stream: string): Maybe<Governing | undefined>;
}

export function suppressionCheck(
  mirror: SuppressionMirror,
  caseSensitiveLocalPart: boolean,
  hashAddress: AddressHasher,
): SuppressionCheck {
  return (tenant, address, stream) => {
    const n = normalizeAddress(address, { caseSensitiveLocalPart });
    if (!n.ok) return undefined;
    const hash = hashAddress(n.address);
    const found = mirror.answer(tenant, hash, stream);
    return found === ASK ? mirror.ask(tenant, hash, stream) : found;
  };
}

/** Whether mail from `stream` to `address` is held by a pause (undefined: not paused). */
export interface PauseCheck {
  (tenant: string, address: string, stream: string): Maybe<Paused | undefined>;
}

/** From the pauses last read (read again in the background when older than the cache's TTL, waited for once). */
export function pauseCheck(cache: PauseCache): PauseCheck {
  return (tenant, address, stream) => {
    if (stream === "*") return undefined;
    const pauses = cache.current(tenant);
    if (pauses) return pauses.length === 0 ? undefined : pauseFor(pauses, stream, providerOfAddress(address));
    return cache.get(tenant).then((p) => pauseFor(p, stream, providerOfAddress(address)));
  };
}

const providerOfAddress = (address: string) => providerOf(address.slice(address.lastIndexOf("@") + 1));
