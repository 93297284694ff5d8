// The closed vocabularies of a classification, as `as const` unions, with no imports: the console (web/) reads
// them too. src/core/report.ts re-exports them beside the Report they describe.

/** Why delivery to one recipient failed (or what else the mail says of it). Sisimai's vocabulary, newest spelling. */
export const REASONS = [
  "userunknown",
  "hostunknown",
  "hasmoved",
  "notaccept",
  "mailboxfull",
  "suspend",
  "expired",
  "systemerror",
  "systemfull",
  "networkerror",
  "mailererror",
  "onhold",
  "undefined",
  "emailtoolarge",
  "ratelimited",
  "rejected",
  "filtered",
  "blocked",
  "badreputation",
  "spamdetected",
  "policyviolation",
  "authfailure",
  "requireptr",
  "contenterror",
  "virusdetected",
  "securityerror",
  "norelaying",
  "failedstarttls",
  "notcompliantrfc",
  "syntaxerror",
  "suppressed",
  "feedback",
  "vacation",
  "delivered",
] as const;
export type Reason = (typeof REASONS)[number];

/** What a reason means for the sender. */
export const CLASSES = [
  "hard",
  "soft",
  "block",
  "complaint",
  "auto_reply",
  "delivered",
  "undetermined",
] as const;
export type BounceClass = (typeof CLASSES)[number];

/** What kind of mail this is. */
export const KINDS = [
  "bounce",
  "complaint",
  "auto_reply",
  "delivery",
  "dmarc_report",
  "tls_report",
  "not_a_report",
  "unparsable",
] as const;
export type MailKind = (typeof KINDS)[number];

/** RFC 5965 / 6591 feedback types. */
export const FEEDBACK_TYPES = [
  "abuse",
  "fraud",
  "virus",
  "other",
  "not-spam",
  "auth-failure",
  "opt-out",
] as const;
export type FeedbackType = (typeof FEEDBACK_TYPES)[number];

/** Which part of the classifier produced a recipient's result. */
export const PARSERS = [
  "dsn",
  "arf",
  "autoreply",
  "text",
  "header",
  // an ESP's event webhook (src/core/esp): the provider's own classification, mapped
  "esp:ses",
  "esp:sendgrid",
  "esp:mailgun",
  "esp:postmark",
] as const;
export type ParserName = (typeof PARSERS)[number];
