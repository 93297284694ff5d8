// Amazon SES notifications (the `Message` of an SNS notification, or an event publishing record): bounces,
// complaints and deliveries, one event per recipient. Pure.
//
//   { "notificationType" | "eventType": "Bounce", "bounce": { "bounceType", "bounceSubType",
//     "bouncedRecipients": [{ "emailAddress", "status", "diagnosticCode", "action" }], "feedbackId", ... },
//     "mail": { "messageId", "commonHeaders": { "messageId" }, "tags": { "rebound_stream": ["news"] } } }
import { itemOf } from "./item.js";
import { smtpCodeInText } from "../reason.js";
import { cleanText, dateOf, obj, statusOf, str, STREAM_FIELD, type EspItem, type Json } from "./types.js";

/** Recipients read from one notification at most (SES sends to 50 at most). */
const MAX_RECIPIENTS = 1_000;

export function readSesNotification(n: unknown, now: Date): EspItem[] {
  const o = obj(n);
  if (!o) return [{ invalid: "the notification is not a JSON object" }];
  const type = str(o.notificationType) ?? str(o.eventType);
  if (!type) return [{ invalid: "the notification has no notificationType (or eventType)" }];
  const mail = obj(o.mail) ?? {};
  const common = { messageId: messageIdOf(mail), stream: streamOf(mail), from: fromOf(mail) };
  if (type === "Bounce") {
    const b = obj(o.bounce) ?? {};
    const path = ["Bounce", str(b.bounceType) ?? "", str(b.bounceSubType) ?? ""];
    const reportingMta = mtaName(str(b.reportingMTA));
    return recipients(b.bouncedRecipients).map((r) => {
      const address = str(r.emailAddress);
      const diagnostic = cleanText(r.diagnosticCode);
      return itemOf(
        "ses",
        path,
        {
          ...common,
          address,
          eventId: idOf(str(b.feedbackId), address),
          occurredAt: dateOf(b.timestamp),
          evidence: {
            status: statusOf(r.status),
            diagnostic,
            smtpCode: smtpCodeInText(diagnostic),
            action: cleanText(r.action, 20),
            remoteMta: cleanText(b.remoteMtaIp, 100),
            reportingMta,
          },
        },
        now,
      );
    });
  }
  if (type === "Complaint") {
    const c = obj(o.complaint) ?? {};
    return recipients(c.complainedRecipients).map((r) => {
      const address = str(r.emailAddress);
      return itemOf(
        "ses",
        ["Complaint"],
        {
          ...common,
          address,
          eventId: idOf(str(c.feedbackId), address),
          occurredAt: dateOf(c.timestamp),
          evidence: { feedbackType: cleanText(c.complaintFeedbackType, 40) },
        },
        now,
      );
    });
  }
  if (type === "Delivery") {
    const d = obj(o.delivery) ?? {};
    const list = Array.isArray(d.recipients) ? d.recipients.slice(0, MAX_RECIPIENTS) : [];
    return list.map((r) => {
      const address = str(r);
      return itemOf(
        "ses",
        ["Delivery"],
        {
          ...common,
          address,
          eventId: idOf(str(mail.messageId) && `delivery/${str(mail.messageId)}`, address),
          occurredAt: dateOf(d.timestamp),
          evidence: {
            diagnostic: cleanText(d.smtpResponse),
            action: "delivered",
            remoteMta: cleanText(d.remoteMtaIp, 100),
            reportingMta: mtaName(str(d.reportingMTA)),
          },
        },
        now,
      );
    });
  }
  return [itemOf("ses", [type], { evidence: {} }, now)];
}

function recipients(v: unknown): Json[] {
  return Array.isArray(v) ? v.slice(0, MAX_RECIPIENTS).map((r) => obj(r) ?? {}) : [];
}

const idOf = (base: string | undefined, address: string | undefined) =>
  base && address ? `${base}/${address.trim().toLowerCase()}` : undefined;

/** `dsn; a8-1.smtp-out.amazonses.com` -> the host. */
function mtaName(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const semi = v.indexOf(";");
  return cleanText(semi >= 0 ? v.slice(semi + 1) : v, 255);
}

/**
 * The sent message's Message-ID header, where SES includes the original headers; else SES's own message id (what
 * its SendEmail answered, which a sender may have recorded its send under).
 */
/** The sent message's From (commonHeaders.from, a list), else its envelope sender (`source`). */
function fromOf(mail: Json): string | undefined {
  const from = obj(mail.commonHeaders)?.from;
  return (Array.isArray(from) ? str(from[0]) : undefined) ?? str(mail.source);
}

function messageIdOf(mail: Json): string | undefined {
  const common = str(obj(mail.commonHeaders)?.messageId);
  if (common) return common;
  const headers = Array.isArray(mail.headers) ? mail.headers.slice(0, 200) : [];
  for (const h of headers) {
    const o = obj(h);
    if (o && str(o.name)?.toLowerCase() === "message-id") return str(o.value);
  }
  return str(mail.messageId);
}

/** The message tag naming the stream (event publishing: `mail.tags`). */
function streamOf(mail: Json): string | undefined {
  const values = obj(mail.tags)?.[STREAM_FIELD];
  return Array.isArray(values) ? str(values[0]) : undefined;
}
