// Mailgun's webhooks: `{ "signature": {...}, "event-data": {...} }`, one recipient each. Pure.
//
//   "event-data": { "event": "failed", "severity": "permanent", "reason": "bounce", "id", "timestamp",
//     "recipient", "delivery-status": { "code", "message", "description" },
//     "message": { "headers": { "message-id" } }, "user-variables": { "rebound_stream": "news" } }
import { itemOf } from "./item.js";
import { cleanText, dateOf, obj, smtpCodeOf, statusOf, str, STREAM_FIELD, type EspItem } from "./types.js";
import { statusInText } from "../reason.js";

export function readMailgunEvent(data: unknown, now: Date): EspItem {
  const o = obj(data);
  if (!o) return { invalid: "`event-data` is not a JSON object" };
  const event = str(o.event);
  if (!event) return { invalid: "`event-data` has no `event`" };
  const path = event === "failed" ? [event, str(o.severity) ?? "", str(o.reason) ?? ""] : [event];
  const ds = obj(o["delivery-status"]) ?? {};
  const diagnostic = cleanText(str(ds.description) || str(ds.message));
  const code = smtpCodeOf(ds.code);
  return itemOf(
    "mailgun",
    path,
    {
      address: str(o.recipient),
      eventId: str(o.id),
      occurredAt: dateOf(o.timestamp),
      messageId: str(obj(obj(o.message)?.headers)?.["message-id"]),
      stream: str(obj(o["user-variables"])?.[STREAM_FIELD]),
      from: str(obj(obj(o.message)?.headers)?.from) ?? str(obj(o.envelope)?.sender),
      evidence: {
        status: statusOf(ds["enhanced-code"]) ?? statusInText(diagnostic),
        diagnostic,
        smtpCode: code,
        action: event === "delivered" ? "delivered" : event === "failed" ? "failed" : undefined,
        remoteMta: cleanText(ds["mx-host"], 255),
      },
    },
    now,
  );
}
