// Yahoo Inc. (Yahoo, AOL, Verizon Media) and Yahoo! JAPAN replies (https://senders.yahooinc.com/smtp-error-codes).
import { P, table } from "./define.js";

export const yahooRules = table("yahoo", [
  [
    "authenticate",
    "authfailure",
    /yahoo requires all senders to authenticate/i,
    "550 5.7.9 This mail has been blocked because the sender is unauthenticated. Yahoo requires all senders to authenticate with either SPF or DKIM.",
    P.provider,
  ],
  [
    "spamhaus",
    "blocked",
    /because the ip is in spamhaus'?s list|not accepted from ip addresses on spamhaus|\[bl2[0-9]\]/i,
    "553 5.7.1 [BL21] Connections will not be accepted from 192.0.2.25, because the ip is in Spamhaus's list; see http://postmaster.yahoo.com/550-bl23.html",
    P.provider,
  ],
  [
    "relaying-denied",
    "norelaying",
    /relaying denied for </i,
    "550 relaying denied for <kijitora@yahoo.com>",
    P.provider,
  ],
  [
    "not-rfc",
    "notcompliantrfc",
    /headers are not rfc compliant/i,
    "554 5.7.9 Message not accepted for policy reasons. Headers are not RFC compliant.",
    P.provider + 1,
  ],
  [
    "policy",
    "policyviolation",
    /not accepted for policy reasons|message not allowed - \[ph\d\d\]|\[ph0[0-9]\]/i,
    "554 5.7.9 Message not accepted for policy reasons. See https://postmaster.verizonmedia.com/error-codes",
    P.provider,
  ],
  [
    "permanently-deferred",
    "rejected",
    /will be permanently deferred|due to unresolvable rfc\.?5321 (?:from )?domain/i,
    "553 5.7.2 [TSS09] All messages from 192.0.2.25 will be permanently deferred; Retrying will NOT succeed.",
    P.provider,
  ],
  [
    "receiving-too-quickly",
    "ratelimited",
    /user is receiving mail too quickly|max message per connection reached/i,
    "450 User is receiving mail too quickly",
    P.provider,
  ],
  [
    "no-longer-valid",
    "suspend",
    /dd \S{1,100} is no longer valid|this mailbox is disabled \(554\.30\)/i,
    "554 delivery error: dd kijitora@yahoo.com is no longer valid. [-20]",
    P.provider,
  ],
  [
    "no-account",
    "userunknown",
    /dd this user doesn'?t have a \S{1,40} account|552 1 requested mail action aborted, mailbox not found/i,
    "554 delivery error: dd This user doesn't have a yahoo.com account (kijitora@yahoo.com) [0]",
    P.provider,
  ],
]);
