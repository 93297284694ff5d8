// Signed return paths (VERP): the bounce address of one send names its recipient, tenant and stream, and an
// HMAC-SHA256 over them proves that Rebound's sender minted it. Pure. The format is documented in docs/verp.md.
//
//   inline:  r=<local>=<domain>=<stream>[.<tenant>]=<kid><mac>@<bounce domain>
//   hashed:  h=<stream>[.<tenant>]=<kid><mac>@<bounce domain>     (when the inline form exceeds 64 octets)
//
// <mac> is the first 40 bits of HMAC-SHA256(secret, "rebound-verp-1\n" form \n tenant \n stream \n recipient)
// in lower-case base32 (8 characters). Everything signed is lower-cased, so an MTA that changes the case of
// the return path does not break it. The hashed form carries no recipient: the signature binds it, and the
// bounce must name the recipient (decodeVerp's `candidates`).
import { createHmac, timingSafeEqual } from "node:crypto";
import { normalizeAddress } from "./address.js";

export interface VerpKey {
  id: string;
  secret: string;
}

export const VERP_FORMS = ["inline", "hashed"] as const;
export type VerpForm = (typeof VERP_FORMS)[number];

export const VERP_FAILURES = ["not_verp", "bad_signature", "unknown_key", "malformed", "unresolved"] as const;
/**
 * not_verp: not a Rebound return path at all. malformed: looks like one but does not parse. unknown_key: the
 * key id is not among the configured keys. bad_signature: the MAC does not match (forged, or a hashed return
 * path none of whose candidates matches). unresolved: a hashed return path decoded without candidates.
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
  tenant: string | null,
  stream: string,
  recipient: string,
): string {
  const msg = ["rebound-verp-1", form, tenant ?? "", stream, recipient].join("\n").toLowerCase();
  return base32(createHmac("sha256", secret).update(msg, "utf8").digest(), MAC_CHARS);
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

/**
 * The signed return path of one send: `local@domain`. Uses the inline form when it fits in 64 octets (and the
 * recipient's local part is a plain dot-atom), the hashed form otherwise. Throws VerpError on bad input.
 */
export function encodeVerp(input: VerpInput, keys: readonly VerpKey[], domain: string): string {
  const key = keys[0];
  if (!key) throw new VerpError("no VERP key configured (REBOUND_VERP_KEYS)");
  const kid = key.id.toLowerCase();
  if (!KEY_ID.test(kid)) throw new VerpError(`VERP key id "${key.id}" must be 1-8 letters or digits`);
  const n = normalizeAddress(input.recipient, { caseSensitiveLocalPart: true });
  if (!n.ok) throw new VerpError(`recipient: ${n.message}`);
  const stream = checkName("stream", input.stream);
  const tenant = input.tenant ? checkName("tenant", input.tenant) : null;
  const scope = tenant ? `${stream}.${tenant}` : stream;
  const d = domain.trim().toLowerCase();
  if (!d || /[@\s]/.test(d)) throw new VerpError(`bounce domain "${domain}" is not a domain`);

  const inline = `r=${n.local}=${n.domain}=${scope}=${kid}${mac(key.secret, "inline", tenant, stream, n.address)}`;
  if (DOT_ATOM_LOCAL.test(n.local) && Buffer.byteLength(inline, "utf8") <= MAX_LOCAL_PART_OCTETS)
    return `${inline}@${d}`;
  const hashed = `h=${scope}=${kid}${mac(key.secret, "hashed", tenant, stream, n.address)}`;
  return `${hashed}@${d}`;
}

interface Parsed {
  form: VerpForm;
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
  const sig = fields.pop()?.toLowerCase() ?? "";
  const scope = fields.pop()?.toLowerCase() ?? "";
  if (sig.length < MAC_CHARS + 1 || sig.length > MAC_CHARS + 8) return "malformed";
  const keyId = sig.slice(0, -MAC_CHARS);
  const m = sig.slice(-MAC_CHARS);
  if (!KEY_ID.test(keyId) || ![...m].every((c) => BASE32.includes(c))) return "malformed";
  const dot = scope.indexOf(".");
  const stream = dot < 0 ? scope : scope.slice(0, dot);
  const tenant = dot < 0 ? null : scope.slice(dot + 1);
  if (!VERP_NAME.test(stream) || (tenant !== null && !VERP_NAME.test(tenant))) return "malformed";
  if (form === "hashed") return fields.length === 0 ? { form, tenant, stream, keyId, mac: m } : "malformed";
  const domain = fields.pop();
  const rlocal = fields.join("=");
  if (!domain || !rlocal) return "malformed";
  const n = normalizeAddress(`${rlocal}@${domain}`, { caseSensitiveLocalPart: true });
  if (!n.ok) return "malformed";
  return { form, recipient: n.address, tenant, stream, keyId, mac: m };
}

export interface DecodeOptions {
  /** For the hashed form: the addresses the bounce names; the one the signature binds is the recipient. */
  candidates?: readonly string[];
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
  if (p.form === "inline") {
    const recipient = p.recipient ?? "";
    return sameMac(mac(key.secret, "inline", p.tenant, p.stream, recipient), p.mac)
      ? { ok: true, recipient, ...info }
      : { ok: false, reason: "bad_signature", ...info };
  }
  const candidates = (opts.candidates ?? []).flatMap((c) => {
    const n = normalizeAddress(c, { caseSensitiveLocalPart: true });
    return n.ok ? [n.address] : [];
  });
  if (!candidates.length) return { ok: false, reason: "unresolved", ...info };
  for (const c of candidates) {
    if (sameMac(mac(key.secret, "hashed", p.tenant, p.stream, c), p.mac))
      return { ok: true, recipient: c, ...info };
  }
  return { ok: false, reason: "bad_signature", ...info };
}
