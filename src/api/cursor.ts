// Opaque, tamper-proof pagination cursors: the position and a digest of the filters, signed with an HMAC
// keyed by the API key's own secret. A cursor altered, made for other filters or by another key is refused.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { ApiError } from "./errors.js";

interface CursorBody {
  /** The last id of the previous page. */
  id: string;
  /** Digest of the filters the cursor was made for. */
  f: string;
}

export function filterDigest(filters: Record<string, unknown>): string {
  const keys = Object.keys(filters).sort();
  const canon = JSON.stringify(
    keys.map((k) => [
      k,
      filters[k] instanceof Date ? (filters[k] as Date).toISOString() : (filters[k] ?? null),
    ]),
  );
  return createHash("sha256").update(canon).digest("base64url").slice(0, 16);
}

function mac(secret: string, payload: string): Buffer {
  return createHmac("sha256", secret).update(payload).digest().subarray(0, 16);
}

export function encodeCursor(secret: string, id: string, filters: Record<string, unknown>): string {
  const payload = Buffer.from(JSON.stringify({ id, f: filterDigest(filters) } satisfies CursorBody)).toString(
    "base64url",
  );
  return `${payload}.${mac(secret, payload).toString("base64url")}`;
}

/** A position that is a row's numeric id (the default of decodeCursor). */
const NUMERIC_ID = /^\d{1,19}$/;

/**
 * The id a cursor points after; throws `invalid_cursor` (400) for anything not made by encodeCursor. `id` says
 * what a position looks like (default: a numeric row id); a signed cursor's position is checked all the same.
 */
export function decodeCursor(
  secret: string,
  cursor: string,
  filters: Record<string, unknown>,
  id: RegExp = NUMERIC_ID,
): string {
  const bad = (why: string) => new ApiError(400, "invalid_cursor", `the cursor is invalid: ${why}`);
  const [payload, sig, ...rest] = cursor.split(".");
  if (!payload || !sig || rest.length) throw bad("malformed");
  const given = Buffer.from(sig, "base64url");
  const want = mac(secret, payload);
  if (given.length !== want.length || !timingSafeEqual(given, want))
    throw bad("signature mismatch (altered, or made by another key)");
  let body: CursorBody;
  try {
    body = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as CursorBody;
  } catch {
    throw bad("malformed");
  }
  if (typeof body.id !== "string" || !id.test(body.id)) throw bad("malformed");
  if (body.f !== filterDigest(filters)) throw bad("it was made for other filters");
  return body.id;
}
