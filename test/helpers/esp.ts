// Keys and signatures of the ESPs' webhooks, made here (node:crypto, openssl for SNS's self-signed certificate),
// so that tests sign payloads the way each provider documents it.
import { execFileSync } from "node:child_process";
import { createHmac, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SnsSigner {
  /** The certificate (PEM), as SNS serves it at SigningCertURL. */
  certificatePem: string;
  privateKey: string;
}

/** A self-signed certificate standing in for SNS's (RSA 2048, as SNS's). */
export function snsSigner(cn = "sns.eu-west-1.amazonaws.com"): SnsSigner {
  const dir = mkdtempSync(join(tmpdir(), "rebound-sns-"));
  try {
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", `/CN=${cn}`].concat([
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ]),
      { stdio: "ignore" },
    );
    return {
      certificatePem: readFileSync(join(dir, "cert.pem"), "utf8"),
      privateKey: readFileSync(join(dir, "key.pem"), "utf8"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type SnsType = "Notification" | "SubscriptionConfirmation" | "UnsubscribeConfirmation";

/**
 * An SNS message as SNS posts it, signed as the SNS documentation says: the values of Message, MessageId,
 * Subject (if any), Timestamp, TopicArn, Type (notifications) or Message, MessageId, SubscribeURL, Timestamp,
 * Token, TopicArn, Type (subscription messages), each preceded by its name, one per line.
 */
export function snsMessage(
  signer: SnsSigner,
  o: {
    type?: SnsType;
    topicArn: string;
    message: string;
    subject?: string;
    timestamp?: Date;
    version?: "1" | "2";
    subscribeUrl?: string;
  },
): Record<string, string> {
  const type = o.type ?? "Notification";
  const m: Record<string, string> = {
    Type: type,
    MessageId: `${randomBytes(4).toString("hex")}-5f7d-5a4b-9c1a-${randomBytes(6).toString("hex")}`,
    TopicArn: o.topicArn,
    Message: o.message,
    Timestamp: (o.timestamp ?? new Date()).toISOString(),
    SignatureVersion: o.version ?? "1",
    SigningCertURL: "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000.pem",
  };
  if (o.subject !== undefined) m.Subject = o.subject;
  if (type !== "Notification") {
    m.Token = randomBytes(32).toString("hex");
    m.SubscribeURL =
      o.subscribeUrl ??
      `https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${o.topicArn}&Token=${m.Token}`;
  }
  const fields =
    type === "Notification"
      ? ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
      : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];
  const text = fields
    .filter((f) => m[f] !== undefined)
    .map((f) => `${f}\n${m[f]}\n`)
    .join("");
  m.Signature = sign(
    m.SignatureVersion === "2" ? "sha256" : "sha1",
    Buffer.from(text),
    signer.privateKey,
  ).toString("base64");
  return m;
}

export interface SendgridSigner {
  /** The verification key as SendGrid shows it: base64 DER (SubjectPublicKeyInfo). */
  publicKey: string;
  privateKey: KeyObject;
}

export function sendgridSigner(): SendgridSigner {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return { publicKey: publicKey.export({ format: "der", type: "spki" }).toString("base64"), privateKey };
}

/** The headers SendGrid's Signed Event Webhook sends with a body. */
export function sendgridHeaders(s: SendgridSigner, body: string, at = new Date()): Record<string, string> {
  const timestamp = String(Math.floor(at.getTime() / 1000));
  const signature = sign("sha256", Buffer.from(timestamp + body), s.privateKey).toString("base64");
  return {
    "content-type": "application/json",
    "x-twilio-email-event-webhook-signature": signature,
    "x-twilio-email-event-webhook-timestamp": timestamp,
  };
}

/** Mailgun's `signature` object: HMAC-SHA256 (hex) of timestamp + token with the signing key. */
export function mailgunSignature(key: string, at = new Date()) {
  const timestamp = String(Math.floor(at.getTime() / 1000));
  const token = randomBytes(25).toString("hex");
  return {
    timestamp,
    token,
    signature: createHmac("sha256", key)
      .update(timestamp + token)
      .digest("hex"),
  };
}

export const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

/** Write an ESP settings file (and the files it names) in a temp folder; returns its path. */
export function espSettingsFile(
  settings: unknown,
  files: Record<string, string> = {},
): { path: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "rebound-esp-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: 0o600 });
  const text = JSON.stringify(settings).replaceAll("$DIR", dir);
  writeFileSync(join(dir, "esp.json"), text);
  return { path: join(dir, "esp.json"), dir };
}
