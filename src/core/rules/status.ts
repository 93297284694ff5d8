// RFC 3463 enhanced status codes (and the IANA registry's later additions, RFC 5248, 7505, 7372, 8689) to one
// reason each. Exact codes first, then class+subject patterns (`5.1.*`) for the rest of a subject.
// `definitive`: the code alone decides; only a text rule of priority >= TEXT_OVERRIDES_DEFINITIVE overrides it.
// Codes whose meaning real servers stretch (5.1.1 for "mailbox full", 5.7.1 for anything) are not definitive.
import type { Reason } from "../report.js";
import type { StatusRule } from "./types.js";

const s = (status: string, reason: Reason, example: string, definitive?: boolean): StatusRule =>
  definitive ? { status, reason, example, definitive } : { status, reason, example };

export const statusRules: StatusRule[] = [
  // 2.x.x and X.1.5: success
  s("2.0.0", "delivered", "250 2.0.0 OK: queued as 4XqN1c0Lz9z9v", true),
  s("2.1.5", "delivered", "250 2.1.5 Recipient OK", true),
  s("2.6.0", "delivered", "250 2.6.0 <id@example.org> [InternalId=1] Queued mail for delivery", true),

  // X.1.X addressing
  s("5.1.0", "userunknown", "550 5.1.0 Address rejected."),
  s("5.1.1", "userunknown", "550 5.1.1 <kijitora@example.jp>: Recipient address rejected: User unknown"),
  s(
    "4.1.1",
    "userunknown",
    "451 4.1.1 <kijitora@example.jp>: Recipient address rejected: unverified address",
  ),
  s(
    "5.1.2",
    "hostunknown",
    "550 5.1.2 <kijitora@example.invalid>: Recipient address rejected: Domain not found",
  ),
  s(
    "4.1.2",
    "hostunknown",
    "450 4.1.2 <kijitora@example.invalid>: Recipient address rejected: Domain not found",
  ),
  s("5.1.3", "userunknown", "501 5.1.3 Bad recipient address syntax"),
  s("5.1.4", "filtered", "550 5.1.4 Destination mailbox address ambiguous"),
  s("5.1.6", "hasmoved", "550 5.1.6 recipient no longer on server: kijitora@example.jp", true),
  s("4.1.6", "hasmoved", "450 4.1.6 Destination mailbox has moved, No forwarding address", true),
  s("5.1.7", "rejected", "553 5.1.7 The sender address <root@localhost> is not a valid RFC 5321 address"),
  s("4.1.7", "rejected", "450 4.1.7 <nobody@invalid>: Sender address rejected: unverified address"),
  s(
    "5.1.8",
    "rejected",
    "553 5.1.8 <root@host.example>... Domain of sender address root@host.example does not exist",
  ),
  s("4.1.8", "rejected", "450 4.1.8 <sender@example.org>: Sender address rejected: Domain not found"),
  s("5.1.9", "systemerror", "550 5.1.9 Message relayed to non-compliant mailer"),
  s("5.1.10", "notaccept", "556 5.1.10 Recipient address has null MX", true),
  s("4.1.10", "notaccept", "456 4.1.10 Recipient address has null MX", true),

  // X.2.X mailbox
  s("5.2.0", "filtered", "550 5.2.0 Message Filtered"),
  s("5.2.1", "filtered", "550 5.2.1 <kijitora@example.jp>... Mailbox disabled, not accepting messages"),
  s("4.2.1", "blocked", "450 4.2.1 The user you are trying to contact is receiving mail too quickly"),
  s("5.2.2", "mailboxfull", "552 5.2.2 <kijitora@example.jp>... Mailbox Full", true),
  s("4.2.2", "mailboxfull", "452 4.2.2 The email account that you tried to reach is over quota", true),
  s("5.2.3", "emailtoolarge", "552 5.2.3 Message length exceeds administrative limit", true),
  s("4.2.3", "emailtoolarge", "452 4.2.3 Message length exceeds administrative limit", true),
  s("5.2.4", "filtered", "550 5.2.4 Mailing list expansion problem"),
  s("4.2.4", "filtered", "450 4.2.4 Mailing list expansion problem"),

  // X.3.X mail system
  s("5.3.0", "systemerror", "554 5.3.0 Other or undefined mail system status"),
  s("5.3.1", "systemfull", "452 5.3.1 Mail system full", true),
  s("4.3.1", "systemfull", "452 4.3.1 Insufficient system storage", true),
  s("5.3.2", "notaccept", "521 5.3.2 System not accepting network messages"),
  s("4.3.2", "notaccept", "453 4.3.2 System not accepting network messages"),
  s("5.3.3", "systemerror", "554 5.3.3 System not capable of selected features"),
  s("4.3.3", "systemerror", "454 4.3.3 System not capable of selected features"),
  s("5.3.4", "emailtoolarge", "552 5.3.4 Message too big for system", true),
  s("4.3.4", "emailtoolarge", "452 4.3.4 Message too big for system", true),
  s("5.3.5", "systemerror", "554 5.3.5 System incorrectly configured"),
  s("4.3.5", "systemerror", "451 4.3.5 System incorrectly configured"),
  s("5.3.*", "systemerror", "554 5.3.9 Mail system error"),

  // X.4.X network and routing
  s("5.4.0", "networkerror", "554 5.4.0 Other or undefined network or routing status"),
  s("4.4.1", "expired", "451 4.4.1 No answer from host"),
  s("5.4.1", "rejected", "550 5.4.1 Recipient address rejected: Access denied"),
  s("4.4.2", "networkerror", "421 4.4.2 Connection dropped"),
  s("5.4.3", "systemerror", "550 5.4.3 Directory server failure"),
  s("4.4.3", "systemerror", "451 4.4.3 Directory server failure"),
  s("5.4.4", "hostunknown", "550 5.4.4 Unable to route"),
  s("4.4.4", "networkerror", "451 4.4.4 Unable to route"),
  s("4.4.5", "systemfull", "451 4.4.5 Mail system congestion"),
  s("5.4.6", "networkerror", "554 5.4.6 Too many hops", true),
  s("4.4.6", "networkerror", "451 4.4.6 Routing loop detected", true),
  s("5.4.7", "expired", "554 5.4.7 Delivery time expired"),
  s("4.4.7", "expired", "451 4.4.7 Delivery time expired"),
  s("4.4.8", "networkerror", "451 4.4.8 Retry on IPv4"),
  s("5.4.*", "networkerror", "554 5.4.9 Other network or routing status"),

  // X.5.X protocol: the sender's SMTP dialogue was refused (a command or its arguments), but too many recipients
  s("5.5.3", "ratelimited", "452 5.5.3 Too many recipients"),
  s("4.5.3", "ratelimited", "452 4.5.3 Too many recipients"),
  s("5.5.1", "syntaxerror", '500 5.5.1 Command unrecognized: "XVRB"'),
  s("5.5.2", "syntaxerror", "501 5.5.2 Syntax error in parameters or arguments"),
  s("5.5.4", "syntaxerror", "501 5.5.4 Invalid command arguments"),
  s("5.5.5", "syntaxerror", "554 5.5.5 Wrong protocol version"),
  s("4.5.5", "syntaxerror", "454 4.5.5 Wrong protocol version"),
  s("5.5.*", "syntaxerror", "503 5.5.0 Bad sequence of commands"),
  s("4.5.*", "syntaxerror", "451 4.5.0 SMTP protocol violation"),

  // X.6.X content
  s("5.6.0", "contenterror", "554 5.6.0 Other or undefined media error"),
  s("4.6.0", "contenterror", "454 4.6.0 Other or undefined media error"),
  s("5.6.*", "contenterror", "554 5.6.1 Media not supported"),
  s("4.6.*", "contenterror", "454 4.6.5 Conversion failed"),

  // X.7.X security and policy
  s("5.7.0", "securityerror", "550 5.7.0 Other or undefined security status"),
  s("5.7.1", "securityerror", "550 5.7.1 Delivery not authorized, message refused"),
  s("4.7.1", "blocked", "450 4.7.1 Client host rejected: cannot find your hostname"),
  s("4.7.2", "blocked", "450 4.7.2 Mailing list expansion prohibited"),
  s("5.7.13", "suspend", "525 5.7.13 User account disabled", true),
  s("4.7.13", "suspend", "425 4.7.13 User account disabled", true),
  s("5.7.16", "emailtoolarge", "552 5.7.16 Message is too big for the specified priority", true),
  s("4.7.16", "emailtoolarge", "452 4.7.16 Message is too big for the specified priority", true),
  // Not definitive: Sisimai reads X.7.17 as hasmoved only when no words say otherwise (a user-unknown reply that did
  // not answer RCPT TO is a filter's, Active!hunter sends such under 5.7.17).
  s("5.7.17", "hasmoved", "550 5.7.17 Mailbox owner has changed"),
  s("5.7.18", "hasmoved", "550 5.7.18 Domain owner has changed"),
  s("5.7.20", "authfailure", "550 5.7.20 No passing DKIM signature found", true),
  s("5.7.21", "authfailure", "550 5.7.21 No acceptable DKIM signature found", true),
  s("5.7.22", "authfailure", "550 5.7.22 No valid author-matched DKIM signature found", true),
  s("5.7.23", "authfailure", "550 5.7.23 SPF validation failed", true),
  s("5.7.24", "authfailure", "550 5.7.24 SPF validation error", true),
  s("4.7.24", "authfailure", "451 4.7.24 SPF validation error", true),
  s("5.7.25", "requireptr", "550 5.7.25 Reverse DNS validation failed", true),
  s("4.7.25", "requireptr", "450 4.7.25 Reverse DNS validation failed", true),
  s("5.7.26", "authfailure", "550 5.7.26 Multiple authentication checks failed", true),
  s("4.7.26", "authfailure", "421 4.7.26 Multiple authentication checks failed", true),
  s("5.7.27", "notaccept", "550 5.7.27 Sender address has null MX", true),
  s("5.7.28", "spamdetected", "550 5.7.28 Mail flood detected", true),
  s("4.7.28", "spamdetected", "421 4.7.28 Mail flood detected"),
  s("5.7.29", "authfailure", "550 5.7.29 ARC validation failure", true),
  s("5.7.30", "failedstarttls", "550 5.7.30 REQUIRETLS support required", true),
  s("5.7.*", "securityerror", "550 5.7.8 Authentication credentials invalid"),
  s("4.7.*", "securityerror", "454 4.7.5 Cryptographic failure"),
];

/** A bare SMTP reply code (RFC 5321) that says something by itself. */
export interface ReplyCodeRule {
  code: number;
  reason: Reason;
  example: string;
}

export const replyCodeRules: ReplyCodeRule[] = [
  { code: 421, reason: "systemerror", example: "421 Service not available, closing transmission channel" },
  { code: 451, reason: "systemerror", example: "451 Requested action aborted: local error in processing" },
  { code: 452, reason: "systemfull", example: "452 Requested action not taken: insufficient system storage" },
  {
    code: 552,
    reason: "mailboxfull",
    example: "552 Requested mail action aborted: exceeded storage allocation",
  },
  { code: 551, reason: "hasmoved", example: "551 User not local; please try <kijitora@example.org>" },
  { code: 553, reason: "userunknown", example: "553 Requested action not taken: mailbox name not allowed" },
  { code: 521, reason: "notaccept", example: "521 Host does not accept mail" },
  { code: 556, reason: "notaccept", example: "556 Domain does not accept mail" },
  { code: 525, reason: "suspend", example: "525 User account disabled" },
  { code: 523, reason: "failedstarttls", example: "523 Encryption needed" },
  {
    code: 524,
    reason: "failedstarttls",
    example: "524 Encryption required for requested authentication mechanism",
  },
  {
    code: 538,
    reason: "failedstarttls",
    example: "538 Encryption required for requested authentication mechanism",
  },
  { code: 530, reason: "securityerror", example: "530 Authentication required" },
  // 500-504 (and their 4xx twins, which some servers send): the sender's command or its arguments were refused
  { code: 500, reason: "syntaxerror", example: "500 Syntax error, command unrecognized" },
  { code: 501, reason: "syntaxerror", example: "501 Syntax error in parameters or arguments" },
  { code: 502, reason: "syntaxerror", example: "502 Command not implemented" },
  { code: 503, reason: "syntaxerror", example: "503 Bad sequence of commands" },
  { code: 504, reason: "syntaxerror", example: "504 Command parameter not implemented" },
  // codes past RFC 5321's 500-504 that servers send for the same refusal (Sisimai reads [45]0[1-7] as syntaxerror)
  { code: 505, reason: "syntaxerror", example: "505 5.5.2 Command not recognized" },
  { code: 506, reason: "syntaxerror", example: "506 Command syntax not allowed here" },
  { code: 507, reason: "syntaxerror", example: "507 Invalid command sequence" },
  { code: 401, reason: "syntaxerror", example: "401 Syntax error in parameters, try again" },
  { code: 402, reason: "syntaxerror", example: "402 Command not implemented now" },
  { code: 403, reason: "syntaxerror", example: "403 Bad sequence of commands, reset the session" },
  { code: 404, reason: "syntaxerror", example: "404 Command parameter not implemented" },
  { code: 535, reason: "securityerror", example: "535 Authentication credentials invalid" },
];
