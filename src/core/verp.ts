// Signed return paths (VERP): the bounce address of one send names its recipient, tenant and stream, and an
// HMAC-SHA256 over them proves that Rebound's sender minted it. Pure (the time is passed in). The format is
// documented in docs/verp.md.
//
//   inline:  r=<local>=<domain>=<stream>[.<tenant>]=<kid>[.<week>]<mac>@<bounce domain>
//   hashed:  h=<stream>[.<tenant>]=<kid>[.<week>]<mac>@<bounce domain>     (when the inline form exceeds 64 octets)
//
// <mac> is the first 40 bits of HMAC-SHA256(secret, "rebound-verp-1\n" form \n tenant \n stream \n recipient)
// in lower-case base32 (8 characters); a dated path (`.<week>`: its week of issue, 2 base32 characters) signs
// "rebound-verp-2\n" form \n week \n tenant \n stream \n recipient instead, so that its age can be checked
// (REBOUND_VERP_MAX_AGE_DAYS). Everything signed is lower-cased, so an MTA that changes the case of the return
// path does not break it. The hashed form carries no recipient: the signature binds it, and the bounce must
// name the recipient (decodeVerp's `candidates`).
import { createHmac, timingSafeEqual } from "node:crypto";
import { domainToASCII } from "node:url";
import { normalizeAddress } from "./address.js";

export interface VerpKey {
  id: string;
  secret: string;
}

export const VERP_FORMS = ["inline", "hashed"] as const;
export type VerpForm = (typeof VERP_FORMS)[number];

export const VERP_FAILURES = [
  "not_verp",
  "bad_signature",
  "unknown_key",
  "malformed",
  "unresolved",
  "expired",
] as const;
/**
 * not_verp: not a Rebound return path at all. malformed: looks like one but does not parse. unknown_key: the
 * key id is not among the configured keys. bad_signature: the MAC does not match (forged, or a hashed return
 * path none of whose candidates matches). unresolved: a hashed return path decoded without candidates.
 * expired: a dated return path whose signature holds but which is older than the maximum age.
 */
export type VerpFailure = (typeof VERP_FAILURES)[number];

export interface VerpInput {
  recipient: string;
  /** Omitted or null: the default tenant (and a shorter return path). */
  tenant?: string | null;
  stream: string;
}

export type VerpDecoded =
  | { ok: true; form: VerpForm; recipient: string; tenant: string | null; stream: string; keyId: string }
  | {
      ok: false;
      reason: VerpFailure;
      form?: VerpForm;
      tenant?: string | null;
      stream?: string;
      keyId?: string;
    };

/** The local-part limit of RFC 5321 (4.5.3.1.1). */
export const MAX_LOCAL_PART_OCTETS = 64;
/** Characters of the truncated MAC (base32, 5 bits each: 40 bits). */
export const MAC_CHARS = 8;
/** Characters of the week of issue of a dated path (base32: weeks since 1970 modulo 1024, about 19.6 years). */
export const WEEK_CHARS = 2;
const WEEK_MS = 7 * 86_400_000;
const WEEKS = 1024;
/** A week of issue this many weeks or fewer "in the future" is a clock a little ahead, not a path 19 years old. */
const FUTURE_WEEKS = 4;
/** Tenant and stream names: lower-case letters, digits, `_` and `-`, 1 to 20 characters (so the hashed form always fits). */
export const VERP_NAME = /^[a-z0-9][a-z0-9_-]{0,19}$/;
const KEY_ID = /^[a-z0-9]{1,8}$/;
/** RFC 5322 atext plus the dot: what an unquoted local part may hold. */
const DOT_ATOM_LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

export class VerpError extends Error {}

function base32(buf: Buffer, chars: number): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < chars) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (out.length >= chars) break;
  }
  return out;
}

function mac(
  secret: string,
  form: VerpForm,
  week: string | null,
  tenant: string | null,
  stream: string,
  recipient: string,
): string {
  const fields =
    week === null
      ? ["rebound-verp-1", form, tenant ?? "", stream, recipient]
      : ["rebound-verp-2", form, week, tenant ?? "", stream, recipient];
  const msg = fields.join("\n").toLowerCase();
  return base32(createHmac("sha256", secret).update(msg, "utf8").digest(), MAC_CHARS);
}

function weekNumber(t: Date): number {
  return Math.floor(t.getTime() / WEEK_MS);
}

/** The week of issue as signed: weeks since 1970 modulo 1024, in 2 base32 characters. */
export function weekCode(issuedAt: Date): string {
  const n = ((weekNumber(issuedAt) % WEEKS) + WEEKS) % WEEKS;
  return BASE32[n >> 5]! + BASE32[n & 31]!;
}

/**
 * Whether a path issued in the week `code` is older than `maxAgeDays` at `now`. The week is counted from its
 * end: a path stays valid for at least `maxAgeDays` and at most a week more.
 */
export function isExpired(code: string, now: Date, maxAgeDays: number): boolean {
  const issued = BASE32.indexOf(code[0] ?? "") * 32 + BASE32.indexOf(code[1] ?? "");
  const current = weekNumber(now);
  let age = (((current - issued) % WEEKS) + WEEKS) % WEEKS;
  if (age >= WEEKS - FUTURE_WEEKS) age = 0;
  const endOfIssueWeek = (current - age + 1) * WEEK_MS;
  return now.getTime() - endOfIssueWeek > maxAgeDays * 86_400_000;
}

function sameMac(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function checkName(what: string, v: string): string {
  const s = v.toLowerCase();
  if (!VERP_NAME.test(s))
    throw new VerpError(
      `${what} "${v}" must be 1-20 letters, digits, "_" or "-", starting with a letter or digit`,
    );
  return s;
}

export interface EncodeOptions {
  /** Sign this time's week of issue in (a dated path, whose age REBOUND_VERP_MAX_AGE_DAYS can limit). */
  issuedAt?: Date;
}

/**
 * The signed return path of one send: `local@domain`. Uses the inline form when it fits in 64 octets (and the
 * recipient's local part is a plain dot-atom), the hashed form otherwise. Throws VerpError on bad input.
 */
export function encodeVerp(
  input: VerpInput,
  keys: readonly VerpKey[],
  domain: string,
  opts: EncodeOptions = {},
): string {
  const key = keys[0];
  if (!key) throw new VerpError("no VERP key configured (REBOUND_VERP_KEYS)");
  const kid = key.id.toLowerCase();
  if (!KEY_ID.test(kid)) throw new VerpError(`VERP key id "${key.id}" must be 1-8 letters or digits`);
  const n = normalizeAddress(input.recipient, { caseSensitiveLocalPart: true });
  if (!n.ok) throw new VerpError(`recipient: ${n.message}`);
  const stream = checkName("stream", input.stream);
  const tenant = input.tenant ? checkName("tenant", input.tenant) : null;
  const scope = tenant ? `${stream}.${tenant}` : stream;
  // An IDN bounce domain in its A-label (`xn--`) form: the return path stays plain ASCII.
  const d = /[@\s]/.test(domain.trim()) ? "" : domainToASCII(domain.trim().toLowerCase());
  if (!d) throw new VerpError(`bounce domain "${domain}" is not a domain`);

  const week = opts.issuedAt ? weekCode(opts.issuedAt) : null;
  const sig = (form: VerpForm) =>
    `${kid}${week === null ? "" : `.${week}`}${mac(key.secret, form, week, tenant, stream, n.address)}`;
  const inline = `r=${n.local}=${n.domain}=${scope}=${sig("inline")}`;
  if (DOT_ATOM_LOCAL.test(n.local) && Buffer.byteLength(inline, "utf8") <= MAX_LOCAL_PART_OCTETS)
    return `${inline}@${d}`;
  return `h=${scope}=${sig("hashed")}@${d}`;
}

interface Parsed {
  form: VerpForm;
  /** The week of issue of a dated path; null for an undated one. */
  week: string | null;
  recipient?: string;
  tenant: string | null;
  stream: string;
  keyId: string;
  mac: string;
}

/** Split a local part into its fields; undefined when it is not ours, "malformed" when it is but is broken. */
function parse(local: string): Parsed | "not_verp" | "malformed" {
  const lower = local.toLowerCase();
  const form: VerpForm | undefined = lower.startsWith("r=")
    ? "inline"
    : lower.startsWith("h=")
      ? "hashed"
      : undefined;
  if (!form) return "not_verp";
  const fields = local.slice(2).split("=");
  const field = fields.pop()?.toLowerCase() ?? "";
  const scope = fields.pop()?.toLowerCase() ?? "";
  // <kid><mac> or, dated, <kid>.<week><mac>
  const dot = field.indexOf(".");
  const week = dot < 0 ? null : field.slice(dot + 1, dot + 1 + WEEK_CHARS);
  const sig = dot < 0 ? field : field.slice(0, dot) + field.slice(dot + 1 + WEEK_CHARS);
  if (sig.length < MAC_CHARS + 1 || sig.length > MAC_CHARS + 8) return "malformed";
  const keyId = sig.slice(0, -MAC_CHARS);
  const m = sig.slice(-MAC_CHARS);
  if (!KEY_ID.test(keyId) || !isBase32(m)) return "malformed";
  if (week !== null && (week.length !== WEEK_CHARS || !isBase32(week))) return "malformed";
  const sdot = scope.indexOf(".");
  const stream = sdot < 0 ? scope : scope.slice(0, sdot);
  const tenant = sdot < 0 ? null : scope.slice(sdot + 1);
  if (!VERP_NAME.test(stream) || (tenant !== null && !VERP_NAME.test(tenant))) return "malformed";
  if (form === "hashed")
    return fields.length === 0 ? { form, week, tenant, stream, keyId, mac: m } : "malformed";
  const domain = fields.pop();
  const rlocal = fields.join("=");
  if (!domain || !rlocal) return "malformed";
  const n = normalizeAddress(`${rlocal}@${domain}`, { caseSensitiveLocalPart: true });
  if (!n.ok) return "malformed";
  return { form, week, recipient: n.address, tenant, stream, keyId, mac: m };
}

function isBase32(s: string): boolean {
  for (const c of s) if (!BASE32.includes(c)) return false;
  return true;
}

export interface DecodeOptions {
  /** For the hashed form: the addresses the bounce names; the one the signature binds is the recipient. */
  candidates?: readonly string[];
  /** With `now`: a dated path older than this many days is `expired` (0 or unset: no limit). Undated paths,
   * minted before dating, verify as before for as long as their key is configured. */
  maxAgeDays?: number;
  now?: Date;
}

/**
 * Decode and verify a return path (`local@domain`, angle brackets allowed; the domain is not checked: the MX
 * only accepts its own domains). Never throws.
 */
export function decodeVerp(address: string, keys: readonly VerpKey[], opts: DecodeOptions = {}): VerpDecoded {
  let s = address.trim();
  if (s.startsWith("<") && s.endsWith(">")) s = s.slice(1, -1).trim();
  const at = s.lastIndexOf("@");
  const local = at < 0 ? s : s.slice(0, at);
  const p = parse(local);
  if (p === "not_verp" || p === "malformed") return { ok: false, reason: p };
  const info = { form: p.form, tenant: p.tenant, stream: p.stream, keyId: p.keyId };
  const key = keys.find((k) => k.id.toLowerCase() === p.keyId);
  if (!key) return { ok: false, reason: "unknown_key", ...info };
  const expired = () =>
    p.week !== null && !!opts.maxAgeDays && !!opts.now && isExpired(p.week, opts.now, opts.maxAgeDays);
  if (p.form === "inline") {
    const recipient = p.recipient ?? "";
    if (!sameMac(mac(key.secret, "inline", p.week, p.tenant, p.stream, recipient), p.mac))
      return { ok: false, reason: "bad_signature", ...info };
    return expired() ? { ok: false, reason: "expired", ...info } : { ok: true, recipient, ...info };
  }
  const candidates = (opts.candidates ?? []).flatMap((c) => {
    const n = normalizeAddress(c, { caseSensitiveLocalPart: true });
    return n.ok ? [n.address] : [];
  });
  if (!candidates.length) return { ok: false, reason: "unresolved", ...info };
  for (const c of candidates) {
    if (sameMac(mac(key.secret, "hashed", p.week, p.tenant, p.stream, c), p.mac))
      return expired() ? { ok: false, reason: "expired", ...info } : { ok: true, recipient: c, ...info };
  }
  return { ok: false, reason: "bad_signature", ...info };
}
