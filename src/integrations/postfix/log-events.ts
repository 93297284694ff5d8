// A Postfix delivery record -> the event Rebound records for it, or why none. Pure.
//
//   status=sent                 a delivery: resets the address's soft-bounce counts in its stream
//   status=bounced              a bounce, classified from dsn= and the reply text by the same rules as a DSN
//   status=deferred             a soft bounce (or a block), the first deferral of a recipient of a mail only
//   status=expired              the mail gave up after its deferrals: `expired`, unless the reply says worse
//
// Not recorded: Postfix's own notifications (null sender), and refusals Rebound itself caused (the lookup
// role's "suppressed by Rebound ..." through the transport map): they would feed a suppression back into itself.
import { normalizeAddress } from "../../core/address.js";
import type { Attributed } from "../../core/attribute.js";
import type { PostfixDelivery } from "../../core/postfix-log.js";
import { decideReason, smtpCodeInText, type Decision } from "../../core/reason.js";
import { classOf, type Recipient } from "../../core/report.js";
import { domainOfAddress } from "../../core/sending-domain.js";
import { decodeVerp, type VerpKey } from "../../core/verp.js";
import { streamOfSender } from "./answer.js";

export interface LogAttribution {
  verpKeys: readonly VerpKey[];
  senderStreams: ReadonlyMap<string, string>;
  /** The tenant of mail whose sender is not a signed return path. */
  tenant: string;
  /** The tenant of a signed return path that names none. */
  defaultTenant: string;
  defaultStream: string;
  caseSensitiveLocalPart: boolean;
}

export const LOG_SKIPS = ["null_sender", "rebound_refusal", "repeated_deferral", "bad_address"] as const;
export type LogSkip = (typeof LOG_SKIPS)[number];

export interface LogEvent {
  kind: "delivery" | "bounce";
  who: Attributed;
  occurredAt: Date;
  /** The domain of the queue id's sender (`from=<...>`). */
  sendingDomain: string | null;
}

export function eventOfDelivery(d: PostfixDelivery, a: LogAttribution): LogEvent | { skip: LogSkip } {
  const r = recipientOfDelivery(d, a);
  return "skip" in r ? r : eventOfRecipient(d, r);
}

/** Whose a record is: what every record needs, whether it becomes an event or is only counted. */
export interface LogRecipient {
  address: string;
  addressOriginal: string;
  domain: string;
  tenant: string;
  stream: string;
  verpKeyId: string | null;
}

/** A record's recipient and attribution (the first half of eventOfDelivery), or why it is not recorded. */
export function recipientOfDelivery(d: PostfixDelivery, a: LogAttribution): LogRecipient | { skip: LogSkip } {
  if (d.from === "") return { skip: "null_sender" };
  if (d.reply.startsWith("suppressed by Rebound")) return { skip: "rebound_refusal" };
  if (d.again) return { skip: "repeated_deferral" };
  const n = normalizeAddress(d.to, { caseSensitiveLocalPart: a.caseSensitiveLocalPart });
  if (!n.ok) return { skip: "bad_address" };
  const { tenant, stream, verpKeyId } = attribute(d, n.address, a);
  return { address: n.address, addressOriginal: d.to, domain: n.domain, tenant, stream, verpKeyId };
}

/** The event of a record whose recipient recipientOfDelivery gave (the second half of eventOfDelivery). */
export function eventOfRecipient(d: PostfixDelivery, r: LogRecipient): LogEvent {
  const remoteMta = d.relay && d.relay !== "none" ? hostOfRelay(d.relay) : undefined;
  const base = { recipient: r.address, remoteMta, diagnostic: d.reply || undefined };
  let recipient: Recipient;
  if (d.status === "sent") {
    recipient = {
      ...base,
      reason: "delivered",
      class: "delivered",
      permanent: null,
      status: d.dsn,
      action: "delivered",
      rule: "postfix-log.sent",
      parser: "text",
    };
  } else {
    const { smtpCode, decided } = decisionOf(d.dsn, d.reply);
    let reason = decided.reason;
    let rule = `postfix-log.${d.status}/${decided.rule}`;
    // a deferral is transient whatever the reply says; an expiry gave up on a cause that was transient each time
    let permanent = d.status === "deferred" ? false : decided.permanent;
    let cls = classOf(reason, decided.status, decided.smtpCode, permanent);
    if (d.status === "expired" && (cls === "soft" || cls === "undetermined")) {
      reason = "expired";
      permanent = false;
      cls = classOf(reason);
      rule = "postfix-log.expired";
    }
    recipient = {
      ...base,
      reason,
      class: cls,
      permanent,
      status: decided.status ?? d.dsn,
      smtpCode: decided.smtpCode ?? smtpCode,
      action: d.status === "deferred" ? "delayed" : "failed",
      rule,
      parser: "text",
    };
  }
  return {
    kind: d.status === "sent" ? "delivery" : "bounce",
    occurredAt: d.at,
    sendingDomain: domainOfAddress(d.from) ?? null,
    who: {
      address: r.address,
      addressOriginal: r.addressOriginal,
      domain: r.domain,
      tenant: r.tenant,
      stream: r.stream,
      // Read from the operator's own Postfix log by the operator's own command: as trusted as the API.
      verification: "verified",
      verpKeyId: r.verpKeyId,
      recipient,
    },
  };
}

/**
 * The reading of a reply and its dsn= (decideReason's, pure), kept for the next records with the same: a relay's
 * deferrals repeat their replies ("Mailbox full", greylisting, a host that does not answer). At most
 * MAX_DECISIONS, all forgotten when full. The keys are copies: a reply is a slice of the text read, which a kept
 * slice would keep whole.
 */
const decisions = new Map<string, { smtpCode: number | undefined; decided: Decision }>();
const MAX_DECISIONS = 4096;

function decisionOf(dsn: string | undefined, reply: string) {
  const key = dsn === undefined ? `-${reply}` : `${dsn.length}:${dsn}${reply}`;
  let d = decisions.get(key);
  if (!d) {
    const smtpCode = smtpCodeInText(reply);
    d = {
      smtpCode,
      decided: decideReason({ status: dsn, statusSource: "dsn", diagnostic: reply, smtpCode }),
    };
    if (decisions.size >= MAX_DECISIONS) decisions.clear();
    decisions.set(Buffer.from(key, "utf16le").toString("utf16le"), d);
  }
  return d;
}

function attribute(d: PostfixDelivery, address: string, a: LogAttribution) {
  const from = d.from ?? "";
  if (from && a.verpKeys.length > 0) {
    const v = decodeVerp(from, a.verpKeys, { candidates: [address] });
    if (v.ok && v.recipient.toLowerCase() === address.toLowerCase())
      return { tenant: v.tenant ?? a.defaultTenant, stream: v.stream, verpKeyId: v.keyId };
  }
  return { tenant: a.tenant, stream: senderStream(from, a), verpKeyId: null };
}

/** The stream of the last sender asked, for its attribution (a log's mails mostly share a few senders). */
let lastSender: { from: string; a: LogAttribution; stream: string } | undefined;

/** streamOfSender, or the default stream. */
function senderStream(from: string, a: LogAttribution): string {
  const last = lastSender;
  if (last && last.a === a && last.from === from) return last.stream;
  const stream = streamOfSender(from, a.senderStreams) ?? a.defaultStream;
  lastSender = { from, a, stream };
  return stream;
}

/** `mx.example.org[192.0.2.1]:25` -> `mx.example.org`. */
function hostOfRelay(relay: string): string {
  const b = relay.indexOf("[");
  return b < 0 ? relay : relay.slice(0, b);
}
