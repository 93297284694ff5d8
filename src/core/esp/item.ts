// One provider event, once its reader has picked its fields, through the mapping table. Pure.
import { domainOfAddress } from "../sending-domain.js";
import { espRuleFor, recipientOf, type EspEvidence } from "./mapping.js";
import { cleanText, type EspItem, type EspProvider } from "./types.js";

/** Ids and Message-IDs kept at most this long. */
const MAX_ID = 512;

export interface EspFields {
  address?: string;
  eventId?: string;
  occurredAt?: Date;
  messageId?: string;
  stream?: string;
  /** The sent message's From or envelope sender, where the payload gives it (its domain: the sending domain). */
  from?: string;
  evidence: EspEvidence;
}

export function itemOf(provider: EspProvider, path: readonly string[], f: EspFields, now: Date): EspItem {
  // a missing sub-type is no segment: `bounce/bounce`, not `bounce/bounce/`
  const type = path.slice(0, path.findLastIndex((s) => s !== "") + 1);
  const typeText = type.join("/");
  const rule = espRuleFor(provider, type);
  if (!rule) return { ignored: { type: typeText, rule: `${provider}.unknown` } };
  if (rule.kind === null) return { ignored: { type: typeText, rule: rule.id } };
  const address = cleanText(f.address, 320);
  if (!address) return { invalid: `${typeText}: no recipient` };
  const eventId = cleanText(f.eventId, MAX_ID);
  if (!eventId) return { invalid: `${typeText}: no event id` };
  return {
    event: {
      eventId,
      kind: rule.kind,
      recipient: recipientOf(rule, address, f.evidence),
      occurredAt: f.occurredAt ?? now,
      ...(cleanText(f.messageId, MAX_ID) ? { messageId: cleanText(f.messageId, MAX_ID) } : {}),
      ...(typeof f.stream === "string" && f.stream ? { stream: f.stream.slice(0, 100) } : {}),
      ...(domainOfAddress(f.from) ? { sendingDomain: domainOfAddress(f.from) } : {}),
    },
  };
}
