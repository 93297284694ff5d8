// Each ESP's event types mapped to Rebound's reasons, classes and permanence: a table, as data, with an example
// payload item beside each entry (test/core/esp/mapping.test.ts reads every example through its provider's
// reader and checks that it lands on its entry). Pure.
//
// A provider's type is a path, most general first (`Bounce/Permanent/NoEmail`); the longest key of the table that
// is a prefix of it wins, so `ses.bounce.permanent` catches a sub-type SES adds later. An entry with `read`
// reads the status code and the diagnostic by the same rules as a DSN (src/core/reason.ts) and keeps its own
// reason only when they say nothing; the provider's permanence, where the entry states one, stands.
//
// Not recorded (kind null): opens, clicks, sends, unsubscribes, and the deferrals an ESP retries on its own (its
// final bounce or delivery follows, so a deferral would count one failure several times).
import { decideReason } from "../reason.js";
import { classOf, type FeedbackType, type ParserName, type Reason, type Recipient } from "../report.js";
import type { EspKind, EspProvider, Json } from "./types.js";

export interface EspRule {
  /** What the decision names: the event's `rule` starts with it. */
  id: string;
  provider: EspProvider;
  /** The provider's type, as its reader spells it (segments joined by `/`). */
  type: string;
  /** What the event becomes; null: not recorded. */
  kind: EspKind | null;
  /** The reason (with `read`: when the status and diagnostic say nothing). */
  reason?: Reason;
  /** Read the status code and the diagnostic first (src/core/reason.ts). */
  read?: boolean;
  /** The permanence the provider states; absent: from the evidence. */
  permanent?: boolean | null;
  feedbackType?: FeedbackType;
  /** One payload item (the provider's documented format, abridged) that this entry maps. */
  example: Json;
}

// Example items, from each provider's documented format (abridged to what the readers use).
const sesMail = {
  messageId: "0100017c9a8f6a3b-6a0b7c3e-0000-0000-0000-000000000000-000000",
  timestamp: "2026-12-07T10:00:00.000Z",
  source: "news@example.com",
  destination: ["jane@example.org"],
  commonHeaders: { messageId: "<campaign-1.jane@example.com>" },
};
const sesBounce = (bounceType: string, bounceSubType: string, status = "5.1.1", diag?: string): Json => ({
  notificationType: "Bounce",
  bounce: {
    bounceType,
    bounceSubType,
    bouncedRecipients: [
      {
        emailAddress: "jane@example.org",
        action: "failed",
        status,
        ...(diag ? { diagnosticCode: diag } : {}),
      },
    ],
    timestamp: "2026-12-07T10:00:05.000Z",
    feedbackId: `0100017c9a8f6f00-${bounceType}-${bounceSubType}-000000`,
    reportingMTA: "dsn; a8-1.smtp-out.amazonses.com",
  },
  mail: sesMail,
});
const ses = (type: string, extra: Json = {}): Json => ({ eventType: type, mail: sesMail, ...extra });

const sg = (event: string, extra: Json = {}): Json => ({
  email: "jane@example.org",
  timestamp: 1_796_637_600,
  "smtp-id": "<campaign-1.jane@example.com>",
  event,
  sg_event_id: `sg-${event}-${String(extra.type ?? extra.reason ?? "")}`,
  sg_message_id: "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
  ...extra,
});

const mg = (event: string, extra: Json = {}): Json => ({
  event,
  id: `mg-${event}-${String(extra.severity ?? "")}-${String(extra.reason ?? "")}`,
  timestamp: 1_796_637_600.5,
  recipient: "jane@example.org",
  message: { headers: { "message-id": "campaign-1.jane@example.com" } },
  ...extra,
});
const mgFailed = (severity: string, reason: string, code: number, description: string): Json =>
  mg("failed", {
    severity,
    reason,
    "delivery-status": { code, description, message: description, "attempt-no": 1 },
  });

const pmBounce = (type: string, typeCode: number, details: string): Json => ({
  RecordType: "Bounce",
  ID: typeCode + 4_000_000_000,
  Type: type,
  TypeCode: typeCode,
  MessageID: "883953f4-6105-42a2-a16a-77a8eac79483",
  MessageStream: "outbound",
  Details: details,
  Email: "jane@example.org",
  BouncedAt: "2026-12-07T10:00:05Z",
});
const pm = (recordType: string, extra: Json = {}): Json => ({
  RecordType: recordType,
  MessageID: "883953f4-6105-42a2-a16a-77a8eac79483",
  Recipient: "jane@example.org",
  ...extra,
});

export const ESP_RULES: readonly EspRule[] = [
  // Amazon SES (SNS notifications and event publishing): bounceType / bounceSubType.
  {
    id: "ses.bounce.permanent",
    provider: "ses",
    type: "Bounce/Permanent",
    kind: "bounce",
    read: true,
    reason: "undefined",
    permanent: true,
    example: sesBounce(
      "Permanent",
      "General",
      "5.0.0",
      "smtp; 550 5.1.1 <jane@example.org>: Recipient address rejected: User unknown",
    ),
  },
  {
    id: "ses.bounce.permanent.noemail",
    provider: "ses",
    type: "Bounce/Permanent/NoEmail",
    kind: "bounce",
    reason: "userunknown",
    permanent: true,
    example: sesBounce("Permanent", "NoEmail"),
  },
  {
    id: "ses.bounce.permanent.suppressed",
    provider: "ses",
    type: "Bounce/Permanent/Suppressed",
    kind: "bounce",
    reason: "suppressed",
    permanent: true,
    example: sesBounce(
      "Permanent",
      "Suppressed",
      "5.1.1",
      "Amazon SES has suppressed sending to this address",
    ),
  },
  {
    id: "ses.bounce.permanent.account-suppressed",
    provider: "ses",
    type: "Bounce/Permanent/OnAccountSuppressionList",
    kind: "bounce",
    reason: "suppressed",
    permanent: true,
    example: sesBounce("Permanent", "OnAccountSuppressionList", "5.1.1"),
  },
  {
    id: "ses.bounce.transient",
    provider: "ses",
    type: "Bounce/Transient",
    kind: "bounce",
    read: true,
    reason: "undefined",
    permanent: false,
    example: sesBounce("Transient", "General", "4.0.0", "smtp; 451 4.3.0 try again later"),
  },
  {
    id: "ses.bounce.transient.mailboxfull",
    provider: "ses",
    type: "Bounce/Transient/MailboxFull",
    kind: "bounce",
    reason: "mailboxfull",
    permanent: false,
    example: sesBounce("Transient", "MailboxFull", "4.2.2"),
  },
  {
    id: "ses.bounce.transient.toolarge",
    provider: "ses",
    type: "Bounce/Transient/MessageTooLarge",
    kind: "bounce",
    reason: "emailtoolarge",
    permanent: false,
    example: sesBounce("Transient", "MessageTooLarge", "5.3.4"),
  },
  {
    id: "ses.bounce.transient.content",
    provider: "ses",
    type: "Bounce/Transient/ContentRejected",
    kind: "bounce",
    reason: "contenterror",
    permanent: false,
    example: sesBounce("Transient", "ContentRejected", "5.6.0"),
  },
  {
    id: "ses.bounce.transient.attachment",
    provider: "ses",
    type: "Bounce/Transient/AttachmentRejected",
    kind: "bounce",
    reason: "contenterror",
    permanent: false,
    example: sesBounce("Transient", "AttachmentRejected", "5.6.0"),
  },
  {
    id: "ses.bounce.undetermined",
    provider: "ses",
    type: "Bounce/Undetermined",
    kind: "bounce",
    read: true,
    reason: "undefined",
    example: sesBounce("Undetermined", "Undetermined", "5.0.0"),
  },
  {
    id: "ses.complaint",
    provider: "ses",
    type: "Complaint",
    kind: "complaint",
    reason: "feedback",
    permanent: null,
    feedbackType: "abuse",
    example: {
      notificationType: "Complaint",
      complaint: {
        complainedRecipients: [{ emailAddress: "jane@example.org" }],
        timestamp: "2026-12-07T11:00:00.000Z",
        feedbackId: "0100017c9a8f7000-complaint-000000",
        complaintFeedbackType: "abuse",
      },
      mail: sesMail,
    },
  },
  {
    id: "ses.delivery",
    provider: "ses",
    type: "Delivery",
    kind: "delivery",
    reason: "delivered",
    permanent: null,
    example: {
      notificationType: "Delivery",
      delivery: {
        timestamp: "2026-12-07T10:00:02.000Z",
        recipients: ["jane@example.org"],
        smtpResponse: "250 2.6.0 Message received",
        reportingMTA: "a8-1.smtp-out.amazonses.com",
      },
      mail: sesMail,
    },
  },
  {
    id: "ses.deliverydelay",
    provider: "ses",
    type: "DeliveryDelay",
    kind: null,
    example: ses("DeliveryDelay"),
  },
  { id: "ses.send", provider: "ses", type: "Send", kind: null, example: ses("Send") },
  { id: "ses.reject", provider: "ses", type: "Reject", kind: null, example: ses("Reject") },
  { id: "ses.open", provider: "ses", type: "Open", kind: null, example: ses("Open") },
  { id: "ses.click", provider: "ses", type: "Click", kind: null, example: ses("Click") },
  {
    id: "ses.rendering-failure",
    provider: "ses",
    type: "Rendering Failure",
    kind: null,
    example: ses("Rendering Failure"),
  },
  { id: "ses.subscription", provider: "ses", type: "Subscription", kind: null, example: ses("Subscription") },

  // SendGrid Event Webhook: event / bounce type / bounce_classification, dropped / reason.
  {
    id: "sendgrid.bounce",
    provider: "sendgrid",
    type: "bounce/bounce",
    kind: "bounce",
    read: true,
    reason: "undefined",
    permanent: true,
    example: sg("bounce", {
      type: "bounce",
      status: "5.0.0",
      reason: "550 5.1.1 The email account does not exist",
    }),
  },
  {
    id: "sendgrid.bounce.invalid-address",
    provider: "sendgrid",
    type: "bounce/bounce/Invalid Address",
    kind: "bounce",
    reason: "userunknown",
    permanent: true,
    example: sg("bounce", { type: "bounce", bounce_classification: "Invalid Address", status: "5.1.1" }),
  },
  {
    id: "sendgrid.bounce.reputation",
    provider: "sendgrid",
    type: "bounce/bounce/Reputation",
    kind: "bounce",
    reason: "badreputation",
    permanent: true,
    example: sg("bounce", { type: "bounce", bounce_classification: "Reputation", status: "5.7.1" }),
  },
  {
    id: "sendgrid.bounce.content",
    provider: "sendgrid",
    type: "bounce/bounce/Content",
    kind: "bounce",
    reason: "contenterror",
    permanent: true,
    example: sg("bounce", { type: "bounce", bounce_classification: "Content", status: "5.7.1" }),
  },
  {
    id: "sendgrid.bounce.frequency",
    provider: "sendgrid",
    type: "bounce/bounce/Frequency or Volume",
    kind: "bounce",
    reason: "ratelimited",
    permanent: true,
    example: sg("bounce", { type: "bounce", bounce_classification: "Frequency or Volume", status: "5.7.1" }),
  },
  {
    id: "sendgrid.blocked",
    provider: "sendgrid",
    type: "bounce/blocked",
    kind: "bounce",
    read: true,
    reason: "blocked",
    example: sg("bounce", {
      type: "blocked",
      status: "5.7.1",
      reason: "550 5.7.1 Service unavailable; client host blocked",
    }),
  },
  {
    id: "sendgrid.dropped.bounced-address",
    provider: "sendgrid",
    type: "dropped/Bounced Address",
    kind: "bounce",
    reason: "suppressed",
    permanent: true,
    example: sg("dropped", { reason: "Bounced Address" }),
  },
  {
    id: "sendgrid.dropped.spam-reporting-address",
    provider: "sendgrid",
    type: "dropped/Spam Reporting Address",
    kind: "bounce",
    reason: "suppressed",
    permanent: true,
    example: sg("dropped", { reason: "Spam Reporting Address" }),
  },
  {
    id: "sendgrid.dropped.invalid",
    provider: "sendgrid",
    type: "dropped/Invalid",
    kind: "bounce",
    reason: "userunknown",
    permanent: true,
    example: sg("dropped", { reason: "Invalid" }),
  },
  {
    id: "sendgrid.dropped",
    provider: "sendgrid",
    type: "dropped",
    kind: null,
    example: sg("dropped", { reason: "Unsubscribed Address" }),
  },
  {
    id: "sendgrid.spamreport",
    provider: "sendgrid",
    type: "spamreport",
    kind: "complaint",
    reason: "feedback",
    permanent: null,
    feedbackType: "abuse",
    example: sg("spamreport"),
  },
  {
    id: "sendgrid.delivered",
    provider: "sendgrid",
    type: "delivered",
    kind: "delivery",
    reason: "delivered",
    permanent: null,
    example: sg("delivered", { response: "250 OK" }),
  },
  {
    id: "sendgrid.deferred",
    provider: "sendgrid",
    type: "deferred",
    kind: null,
    example: sg("deferred", { attempt: "1" }),
  },
  { id: "sendgrid.processed", provider: "sendgrid", type: "processed", kind: null, example: sg("processed") },
  { id: "sendgrid.open", provider: "sendgrid", type: "open", kind: null, example: sg("open") },
  { id: "sendgrid.click", provider: "sendgrid", type: "click", kind: null, example: sg("click") },
  {
    id: "sendgrid.unsubscribe",
    provider: "sendgrid",
    type: "unsubscribe",
    kind: null,
    example: sg("unsubscribe"),
  },
  {
    id: "sendgrid.group-unsubscribe",
    provider: "sendgrid",
    type: "group_unsubscribe",
    kind: null,
    example: sg("group_unsubscribe"),
  },
  {
    id: "sendgrid.group-resubscribe",
    provider: "sendgrid",
    type: "group_resubscribe",
    kind: null,
    example: sg("group_resubscribe"),
  },

  // Mailgun webhooks (event-data): event / severity / reason.
  {
    id: "mailgun.failed.permanent",
    provider: "mailgun",
    type: "failed/permanent",
    kind: "bounce",
    read: true,
    reason: "undefined",
    permanent: true,
    example: mgFailed(
      "permanent",
      "bounce",
      550,
      "5.1.1 The email account that you tried to reach does not exist",
    ),
  },
  {
    id: "mailgun.failed.permanent.suppress-bounce",
    provider: "mailgun",
    type: "failed/permanent/suppress-bounce",
    kind: "bounce",
    reason: "suppressed",
    permanent: true,
    example: mgFailed("permanent", "suppress-bounce", 605, "Not delivering to previously bounced address"),
  },
  {
    id: "mailgun.failed.permanent.suppress-complaint",
    provider: "mailgun",
    type: "failed/permanent/suppress-complaint",
    kind: "bounce",
    reason: "suppressed",
    permanent: true,
    example: mgFailed(
      "permanent",
      "suppress-complaint",
      607,
      "Not delivering to a user who marked your messages as spam",
    ),
  },
  {
    id: "mailgun.failed.permanent.suppress-unsubscribe",
    provider: "mailgun",
    type: "failed/permanent/suppress-unsubscribe",
    kind: null,
    example: mgFailed("permanent", "suppress-unsubscribe", 606, "Not delivering to unsubscribed address"),
  },
  {
    id: "mailgun.failed.permanent.old",
    provider: "mailgun",
    type: "failed/permanent/old",
    kind: "bounce",
    reason: "expired",
    permanent: false,
    example: mgFailed("permanent", "old", 0, "Too old"),
  },
  {
    id: "mailgun.failed.temporary",
    provider: "mailgun",
    type: "failed/temporary",
    kind: null,
    example: mgFailed(
      "temporary",
      "generic",
      452,
      "4.2.2 The email account that you tried to reach is over quota",
    ),
  },
  {
    id: "mailgun.delivered",
    provider: "mailgun",
    type: "delivered",
    kind: "delivery",
    reason: "delivered",
    permanent: null,
    example: mg("delivered", { "delivery-status": { code: 250, message: "OK" } }),
  },
  {
    id: "mailgun.complained",
    provider: "mailgun",
    type: "complained",
    kind: "complaint",
    reason: "feedback",
    permanent: null,
    feedbackType: "abuse",
    example: mg("complained"),
  },
  { id: "mailgun.accepted", provider: "mailgun", type: "accepted", kind: null, example: mg("accepted") },
  { id: "mailgun.rejected", provider: "mailgun", type: "rejected", kind: null, example: mg("rejected") },
  { id: "mailgun.opened", provider: "mailgun", type: "opened", kind: null, example: mg("opened") },
  { id: "mailgun.clicked", provider: "mailgun", type: "clicked", kind: null, example: mg("clicked") },
  {
    id: "mailgun.unsubscribed",
    provider: "mailgun",
    type: "unsubscribed",
    kind: null,
    example: mg("unsubscribed"),
  },
  { id: "mailgun.stored", provider: "mailgun", type: "stored", kind: null, example: mg("stored") },

  // Postmark webhooks: RecordType / bounce Type.
  {
    id: "postmark.bounce.hard",
    provider: "postmark",
    type: "Bounce/HardBounce",
    kind: "bounce",
    read: true,
    reason: "userunknown",
    permanent: true,
    example: pmBounce(
      "HardBounce",
      1,
      "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
    ),
  },
  {
    id: "postmark.bounce.transient",
    provider: "postmark",
    type: "Bounce/Transient",
    kind: "bounce",
    read: true,
    reason: "undefined",
    permanent: false,
    example: pmBounce("Transient", 2, "smtp;451 4.4.1 no answer from host"),
  },
  {
    id: "postmark.bounce.soft",
    provider: "postmark",
    type: "Bounce/SoftBounce",
    kind: "bounce",
    read: true,
    reason: "mailboxfull",
    permanent: false,
    example: pmBounce("SoftBounce", 4096, "Mailbox unavailable"),
  },
  {
    id: "postmark.bounce.dns-error",
    provider: "postmark",
    type: "Bounce/DnsError",
    kind: "bounce",
    reason: "networkerror",
    permanent: false,
    example: pmBounce("DnsError", 256, "DNS lookup failed"),
  },
  {
    id: "postmark.bounce.bad-address",
    provider: "postmark",
    type: "Bounce/BadEmailAddress",
    kind: "bounce",
    reason: "userunknown",
    permanent: true,
    example: pmBounce("BadEmailAddress", 100000, "Invalid email address"),
  },
  {
    id: "postmark.bounce.address-change",
    provider: "postmark",
    type: "Bounce/AddressChange",
    kind: "bounce",
    reason: "hasmoved",
    permanent: true,
    example: pmBounce("AddressChange", 128, "The recipient has requested an address change"),
  },
  {
    id: "postmark.bounce.blocked",
    provider: "postmark",
    type: "Bounce/Blocked",
    kind: "bounce",
    read: true,
    reason: "blocked",
    example: pmBounce("Blocked", 100006, "ISP block"),
  },
  {
    id: "postmark.bounce.spam-notification",
    provider: "postmark",
    type: "Bounce/SpamNotification",
    kind: "bounce",
    reason: "spamdetected",
    permanent: true,
    example: pmBounce("SpamNotification", 512, "The message was classified as spam"),
  },
  {
    id: "postmark.bounce.virus-notification",
    provider: "postmark",
    type: "Bounce/VirusNotification",
    kind: "bounce",
    reason: "virusdetected",
    permanent: true,
    example: pmBounce("VirusNotification", 8192, "Virus found"),
  },
  {
    id: "postmark.bounce.dmarc-policy",
    provider: "postmark",
    type: "Bounce/DMARCPolicy",
    kind: "bounce",
    reason: "authfailure",
    permanent: true,
    example: pmBounce("DMARCPolicy", 100009, "Rejected by DMARC policy"),
  },
  {
    id: "postmark.bounce.autoresponder",
    provider: "postmark",
    type: "Bounce/AutoResponder",
    kind: "auto_reply",
    reason: "vacation",
    permanent: null,
    example: pmBounce("AutoResponder", 64, "Out of office"),
  },
  {
    id: "postmark.bounce.spam-complaint",
    provider: "postmark",
    type: "Bounce/SpamComplaint",
    kind: "complaint",
    reason: "feedback",
    permanent: null,
    feedbackType: "abuse",
    example: pmBounce("SpamComplaint", 100001, ""),
  },
  {
    id: "postmark.bounce.unknown",
    provider: "postmark",
    type: "Bounce/Unknown",
    kind: "bounce",
    read: true,
    reason: "undefined",
    example: pmBounce("Unknown", 2048, "smtp;554 5.7.1 rejected due to poor reputation"),
  },
  {
    id: "postmark.bounce",
    provider: "postmark",
    type: "Bounce",
    kind: null,
    example: pmBounce("ChallengeVerification", 16384, "Challenge"),
  },
  {
    id: "postmark.spam-complaint",
    provider: "postmark",
    type: "SpamComplaint",
    kind: "complaint",
    reason: "feedback",
    permanent: null,
    feedbackType: "abuse",
    example: { ...pmBounce("SpamComplaint", 100001, ""), RecordType: "SpamComplaint" },
  },
  {
    id: "postmark.delivery",
    provider: "postmark",
    type: "Delivery",
    kind: "delivery",
    reason: "delivered",
    permanent: null,
    example: pm("Delivery", {
      DeliveredAt: "2026-12-07T10:00:02Z",
      Details: "Test delivery webhook details",
    }),
  },
  { id: "postmark.open", provider: "postmark", type: "Open", kind: null, example: pm("Open") },
  { id: "postmark.click", provider: "postmark", type: "Click", kind: null, example: pm("Click") },
  {
    id: "postmark.subscription-change",
    provider: "postmark",
    type: "SubscriptionChange",
    kind: null,
    example: pm("SubscriptionChange"),
  },
];

const BY_KEY = new Map(ESP_RULES.map((r) => [`${r.provider}:${r.type}`, r]));

/** The entry for a provider's type path: the longest key that is a prefix of it; undefined when none is. */
export function espRuleFor(provider: EspProvider, type: readonly string[]): EspRule | undefined {
  for (let n = type.length; n > 0; n--) {
    const r = BY_KEY.get(`${provider}:${type.slice(0, n).join("/")}`);
    if (r) return r;
  }
  return undefined;
}

/** What the provider reports of one recipient, besides its type. */
export interface EspEvidence {
  status?: string;
  smtpCode?: number;
  diagnostic?: string;
  action?: string;
  remoteMta?: string;
  reportingMta?: string;
  feedbackType?: string;
}

/** One recipient's result under an entry (kind not null): reason, class, permanence, and the rule that decided. */
export function recipientOf(rule: EspRule, address: string, ev: EspEvidence): Recipient {
  let reason: Reason = rule.reason ?? "undefined";
  let ruleId = rule.id;
  let permanent: boolean | null = rule.permanent ?? null;
  let status = ev.status;
  let smtpCode = ev.smtpCode;
  if (rule.read) {
    const d = decideReason({
      status: ev.status,
      statusSource: "dsn",
      smtpCode: ev.smtpCode,
      diagnostic: ev.diagnostic,
      action: ev.action,
    });
    // a delivery is no reading of a failure the provider reported
    if (d.reason !== "undefined" && d.reason !== "delivered") {
      reason = d.reason;
      ruleId = `${rule.id}/${d.rule}`;
    }
    if (rule.permanent === undefined) permanent = d.permanent;
    status = d.status ?? status;
    smtpCode = d.smtpCode ?? smtpCode;
  }
  if (rule.kind !== "bounce") permanent = null;
  const feedbackType = rule.kind === "complaint" ? (ev.feedbackType ?? rule.feedbackType) : undefined;
  return {
    recipient: address,
    reason,
    class: classOf(reason, status, smtpCode, permanent),
    permanent,
    ...(status ? { status } : {}),
    ...(smtpCode !== undefined ? { smtpCode } : {}),
    ...(ev.action ? { action: ev.action } : {}),
    ...(ev.diagnostic ? { diagnostic: ev.diagnostic } : {}),
    ...(ev.remoteMta ? { remoteMta: ev.remoteMta } : {}),
    ...(ev.reportingMta ? { reportingMta: ev.reportingMta } : {}),
    ...(feedbackType ? { feedbackType } : {}),
    rule: ruleId,
    parser: `esp:${rule.provider}` as ParserName,
  };
}
