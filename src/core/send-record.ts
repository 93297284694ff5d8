// One record of a sends upload (POST /v1/sends, `rebound sends import`), checked: pure (`now` passed in).
//
// Two shapes:
// - a message: `recipient`, `stream`, `messageId`, `sentAt`, and optionally `campaign`, `sendingIp`, and
//   `sendingDomain` or `from` (the domain it was sent from: events tied to it that show none take it);
// - counts: `stream`, `hour`, `count`, `recipientDomain` or `provider`, and optionally `campaign`, `sendingIp`.
// Anything else (an unknown field, a bad value) is refused with a code and a message that names the field.
import { isIP } from "node:net";
import { normalizeAddress } from "./address.js";
import { hourOf } from "./rollup.js";
import { isProvider, PROVIDERS } from "./provider.js";
import { asDomain, domainOfAddress } from "./sending-domain.js";
import { VERP_NAME } from "./verp.js";

/** A send reported from the future beyond this (clock skew aside) is refused. */
export const MAX_SKEW_MS = 5 * 60_000;
/** A send older than this is refused (the rollups do not reach that far back). */
export const MAX_AGE_DAYS = 400;
/** The largest `count` of one record. */
export const MAX_COUNT = 100_000_000;

export const SEND_ERROR_CODES = [
  "unreadable",
  "unknown_field",
  "ambiguous_record",
  "missing_field",
  "bad_field",
  "invalid_recipient",
  "bad_stream",
  "unknown_stream",
  "unknown_provider",
  "bad_sending_ip",
  "bad_date",
  "future_date",
  "too_old",
  "negative_count",
  "bad_count",
  "line_too_long",
  "batch_id_required",
] as const;
export type SendErrorCode = (typeof SEND_ERROR_CODES)[number];

export interface SendMessage {
  type: "message";
  messageId: string;
  stream: string;
  campaign: string;
  sendingIp: string;
  recipientDomain: string;
  sentAt: Date;
  /** The domain it was sent from (`sendingDomain`, else the domain of `from`); "" when not given. */
  sendingDomain: string;
}

export interface SendCount {
  type: "count";
  stream: string;
  campaign: string;
  sendingIp: string;
  /** The provider named, or undefined when the record gives a recipient domain instead. */
  provider?: string;
  recipientDomain?: string;
  hour: Date;
  count: number;
}

export type SendCheck = SendMessage | SendCount | { type: "error"; code: SendErrorCode; message: string };

export interface SendRules {
  now: Date;
  /** The streams accepted; empty: any well-formed name. */
  streams: readonly string[];
  caseSensitiveLocalPart?: boolean;
}

const MESSAGE_FIELDS = new Set([
  "recipient",
  "stream",
  "campaign",
  "sendingIp",
  "messageId",
  "sentAt",
  "sendingDomain",
  "from",
]);
const COUNT_FIELDS = new Set([
  "stream",
  "campaign",
  "sendingIp",
  "recipientDomain",
  "provider",
  "hour",
  "count",
]);
const DAY_MS = 86_400_000;

/** A refusal, as checkSendRecord returns it. */
class Refused {
  readonly type = "error" as const;
  constructor(
    readonly code: SendErrorCode,
    readonly message: string,
  ) {}
}

/** A string field: trimmed, undefined when absent or empty, refused when not a string or too long. */
function str(
  o: Record<string, unknown>,
  k: string,
  max: number,
  required: boolean,
): string | undefined | Refused {
  const v = o[k];
  if (v === undefined || v === null || v === "")
    return required ? new Refused("missing_field", `\`${k}\` is required`) : undefined;
  if (typeof v !== "string") return new Refused("bad_field", `\`${k}\` must be a string`);
  if (v.length > max) return new Refused("bad_field", `\`${k}\` is longer than ${max} characters`);
  return v.trim();
}

/** A date-time field, within [now - MAX_AGE_DAYS, now + MAX_SKEW_MS]. */
function when(o: Record<string, unknown>, k: string, now: number): Date | Refused {
  const v = str(o, k, 40, true);
  if (v instanceof Refused) return v;
  const t = Date.parse(v!);
  if (Number.isNaN(t)) return new Refused("bad_date", `\`${k}\` is not a date-time: "${v}"`);
  if (t > now + MAX_SKEW_MS) return new Refused("future_date", `\`${k}\` is in the future: ${v}`);
  if (t < now - MAX_AGE_DAYS * DAY_MS)
    return new Refused("too_old", `\`${k}\` is more than ${MAX_AGE_DAYS} days ago: ${v}`);
  return new Date(t);
}

export function checkSendRecord(o: Record<string, unknown>, rules: SendRules): SendCheck {
  const isCount = o.count !== undefined;
  if (isCount && o.recipient !== undefined)
    return new Refused(
      "ambiguous_record",
      "a record is a message (`recipient`) or counts (`count`), not both",
    );
  const allowed = isCount ? COUNT_FIELDS : MESSAGE_FIELDS;
  for (const k in o)
    if (!allowed.has(k))
      return new Refused(
        "unknown_field",
        `unknown field "${k.slice(0, 100)}" in a ${isCount ? "counts" : "message"} record`,
      );

  const stream = str(o, "stream", 100, true);
  if (stream instanceof Refused) return stream;
  const s = stream!.toLowerCase();
  if (!VERP_NAME.test(s))
    return new Refused("bad_stream", `stream "${stream}" must be 1-20 letters, digits, "_" or "-"`);
  if (rules.streams.length && !rules.streams.includes(s))
    return new Refused("unknown_stream", `unknown stream "${s}" (known: ${rules.streams.join(", ")})`);
  const campaign = str(o, "campaign", 200, false);
  if (campaign instanceof Refused) return campaign;
  const ip = str(o, "sendingIp", 45, false);
  if (ip instanceof Refused) return ip;
  if (ip !== undefined && !isIP(ip))
    return new Refused("bad_sending_ip", `sendingIp "${ip}" is not an IP address`);
  const now = rules.now.getTime();

  if (!isCount) {
    const recipient = str(o, "recipient", 400, true);
    if (recipient instanceof Refused) return recipient;
    const n = normalizeAddress(recipient!, { caseSensitiveLocalPart: rules.caseSensitiveLocalPart });
    if (!n.ok) return new Refused("invalid_recipient", `invalid recipient: ${n.message}`);
    const messageId = str(o, "messageId", 998, true);
    if (messageId instanceof Refused) return messageId;
    const sentAt = when(o, "sentAt", now);
    if (sentAt instanceof Refused) return sentAt;
    const named = str(o, "sendingDomain", 253, false);
    if (named instanceof Refused) return named;
    const sendingDomain = named === undefined ? undefined : asDomain(named);
    if (named !== undefined && !sendingDomain)
      return new Refused("bad_field", `\`sendingDomain\` is not a domain name: "${named.slice(0, 100)}"`);
    const from = str(o, "from", 998, false);
    if (from instanceof Refused) return from;
    const fromDomain = from === undefined ? undefined : domainOfAddress(from);
    if (from !== undefined && !fromDomain)
      return new Refused("bad_field", `\`from\` has no address with a domain: "${from.slice(0, 100)}"`);
    return {
      type: "message",
      stream: s,
      campaign: campaign ?? "",
      sendingIp: ip ?? "",
      messageId: normalizeMessageId(messageId!),
      recipientDomain: n.domain,
      sentAt,
      sendingDomain: sendingDomain ?? fromDomain ?? "",
    };
  }

  const count = o.count;
  if (typeof count !== "number" || !Number.isInteger(count))
    return new Refused("bad_count", "`count` must be an integer");
  if (count < 0) return new Refused("negative_count", `\`count\` is negative: ${count}`);
  if (count > MAX_COUNT) return new Refused("bad_count", `\`count\` is larger than ${MAX_COUNT}`);
  const domain = str(o, "recipientDomain", 255, false);
  if (domain instanceof Refused) return domain;
  const provider = str(o, "provider", 40, false);
  if (provider instanceof Refused) return provider;
  if ((domain === undefined) === (provider === undefined))
    return new Refused(
      "missing_field",
      "a counts record names `recipientDomain` or `provider` (one of them)",
    );
  if (provider !== undefined && !isProvider(provider.toLowerCase()))
    return new Refused("unknown_provider", `unknown provider "${provider}" (one of ${PROVIDERS.join(", ")})`);
  const hour = when(o, "hour", now);
  if (hour instanceof Refused) return hour;
  return {
    type: "count",
    stream: s,
    campaign: campaign ?? "",
    sendingIp: ip ?? "",
    provider: provider?.toLowerCase(),
    recipientDomain: domain?.toLowerCase().replace(/\.$/, ""),
    hour: hourOf(hour),
    count,
  };
}

/** A Message-ID as sends are keyed by it: without its angle brackets and surrounding white space. */
export function normalizeMessageId(id: string): string {
  const t = id.trim();
  return t.startsWith("<") && t.endsWith(">") ? t.slice(1, -1).trim() : t;
}
