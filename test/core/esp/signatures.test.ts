import { createPublicKey } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  basicCredentials,
  isFresh,
  snsMessageOf,
  verifyMailgun,
  verifySendgrid,
  verifySns,
  type SnsMessage,
} from "../../../src/core/esp/signatures.js";
import {
  mailgunSignature,
  sendgridHeaders,
  sendgridSigner,
  snsMessage,
  snsSigner,
} from "../../helpers/esp.js";

const TOPIC = "arn:aws:sns:eu-west-1:123456789012:ses-events";
const signer = snsSigner();
const other = snsSigner();
const cert = createPublicKey(signer.certificatePem);

const sns = (o: Parameters<typeof snsMessage>[1]) => snsMessageOf(snsMessage(signer, o)) as SnsMessage;

describe("SNS signatures", () => {
  it("verify a notification signed with SignatureVersion 1 (SHA1) and 2 (SHA256) against the certificate", () => {
    for (const version of ["1", "2"] as const) {
      expect(verifySns(sns({ topicArn: TOPIC, message: '{"a":1}', version }), [cert])).toBe(true);
      expect(verifySns(sns({ topicArn: TOPIC, message: "x", subject: "Amazon SES", version }), [cert])).toBe(
        true,
      );
    }
  });

  it("verify a subscription confirmation (its Token and SubscribeURL are signed)", () => {
    const m = sns({
      topicArn: TOPIC,
      message: "You have chosen to subscribe",
      type: "SubscriptionConfirmation",
    });
    expect(verifySns(m, [cert])).toBe(true);
    expect(verifySns({ ...m, SubscribeURL: "https://attacker.example/" }, [cert])).toBe(false);
  });

  it("refuse an altered message, another certificate's signature, and an unknown SignatureVersion", () => {
    const m = sns({ topicArn: TOPIC, message: '{"notificationType":"Bounce"}' });
    expect(verifySns({ ...m, Message: '{"notificationType":"Delivery"}' }, [cert])).toBe(false);
    expect(verifySns({ ...m, TopicArn: `${TOPIC}-2` }, [cert])).toBe(false);
    expect(verifySns(m, [createPublicKey(other.certificatePem)])).toBe(false);
    expect(verifySns({ ...m, SignatureVersion: "3" }, [cert])).toBe(false);
    expect(verifySns({ ...m, Signature: "" }, [cert])).toBe(false);
  });

  it("name what a body lacks to be an SNS message", () => {
    expect(snsMessageOf([])).toEqual({ invalid: "the body is not an SNS message (a JSON object)" });
    expect(snsMessageOf({ Type: "Notification" })).toEqual({ invalid: "the SNS message has no MessageId" });
  });
});

describe("SendGrid signatures", () => {
  const s = sendgridSigner();
  const key = createPublicKey({ key: Buffer.from(s.publicKey, "base64"), format: "der", type: "spki" });
  it("verify the ECDSA signature over the timestamp and the body, and refuse either altered", () => {
    const body = '[{"email":"a@example.org","event":"bounce"}]';
    const h = sendgridHeaders(s, body);
    const sig = h["x-twilio-email-event-webhook-signature"]!;
    const ts = h["x-twilio-email-event-webhook-timestamp"]!;
    expect(verifySendgrid(key, ts, Buffer.from(body), sig)).toBe(true);
    expect(verifySendgrid(key, ts, Buffer.from(body.replace("bounce", "delivered")), sig)).toBe(false);
    expect(verifySendgrid(key, String(Number(ts) + 1), Buffer.from(body), sig)).toBe(false);
    expect(verifySendgrid(key, ts, Buffer.from(body), "not base64 at all")).toBe(false);
    const otherKey = createPublicKey({
      key: Buffer.from(sendgridSigner().publicKey, "base64"),
      format: "der",
      type: "spki",
    });
    expect(verifySendgrid(otherKey, ts, Buffer.from(body), sig)).toBe(false);
  });
});

describe("Mailgun signatures", () => {
  it("verify the HMAC of timestamp and token with the signing key, and refuse another key or a malformed one", () => {
    const s = mailgunSignature("key-0123456789abcdef");
    expect(verifyMailgun("key-0123456789abcdef", s.timestamp, s.token, s.signature)).toBe(true);
    expect(verifyMailgun("key-other", s.timestamp, s.token, s.signature)).toBe(false);
    expect(verifyMailgun("key-0123456789abcdef", s.timestamp, `${s.token}x`, s.signature)).toBe(false);
    expect(verifyMailgun("key-0123456789abcdef", s.timestamp, s.token, "zz")).toBe(false);
  });
});

describe("basic authentication and freshness", () => {
  it("read user and password from a Basic header (the password may hold a colon), nothing from others", () => {
    const h = `Basic ${Buffer.from("postmark:pa:ss").toString("base64")}`;
    expect(basicCredentials(h)).toEqual({ user: "postmark", password: "pa:ss" });
    expect(basicCredentials("Bearer abc")).toBeUndefined();
    expect(basicCredentials(undefined)).toBeUndefined();
  });

  it("take a signed time within the window on either side and refuse one beyond it", () => {
    const now = new Date("2026-12-07T12:00:00Z");
    expect(isFresh(new Date("2026-12-07T11:46:00Z"), now, 15 * 60_000)).toBe(true);
    expect(isFresh(new Date("2026-12-07T11:44:59Z"), now, 15 * 60_000)).toBe(false);
    expect(isFresh(new Date("2026-12-07T12:15:01Z"), now, 15 * 60_000)).toBe(false);
    expect(isFresh(undefined, now, 15 * 60_000)).toBe(false);
  });
});
