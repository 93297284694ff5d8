// One normalisation of e-mail addresses everywhere: lookups, storage, imports, exports.
import { hash } from "node:crypto";
import { domainToASCII } from "node:url";

export const ADDRESS_ERRORS = [
  "empty",
  "no_at_sign",
  "empty_local_part",
  "bad_local_part",
  "local_part_too_long",
  "bad_domain",
  "too_long",
  "control_character",
] as const;
export type AddressError = (typeof ADDRESS_ERRORS)[number];

export type NormalizedAddress =
  | { ok: true; address: string; local: string; domain: string }
  | { ok: false; error: AddressError; message: string };

export interface NormalizeOptions {
  /** Keep the local part's case (RFC 5321 allows case-sensitive local parts; almost no provider uses it). */
  caseSensitiveLocalPart?: boolean;
}

/** C0 and C1 control characters and DEL: never part of an address (trimmed ones aside). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

const fail = (error: AddressError, message: string): NormalizedAddress => ({ ok: false, error, message });

/**
 * Trim, strip angle brackets and a `mailto:`, lower-case and IDN-fold the domain (to its ASCII, punycode form),
 * lower-case the local part unless told not to.
 */
export function normalizeAddress(input: string, opts: NormalizeOptions = {}): NormalizedAddress {
  let s = input.trim();
  if (s.startsWith("<") && s.endsWith(">")) s = s.slice(1, -1).trim();
  if (/^mailto:/i.test(s)) s = s.slice(7);
  if (!s) return fail("empty", "the address is empty");
  if (CONTROL.test(s))
    return fail("control_character", "the address has a control character (NUL, a line break, ...)");
  if (s.length > 320) return fail("too_long", "the address is longer than 320 characters");
  const at = s.lastIndexOf("@");
  if (at < 0) return fail("no_at_sign", "the address has no @");
  let local = s.slice(0, at);
  const rawDomain = s.slice(at + 1).replace(/\.$/, "");
  if (!local) return fail("empty_local_part", "the address has nothing before the @");
  if (Buffer.byteLength(local, "utf8") > 64)
    return fail("local_part_too_long", "the local part is longer than 64 octets");
  if (/[\s<>()\[\],;\\]/.test(local) && !/^".*"$/.test(local))
    return fail("bad_local_part", "the local part has characters an address cannot have unquoted");
  if (rawDomain.startsWith("[") && rawDomain.endsWith("]")) {
    return {
      ok: true,
      address: `${opts.caseSensitiveLocalPart ? local : local.toLowerCase()}@${rawDomain}`,
      local,
      domain: rawDomain,
    };
  }
  const domain = foldDomain(rawDomain.toLowerCase());
  if (!domain) return fail("bad_domain", `the domain "${rawDomain}" is not a valid domain name`);
  if (!opts.caseSensitiveLocalPart) local = local.toLowerCase();
  return { ok: true, address: `${local}@${domain}`, local, domain };
}

// Lists and lookups repeat a few domains (gmail.com, ...): folding and checking one costs more than the
// rest of the address, so the outcome is remembered ("" for an invalid domain).
const foldedDomains = new Map<string, string>();
const MAX_FOLDED_DOMAINS = 10_000;

/** A lower-cased domain IDN-folded to ASCII, or "" when it is not a valid domain name. */
function foldDomain(lower: string): string {
  let folded = foldedDomains.get(lower);
  if (folded === undefined) {
    const domain = domainToASCII(lower);
    const valid =
      domain.includes(".") &&
      /^[a-z0-9.-]+$/.test(domain) &&
      !domain.split(".").some((l) => !l || l.length > 63 || l.startsWith("-") || l.endsWith("-"));
    folded = valid ? domain : "";
    if (foldedDomains.size >= MAX_FOLDED_DOMAINS) foldedDomains.clear();
    foldedDomains.set(lower, folded);
  }
  return folded;
}

/** The keyed hash of a normalised address (hex): how every table files an address, and what an erasure keeps. */
export type AddressHasher = (normalized: string) => string;

/** The least length of an address-hash key, in bytes. */
export const ADDRESS_KEY_MIN_BYTES = 32;

const HMAC_BLOCK = 64;

/**
 * HMAC-SHA256 with `key` (RFC 2104), hex: a keyed hash, so a table of hashes cannot be reversed by hashing a
 * list of likely addresses (a bare SHA-256 can). The pads are computed once; each call is two one-shot hashes,
 * about a third of the time of createHmac().update().digest() on short input (bench/address-hash.mjs).
 */
export function addressHasher(key: Uint8Array): AddressHasher {
  if (key.length < ADDRESS_KEY_MIN_BYTES)
    throw new RangeError(`an address-hash key has at least ${ADDRESS_KEY_MIN_BYTES} bytes`);
  const k = Buffer.alloc(HMAC_BLOCK);
  (key.length > HMAC_BLOCK ? hash("sha256", Buffer.from(key), "buffer") : Buffer.from(key)).copy(k);
  const ipad = Buffer.alloc(HMAC_BLOCK);
  const opad = Buffer.alloc(HMAC_BLOCK);
  for (let i = 0; i < HMAC_BLOCK; i++) {
    ipad[i] = k[i]! ^ 0x36;
    opad[i] = k[i]! ^ 0x5c;
  }
  // Two buffers kept between calls (no concatenation per address): the inner message (ipad, then the address's
  // UTF-8, grown when an address needs more room) and the outer one (opad, then the inner digest).
  let inner = Buffer.alloc(HMAC_BLOCK + 256);
  ipad.copy(inner);
  const outer = Buffer.alloc(HMAC_BLOCK + 32);
  opad.copy(outer);
  return (normalized) => {
    const room = HMAC_BLOCK + normalized.length * 3; // at most 3 bytes of UTF-8 per UTF-16 unit
    if (room > inner.length) {
      inner = Buffer.alloc(room);
      ipad.copy(inner);
    }
    const n = inner.write(normalized, HMAC_BLOCK, "utf8");
    (hash("sha256", inner.subarray(0, HMAC_BLOCK + n), "buffer") as Buffer).copy(outer, HMAC_BLOCK);
    return hash("sha256", outer, "hex");
  };
}

/** What names a key without revealing it: the first 16 hex digits of its hash of a fixed text. */
export function addressKeyFingerprint(key: Uint8Array): string {
  return addressHasher(key)("rebound address-hash key check").slice(0, 16);
}
