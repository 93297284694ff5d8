// Webhook signatures: HMAC-SHA256 over `${timestamp}.${body}` with the endpoint's secret, sent as
// `Rebound-Signature: t=TIMESTAMP,v1=HEX`. Documented, with a receiver's verification snippet, in docs/webhooks.md.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "Rebound-Signature";
/** Receivers should refuse signatures older than this (replay protection). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** A new endpoint secret: shown once when the webhook is registered. */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString("base64url")}`;
}

/** The hex HMAC-SHA256 of `${timestamp}.${body}`. */
export function computeSignature(secret: string, timestamp: number, body: string): string {
  return createHmac("sha256", secret).update(`${timestamp}.${body}`, "utf8").digest("hex");
}

/** The value of the Rebound-Signature header for a body sent at `timestamp` (Unix seconds). */
export function signatureHeader(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${computeSignature(secret, timestamp, body)}`;
}

export type VerifyResult =
  { ok: true; timestamp: number } | { ok: false; error: "malformed" | "mismatch" | "too_old" };

/**
 * Verify a Rebound-Signature header against the raw body as received. Several `v1=` values are accepted (any
 * may match), so a sender could sign with two secrets during a rotation. `nowSeconds` is the receiver's clock.
 */
export function verifySignature(
  secret: string,
  header: string,
  body: string,
  nowSeconds: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): VerifyResult {
  let timestamp: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(",")) {
    const i = part.indexOf("=");
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    if (k === "t" && /^\d{1,12}$/.test(v)) timestamp = Number(v);
    else if (k === "v1" && /^[0-9a-f]{64}$/.test(v)) candidates.push(v);
  }
  if (timestamp === undefined || candidates.length === 0) return { ok: false, error: "malformed" };
  const expected = Buffer.from(computeSignature(secret, timestamp, body), "hex");
  const match = candidates.some((c) => timingSafeEqual(Buffer.from(c, "hex"), expected));
  if (!match) return { ok: false, error: "mismatch" };
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return { ok: false, error: "too_old" };
  return { ok: true, timestamp };
}
