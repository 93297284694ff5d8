// How each ESP signs its webhooks, checked: data in, yes or no out (node:crypto, no I/O). Keys are given by the
// caller (read from the ESP settings file at start).
//
//   SNS (SES)  RSA over `Name\nvalue\n` lines of fixed fields; SignatureVersion 1: SHA1, 2: SHA256; the key is
//              SNS's signing certificate, configured (it is not fetched from SigningCertURL)
//   SendGrid   ECDSA P-256 / SHA-256 over the timestamp header followed by the raw body
//   Mailgun    HMAC-SHA256 (hex) of timestamp + token with the webhook signing key
//   Postmark   HTTP basic authentication
import { createHash, createHmac, timingSafeEqual, verify, type KeyObject } from "node:crypto";
import { obj, str } from "./types.js";

/** An SNS message (the HTTP body SNS posts), the fields the signature covers. */
export interface SnsMessage {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: string;
  Signature: string;
  Subject?: string;
  SubscribeURL?: string;
  Token?: string;
  SigningCertURL?: string;
}

export const SNS_TYPES = ["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"] as const;

/** The SNS message in a parsed body, or why it is none. */
export function snsMessageOf(body: unknown): SnsMessage | { invalid: string } {
  const o = obj(body);
  if (!o) return { invalid: "the body is not an SNS message (a JSON object)" };
  const m: Partial<SnsMessage> = {};
  for (const k of [
    "Type",
    "MessageId",
    "TopicArn",
    "Message",
    "Timestamp",
    "SignatureVersion",
    "Signature",
  ] as const) {
    const v = str(o[k]);
    if (v === undefined) return { invalid: `the SNS message has no ${k}` };
    m[k] = v;
  }
  for (const k of ["Subject", "SubscribeURL", "Token", "SigningCertURL"] as const) {
    const v = str(o[k]);
    if (v !== undefined) m[k] = v;
  }
  if (!(SNS_TYPES as readonly string[]).includes(m.Type!))
    return { invalid: `unknown SNS message type ${m.Type}` };
  return m as SnsMessage;
}

/** The text SNS signs (the fields in this order, each as `Name\nvalue\n`; Subject only when present). */
export function snsStringToSign(m: SnsMessage): string {
  const fields: (keyof SnsMessage)[] =
    m.Type === "Notification"
      ? ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
      : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];
  let out = "";
  for (const f of fields) {
    const v = m[f];
    if (v === undefined) continue;
    out += `${f}\n${v}\n`;
  }
  return out;
}

/** Whether one of the keys verifies the message's signature (SignatureVersion 1: SHA1, 2: SHA256). */
export function verifySns(m: SnsMessage, keys: readonly KeyObject[]): boolean {
  const alg = m.SignatureVersion === "1" ? "sha1" : m.SignatureVersion === "2" ? "sha256" : undefined;
  if (!alg) return false;
  const sig = Buffer.from(m.Signature, "base64");
  if (sig.length === 0 || sig.length > 1024) return false;
  const data = Buffer.from(snsStringToSign(m), "utf8");
  return keys.some((k) => {
    try {
      return verify(alg, data, k, sig);
    } catch {
      return false;
    }
  });
}

/** SendGrid: the ECDSA signature (base64 DER) of `timestamp + body` under the webhook's public key. */
export function verifySendgrid(key: KeyObject, timestamp: string, body: Buffer, signature: string): boolean {
  const sig = Buffer.from(signature, "base64");
  if (sig.length === 0 || sig.length > 256) return false;
  try {
    return verify("sha256", Buffer.concat([Buffer.from(timestamp, "utf8"), body]), key, sig);
  } catch {
    return false;
  }
}

/** Mailgun: HMAC-SHA256 (hex) of `timestamp + token` under the signing key, compared in constant time. */
export function verifyMailgun(
  signingKey: string,
  timestamp: string,
  token: string,
  signature: string,
): boolean {
  const expected = createHmac("sha256", signingKey)
    .update(timestamp + token, "utf8")
    .digest();
  if (!/^[0-9a-f]{64}$/i.test(signature)) return false;
  return timingSafeEqual(expected, Buffer.from(signature, "hex"));
}

/** `Authorization: Basic ...` -> user and password; undefined when it is not that. */
export function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  if (!header || header.length > 2048) return undefined;
  const m = /^Basic[ \t]+([A-Za-z0-9+/=]{1,2000})[ \t]*$/i.exec(header);
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, "base64").toString("utf8");
  const colon = text.indexOf(":");
  return colon < 0 ? undefined : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** Two secrets compared in a time that depends on neither (their hashes are compared). */
export function sameSecret(a: string, b: string): boolean {
  const h = (s: string) => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(h(a), h(b));
}

/** Whether a signed time is within `maxAgeMs` of now (either side: a clock ahead is bounded the same). */
export function isFresh(at: Date | undefined, now: Date, maxAgeMs: number): boolean {
  if (!at || Number.isNaN(at.getTime())) return false;
  return Math.abs(now.getTime() - at.getTime()) <= maxAgeMs;
}
