// The one question both servers ask: is this address suppressed for this tenant and stream now, and by what?
// Answered from the lookup role's mirror of the suppressions in force (suppression-mirror.ts): synchronously
// while the mirror is current, from the database (a promise) while it lags or loads.
import { normalizeAddress, type AddressHasher } from "../../core/address.js";
import type { Governing, Paused } from "./answer.js";
import type { PauseCache } from "../../alerts/pause-cache.js";
import { pauseFor } from "../../core/alerts/pause.js";
import { providerOf } from "../../core/provider.js";
import { ASK, type SuppressionMirror } from "./suppression-mirror.js";
import type { AddressDigest } from "./address-digest.js";

/** An answer now, or a promise of one (the database asked). */
export type Maybe<T> = T | Promise<T>;

export interface SuppressionCheck {
  /** `stream`: a stream, or `*` for any. An address that does not normalise is never suppressed. */
  (tenant: string, address: string, stream: string): Maybe<Governing | undefined>;
  /**
   * The same for an address given as bytes buf[from, to) where a request holds them, answered from memory with
   * no string or object made; SLOW when this path cannot answer (an address it does not normalise, memory not
   * current): then ask with the address's text.
   */
  bytes?(
    tenant: string,
    buf: Uint8Array,
    from: number,
    to: number,
    stream: string,
  ): Governing | undefined | typeof SLOW;
}

/** SuppressionCheck.bytes cannot answer this one: ask with the text. */
export const SLOW = Symbol("ask with the address's text");

/**
 * `digest` (the same key as `hashAddress`, the same case rule): the addresses it takes are answered from memory
 * with no string or object made (address-digest.ts); the others, and every answer the database must give, by
 * normalizeAddress and `hashAddress`.
 */
export function suppressionCheck(
  mirror: SuppressionMirror,
  caseSensitiveLocalPart: boolean,
  hashAddress: AddressHasher,
  digest?: AddressDigest,
): SuppressionCheck {
  const check: SuppressionCheck = (tenant, address, stream) => {
    if (digest && digest.ofString(address)) {
      const found = mirror.answerWords(tenant, digest.words, stream);
      if (found !== ASK) return found;
    }
    const n = normalizeAddress(address, { caseSensitiveLocalPart });
    if (!n.ok) return undefined;
    const hash = hashAddress(n.address);
    const found = mirror.answer(tenant, hash, stream);
    return found === ASK ? mirror.ask(tenant, hash, stream) : found;
  };
  if (digest)
    check.bytes = (tenant, buf, from, to, stream) => {
      if (!digest.ofBytes(buf, from, to)) return SLOW;
      const found = mirror.answerWords(tenant, digest.words, stream);
      return found === ASK ? SLOW : found;
    };
  return check;
}

/** Whether mail from `stream` to `address` is held by a pause (undefined: not paused). */
export interface PauseCheck {
  (tenant: string, address: string, stream: string): Maybe<Paused | undefined>;
  /**
   * True when the tenant has no pause in force as last read (the call above would answer undefined at once,
   * whatever the address): the servers then need no text of the address. False: ask the call.
   */
  none?(tenant: string): boolean;
}

/** From the pauses last read (read again in the background when older than the cache's TTL, waited for once). */
export function pauseCheck(cache: PauseCache): PauseCheck {
  const check: PauseCheck = (tenant, address, stream) => {
    if (stream === "*") return undefined;
    const pauses = cache.current(tenant);
    if (pauses) return pauses.length === 0 ? undefined : pauseFor(pauses, stream, providerOfAddress(address));
    return cache.get(tenant).then((p) => pauseFor(p, stream, providerOfAddress(address)));
  };
  check.none = (tenant) => cache.current(tenant)?.length === 0;
  return check;
}

const providerOfAddress = (address: string) => providerOf(address.slice(address.lastIndexOf("@") + 1));
