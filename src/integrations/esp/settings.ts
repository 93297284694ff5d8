// The ESP endpoints (`POST /v1/ingest/<provider>`): a JSON file (REBOUND_ESP_CONFIG), read and checked once at
// start, every problem named. Each endpoint is one tenant's account at a provider, with what authenticates its
// requests; a request is the tenant's whose credentials it carries.
//
//   { "ses":      [{ "tenant": "acme", "stream": "news", "topicArns": ["arn:aws:sns:eu-west-1:123456789012:ses"],
//                    "certificateFile": "/etc/rebound/sns.pem" }],
//     "sendgrid": [{ "tenant": "acme", "publicKey": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE..." }],
//     "mailgun":  [{ "tenant": "acme", "signingKeyFile": "/run/secrets/mailgun" }],
//     "postmark": [{ "tenant": "acme", "user": "postmark", "passwordFile": "/run/secrets/postmark" }] }
import { createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { parseSettingsFile, secretOf } from "../settings-file.js";
import { VERP_NAME } from "../../core/verp.js";

const name = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "letters, digits, `_`, `.` and `-`, 1 to 64");
const stream = z.string().regex(VERP_NAME, "a stream name: 1-20 lower-case letters, digits, `_` or `-`");
const base = {
  name: name.optional(),
  tenant: z.string().min(1).max(100).optional(),
  stream: stream.optional(),
};
const oneOf = (a: string, b: string) => (o: Record<string, unknown>) => !!o[a] !== !!o[b];

const ses = z
  .object({
    ...base,
    /** The SNS topics whose notifications this endpoint takes (the TopicArn of each message must be one). */
    topicArns: z.array(z.string().regex(/^arn:aws[a-z-]{0,20}:sns:[^\s]{1,300}$/, "an SNS topic ARN")).min(1),
    /** SNS's signing certificate (PEM, as served at the messages' SigningCertURL), or several (rotation). */
    certificateFile: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    /** false: take messages on their TopicArn alone (no certificate at hand). Anyone who knows the ARN can then
     * forge a notification: keep the endpoint unreachable from elsewhere. */
    verifySignature: z.boolean().default(true),
    /** Confirm a subscription by fetching its SubscribeURL (an `https://sns.<region>.amazonaws.com/` URL);
     * false: the URL is logged for an operator to open. */
    confirmSubscriptions: z.boolean().default(false),
  })
  .strict()
  .refine((o) => !o.verifySignature || !!o.certificateFile, {
    message:
      "give certificateFile (SNS's signing certificate), or verifySignature: false to trust topicArns alone",
  });

const sendgrid = z
  .object({
    ...base,
    /** The Event Webhook's verification key, as SendGrid shows it (base64 DER), or PEM. */
    publicKey: z.string().min(1).optional(),
    publicKeyFile: z.string().min(1).optional(),
  })
  .strict()
  .refine(oneOf("publicKey", "publicKeyFile"), "give exactly one of publicKey and publicKeyFile");

const mailgun = z
  .object({
    ...base,
    /** The domain's HTTP webhook signing key. */
    signingKey: z.string().min(1).optional(),
    signingKeyFile: z.string().min(1).optional(),
  })
  .strict()
  .refine(oneOf("signingKey", "signingKeyFile"), "give exactly one of signingKey and signingKeyFile");

const postmark = z
  .object({
    ...base,
    /** The basic-authentication credentials written into the webhook's URL at Postmark. */
    user: z.string().min(1).max(200),
    password: z.string().min(12).optional(),
    passwordFile: z.string().min(1).optional(),
  })
  .strict()
  .refine(oneOf("password", "passwordFile"), "give exactly one of password and passwordFile");

const file = z
  .object({
    ses: z.array(ses).default([]),
    sendgrid: z.array(sendgrid).default([]),
    mailgun: z.array(mailgun).default([]),
    postmark: z.array(postmark).default([]),
  })
  .strict();

export interface EspEndpoint {
  name: string;
  tenant: string;
  stream: string;
}
export interface SesEndpoint extends EspEndpoint {
  topicArns: string[];
  keys: KeyObject[];
  verifySignature: boolean;
  confirmSubscriptions: boolean;
}
export interface SendgridEndpoint extends EspEndpoint {
  key: KeyObject;
}
export interface MailgunEndpoint extends EspEndpoint {
  signingKey: string;
}
export interface PostmarkEndpoint extends EspEndpoint {
  user: string;
  password: string;
}
export interface EspSettings {
  ses: SesEndpoint[];
  sendgrid: SendgridEndpoint[];
  mailgun: MailgunEndpoint[];
  postmark: PostmarkEndpoint[];
}

export const NO_ESP: EspSettings = { ses: [], sendgrid: [], mailgun: [], postmark: [] };

export class EspSettingsError extends Error {}

/** Parse the file's JSON text; `read` reads the files it names (the caller's I/O). */
export function parseEspSettings(
  text: string,
  defaults: { tenant: string; stream: string },
  read: (path: string) => string,
): EspSettings {
  const f = parseSettingsFile(text, file, "the ESP settings file", (m) => new EspSettingsError(m));
  const names = new Set<string>();
  const common = (provider: string, e: { name?: string; tenant?: string; stream?: string }, i: number) => {
    const n = e.name ?? `${provider}-${i + 1}`;
    if (names.has(n)) throw new EspSettingsError(`the ESP settings file names "${n}" twice`);
    names.add(n);
    return { name: n, tenant: e.tenant ?? defaults.tenant, stream: e.stream ?? defaults.stream };
  };
  const secret = (value: string | undefined, path: string | undefined) => value ?? secretOf(read(path!));
  const key = (where: string, f: () => KeyObject) => {
    try {
      return f();
    } catch (err) {
      throw new EspSettingsError(`${where}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  return {
    ses: f.ses.map((e, i) => {
      const c = common("ses", e, i);
      const files = e.certificateFile === undefined ? [] : [e.certificateFile].flat();
      return {
        ...c,
        topicArns: e.topicArns,
        keys: files.map((p) => key(`${c.name}: certificate ${p}`, () => createPublicKey(read(p)))),
        verifySignature: e.verifySignature,
        confirmSubscriptions: e.confirmSubscriptions,
      };
    }),
    sendgrid: f.sendgrid.map((e, i) => {
      const c = common("sendgrid", e, i);
      const text = secret(e.publicKey, e.publicKeyFile).trim();
      return { ...c, key: key(`${c.name}: publicKey`, () => sendgridKey(text)) };
    }),
    mailgun: f.mailgun.map((e, i) => ({
      ...common("mailgun", e, i),
      signingKey: secret(e.signingKey, e.signingKeyFile),
    })),
    postmark: f.postmark.map((e, i) => ({
      ...common("postmark", e, i),
      user: e.user,
      password: secret(e.password, e.passwordFile),
    })),
  };
}

/** SendGrid shows its key as base64 DER (SubjectPublicKeyInfo); PEM is taken too. */
function sendgridKey(text: string): KeyObject {
  if (text.startsWith("-----BEGIN")) return createPublicKey(text);
  return createPublicKey({ key: Buffer.from(text, "base64"), format: "der", type: "spki" });
}

export function loadEspSettings(path: string, defaults: { tenant: string; stream: string }): EspSettings {
  return parseEspSettings(readFileSync(path, "utf8"), defaults, (p) => readFileSync(p, "utf8"));
}
