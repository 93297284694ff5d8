// SendGrid's Event Webhook: a JSON array of events, one recipient each. Pure.
//
//   [{ "email", "timestamp", "smtp-id", "event": "bounce", "type": "bounce" | "blocked", "bounce_classification",
//      "status", "reason", "sg_event_id", "sg_message_id", "rebound_stream": "news" (a custom argument) }]
import { itemOf } from "./item.js";
import { smtpCodeInText } from "../reason.js";
import { cleanText, dateOf, obj, statusOf, str, STREAM_FIELD, type EspItem } from "./types.js";

export function readSendgridEvent(e: unknown, now: Date): EspItem {
  const o = obj(e);
  if (!o) return { invalid: "an event is not a JSON object" };
  const event = str(o.event);
  if (!event) return { invalid: "an event has no `event`" };
  const path =
    event === "bounce"
      ? [event, str(o.type) ?? "bounce", str(o.bounce_classification) ?? ""]
      : event === "dropped"
        ? [event, str(o.reason) ?? ""]
        : [event];
  const address = str(o.email);
  const diagnostic = cleanText(event === "delivered" ? o.response : o.reason);
  return itemOf(
    "sendgrid",
    path,
    {
      address,
      eventId:
        str(o.sg_event_id) ??
        (str(o.sg_message_id) && address ? `${str(o.sg_message_id)}/${event}/${address}` : undefined),
      occurredAt: dateOf(o.timestamp),
      messageId: str(o["smtp-id"]),
      stream: str(o[STREAM_FIELD]),
      evidence: {
        status: statusOf(o.status),
        diagnostic,
        smtpCode: smtpCodeInText(diagnostic),
        action: event === "delivered" ? "delivered" : event === "bounce" ? "failed" : undefined,
      },
    },
    now,
  );
}
