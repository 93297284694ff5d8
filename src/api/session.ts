// Console sessions: an API key turned into a cookie. Stateless: the cookie holds the key's id, an expiry and an
// HMAC of both keyed by the key's token hash (a per-key secret the server has and the browser never sees), so
// no table is needed, a forged or altered cookie fails, and revoking the key ends its sessions at once.
//
// The cookie is HttpOnly, SameSite=Strict, Secure when the request came over TLS, Path=/. Writes made with it
// need the header CONSOLE_HEADER as well (a cross-site form cannot set a header; a cross-site script cannot
// send it without a CORS preflight, which the API never grants): see auth.ts.
import { createHmac, timingSafeEqual } from "node:crypto";

export const SESSION_COOKIE = "rebound_session";
/** The header a write made with the session cookie must carry (any non-empty value; the console sends "1"). */
export const CONSOLE_HEADER = "x-rebound-console";
/** How long a session lasts. */
export const SESSION_SECONDS = 8 * 3600;

const KEY_ID = /^key_[\w-]{1,64}$/;
const EXPIRY = /^\d{1,12}$/;

function mac(tokenHash: string, keyId: string, exp: number): string {
  return createHmac("sha256", tokenHash).update(`rebound-session.${keyId}.${exp}`).digest("base64url");
}

/** The cookie value of a session of `keyId` ending at `exp` (seconds since the epoch). */
export function signSession(keyId: string, tokenHash: string, exp: number): string {
  return `${keyId}.${exp}.${mac(tokenHash, keyId, exp)}`;
}

/** The key id and expiry a cookie value claims, before its signature is checked; undefined if malformed. */
export function parseSession(value: string): { keyId: string; exp: number; sig: string } | undefined {
  if (value.length > 200) return undefined;
  const parts = value.split(".");
  if (parts.length !== 3) return undefined;
  const [keyId, exp, sig] = parts as [string, string, string];
  if (!KEY_ID.test(keyId) || !EXPIRY.test(exp) || sig.length !== 43) return undefined;
  return { keyId, exp: Number(exp), sig };
}

/** Whether a parsed session is signed with the key's token hash and unexpired at `nowSeconds`. */
export function verifySession(
  s: { keyId: string; exp: number; sig: string },
  tokenHash: string,
  nowSeconds: number,
): boolean {
  if (s.exp <= nowSeconds) return false;
  const want = Buffer.from(mac(tokenHash, s.keyId, s.exp));
  const got = Buffer.from(s.sig);
  return want.length === got.length && timingSafeEqual(want, got);
}

/** The value of one cookie in a Cookie header (the first of that name), or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header || header.length > 8192) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie header of a session (or, with `value` empty and maxAge 0, of its removal). */
export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    "Path=/",
    `Max-Age=${maxAgeSeconds}`,
    "HttpOnly",
    "SameSite=Strict",
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}
