// Which recipients the MX takes, decided at RCPT time so that nothing it would not act on is ever spooled:
//
// - the domain must be one of REBOUND_DOMAINS, in either spelling of an IDN (U-label or `xn--` A-label);
// - a local part shaped like a signed return path (`r=...`, `h=...`) must verify: an inline path's MAC is
//   checked here (one HMAC per RCPT, the key named by the path; nothing else is tried), a dated one must be
//   within REBOUND_VERP_MAX_AGE_DAYS; a hashed path binds a recipient that only the bounce names, so here only
//   its shape and key are checked and the worker verifies its MAC;
// - any other local part only when REBOUND_SMTP_LOCAL_PARTS lists it (`name` also takes `name+tag`), or
//   lists `*`.
//
// With no VERP key configured, nothing can verify: a VERP-shaped local part is then a plain one like any other.
import { asciiDomain } from "../config.js";
import { decodeVerp, type VerpKey } from "../core/verp.js";

export const RECIPIENT_VERDICTS = ["ok", "bad_syntax", "relay", "unknown_user"] as const;
export type RecipientVerdict = (typeof RECIPIENT_VERDICTS)[number];

export interface RecipientPolicy {
  /** The MX's domains, in their ASCII form (config.ts stores them so). */
  domains: readonly string[];
  /** Plain local parts taken, lower-case; `*`: every one. */
  localParts: readonly string[];
  verpKeys: readonly VerpKey[];
  /** 0: dated return paths never expire. */
  verpMaxAgeDays: number;
}

export type RecipientCheck = (address: string, now: Date) => RecipientVerdict;

export function createRecipientCheck(p: RecipientPolicy): RecipientCheck {
  const domains = new Set(p.domains.map(asciiDomain));
  const anyLocal = p.localParts.includes("*");
  const locals = new Set(p.localParts);
  return (address, now) => {
    const at = address.lastIndexOf("@");
    if (at <= 0) return "bad_syntax";
    const domain = asciiDomain(address.slice(at + 1));
    if (!domain || !domains.has(domain)) return "relay";
    const local = address.slice(0, at);
    if (p.verpKeys.length) {
      const v = decodeVerp(address, p.verpKeys, { now, maxAgeDays: p.verpMaxAgeDays });
      if (v.ok || v.reason === "unresolved") return "ok";
      if (v.reason !== "not_verp") return "unknown_user";
    }
    if (anyLocal) return "ok";
    const lower = local.toLowerCase();
    const plus = lower.indexOf("+");
    return locals.has(lower) || (plus > 0 && locals.has(lower.slice(0, plus))) ? "ok" : "unknown_user";
  };
}
