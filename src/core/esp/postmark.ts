// Postmark's webhooks: one record a request (bounce, spam complaint, delivery, ...). Pure.
//
//   { "RecordType": "Bounce", "ID", "Type": "HardBounce", "TypeCode", "MessageID", "Details", "Email",
//     "BouncedAt", "Metadata": { "rebound_stream": "news" } }
//   { "RecordType": "Delivery", "MessageID", "Recipient", "DeliveredAt", "Details" }
import { itemOf } from "./item.js";
import { smtpCodeInText } from "../reason.js";
import { cleanText, dateOf, obj, str, STREAM_FIELD, type EspItem } from "./types.js";

export function readPostmarkRecord(r: unknown, now: Date): EspItem {
  const o = obj(r);
  if (!o) return { invalid: "the body is not a JSON object" };
  const recordType = str(o.RecordType);
  if (!recordType) return { invalid: "the record has no RecordType" };
  const path = recordType === "Bounce" ? [recordType, str(o.Type) ?? ""] : [recordType];
  const delivery = recordType === "Delivery";
  const address = str(delivery ? o.Recipient : o.Email) ?? str(o.Email) ?? str(o.Recipient);
  const id = str(o.ID);
  const messageId = str(o.MessageID);
  const diagnostic = cleanText(o.Details);
  return itemOf(
    "postmark",
    path,
    {
      address,
      eventId: id
        ? `${recordType}/${id}`
        : messageId && address
          ? `${recordType}/${messageId}/${address.trim().toLowerCase()}`
          : undefined,
      occurredAt: dateOf(delivery ? o.DeliveredAt : (o.BouncedAt ?? o.ReceivedAt)),
      messageId,
      stream: str(obj(o.Metadata)?.[STREAM_FIELD]),
      from: str(o.From),
      evidence: {
        diagnostic,
        smtpCode: smtpCodeInText(diagnostic),
        action: delivery ? "delivered" : undefined,
      },
    },
    now,
  );
}
