// The Report: what classify() says of one mail. Its closed vocabularies are in ./vocabulary.ts (re-exported).
import type { DmarcAggregate } from "./dmarc.js";
import type { TlsReport } from "./tlsrpt.js";

export * from "./vocabulary.js";
import {
  REASONS,
  type BounceClass,
  type FeedbackType,
  type MailKind,
  type ParserName,
  type Reason,
} from "./vocabulary.js";

/** One recipient the mail speaks of, with one reason and the evidence for it. */
export interface Recipient {
  /** The failed (or complaining, or delivered) address, as the report gives it (lower-cased domain). */
  recipient: string;
  /** Original-Recipient where the report gives one. */
  originalRecipient?: string;
  reason: Reason;
  class: BounceClass;
  /**
   * Whether the failure is permanent (`true`), transient (`false`) or unknown (`null`): from the status class, the
   * SMTP reply class, the DSN Action (`delayed` is transient) or the words ("permanent error", "will retry"). Null
   * for what is no failure (delivered, feedback, vacation).
   */
  permanent: boolean | null;
  /** RFC 3463 enhanced status code (from the report, or derived from the reason). */
  status?: string;
  /** The SMTP reply code, where one is known. */
  smtpCode?: number;
  /** DSN Action: failed, delayed, delivered, relayed, expanded. */
  action?: string;
  /** The remote server's words (Diagnostic-Code or the text of a plain bounce), unfolded. */
  diagnostic?: string;
  remoteMta?: string;
  reportingMta?: string;
  /** The SMTP command the error answered (RCPT, DATA, ...), where known. */
  command?: string;
  feedbackType?: FeedbackType | string;
  lastAttemptDate?: string;
  willRetryUntil?: string;
  /** The id of the evidence that decided the reason, e.g. `dsn.status:5.1.1` or `text:postfix.user-unknown`. */
  rule: string;
  /** Which parser found this recipient. */
  parser: ParserName;
  /** Extra per-recipient fields (X-Postfix-*, ...), lower-cased names. */
  fields?: Record<string, string>;
}

/** What the returned original tells, so a sender can tie the report to its own send. */
export interface OriginalMessage {
  messageId?: string;
  from?: string;
  to?: string;
  subject?: string;
  date?: string;
  returnPath?: string;
  /** Every X-*, List-* and Feedback-ID header of the original, lower-cased names. */
  headers: Record<string, string>;
}

export interface ArfFields {
  feedbackType?: string;
  userAgent?: string;
  version?: string;
  originalMailFrom?: string;
  originalRcptTo?: string[];
  arrivalDate?: string;
  sourceIp?: string;
  reportedDomain?: string[];
  reportedUri?: string[];
  authenticationResults?: string;
  incidents?: number;
  /** RFC 6591 authentication-failure details (`Feedback-Type: auth-failure`, DMARC failure reports). */
  authentication?: AuthFailureFields;
}

/** What an RFC 6591 authentication failure report says of the failed checks (RFC 6591 section 3.1, RFC 7489 7.3). */
export interface AuthFailureFields {
  /** Auth-Failure: `adsp`, `bodyhash`, `revoked`, `signature`, `spf`, `dmarc`. */
  failure?: string;
  /** Delivery-Result: `delivered`, `spam`, `policy`, `reject`, `other`. */
  deliveryResult?: string;
  /** Identity-Alignment (DMARC): `none`, or the aligned methods (`dkim`, `spf`). */
  identityAlignment?: string;
  dkimDomain?: string;
  dkimIdentity?: string;
  dkimSelector?: string;
  spfDns?: string;
  /** The results read off Authentication-Results: `fail`, `pass`, `none`, ... */
  dmarc?: string;
  spf?: string;
  dkim?: string;
}

export interface Report {
  kind: MailKind;
  recipients: Recipient[];
  original: OriginalMessage;
  /** Per-message DSN fields (Reporting-MTA, Arrival-Date, Received-From-MTA, X-Postfix-Queue-ID, ...), lower-cased names. */
  reportFields?: Record<string, string>;
  arf?: ArfFields;
  /** The report mail's own headers that matter. */
  messageId?: string;
  from?: string;
  subject?: string;
  date?: string;
  /** For `unparsable`: what went wrong; for `dmarc_report` and `tls_report`, why the report was refused. */
  error?: string;
  /** For `dmarc_report`: the aggregate report (absent when it was refused: `error` says why). */
  dmarc?: DmarcAggregate;
  /** For `tls_report`: the SMTP TLS report (absent when it was refused: `error` says why). */
  tlsReport?: TlsReport;
  /** Which MTA or provider family the report was recognised as, where known (e.g. `postfix`, `office365`). */
  source?: string;
}

/** Hard, soft, block, ...: what a reason means for the sender. Documented in README ("Classes"). */
export const CLASS_OF_REASON: Record<Reason, BounceClass> = {
  userunknown: "hard",
  hostunknown: "hard",
  hasmoved: "hard",
  notaccept: "hard",
  suspend: "soft",
  mailboxfull: "soft",
  expired: "soft",
  systemerror: "soft",
  systemfull: "soft",
  networkerror: "soft",
  mailererror: "soft",
  onhold: "soft",
  undefined: "undetermined",
  emailtoolarge: "soft",
  ratelimited: "block",
  rejected: "block",
  filtered: "block",
  blocked: "block",
  badreputation: "block",
  spamdetected: "block",
  policyviolation: "block",
  authfailure: "block",
  requireptr: "block",
  contenterror: "block",
  virusdetected: "block",
  securityerror: "block",
  norelaying: "block",
  failedstarttls: "block",
  notcompliantrfc: "block",
  syntaxerror: "block",
  suppressed: "hard",
  feedback: "complaint",
  vacation: "auto_reply",
  delivered: "delivered",
};

export const isReason = (s: string): s is Reason => (REASONS as readonly string[]).includes(s);

/**
 * The class of one recipient's result. The table above, except `notaccept`: a domain that accepts no mail
 * (null MX, RFC 7505) is hard when the failure is permanent, soft when it is temporary (4.x.x); and `undefined`:
 * a failure of no known reason is `soft` when its permanence is known (a permanent one is escalated by the
 * policy's `soft.permanentUndefined` rule), `undetermined` only when neither is known.
 */
export function classOf(
  reason: Reason,
  status?: string,
  smtpCode?: number,
  permanent?: boolean | null,
): BounceClass {
  if (reason === "undefined" || reason === "onhold")
    return permanent === true || permanent === false ? "soft" : "undetermined";
  if (reason === "notaccept") {
    const temporary =
      status?.startsWith("4") || (smtpCode !== undefined && smtpCode >= 400 && smtpCode < 500);
    return temporary ? "soft" : "hard";
  }
  return CLASS_OF_REASON[reason];
}
