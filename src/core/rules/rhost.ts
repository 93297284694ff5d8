// Replies read by who sent them: a few providers answer with words that mean one thing from them and another from
// anyone else (MessageLabs' "No such user" is its directory's answer, never a filter's; au's anonymous
// "550 : User unknown" is its filter's; Tencent's "mailbox unavailable or access denied" is its rate limit, not a
// missing mailbox). Each rule applies only when the recipient's domain, the remote MTA or (for a provider that
// relays) the reporting MTA is that provider's, tried in that order as Sisimai's Rhost classes are (keyed by
// the same MX and domain names: hotmail.com, docomo.ne.jp, googlemail.com, aol.com, qq.com, ...). Some rules
// hold only for a status (`when`). Pure data; `../reason.ts` consults them first.
import type { Reason } from "../report.js";

export interface RemoteHostRule {
  /** `<provider>.<name>`; the classification's rule becomes `rhost:<id>`. */
  id: string;
  /** The remote or reporting MTA's host name this rule is for (tested on the lower-cased host, anchored at its end). */
  host: RegExp;
  reason: Reason;
  pattern: RegExp;
  /** A real-looking reply this rule matches. */
  example: string;
  /** A host the example comes from. */
  exampleHost: string;
  /** Only when the status code matches (`status`), or when the status and reply classes are both 5 (`permanent`) or neither is (`transient`). */
  when?: { status?: RegExp; classes?: "permanent" | "transient" };
  /** The status the example comes with, where `when` needs one. */
  exampleStatus?: string;
}

/** The status code and SMTP reply code a reply came with, where known. */
export interface RemoteHostFacts {
  status?: string | undefined;
  smtpCode?: number | undefined;
}

const MESSAGELABS = /(?:^|\.)messagelabs\.com$/;
const AU_KDDI = /(?:^|\.)(?:au\.com|ezweb\.ne\.jp)$/;
const OUTLOOK = /(?:^|\.)hotmail\.com$/;
const NTT_DOCOMO = /(?:^|\.)docomo\.ne\.jp$/;
const GSUITE = /(?:^|\.)googlemail\.com$/;
const GOOGLE = /(?:^|\.)(?:google\.com|gmail\.com|googlemail\.com)$/;
const AOL = /(?:^|\.)aol\.com$/;
const TENCENT = /(?:^|\.)qq\.com$/;
const YAHOO_INC = /(?:^|\.)yahoodns\.net$/;
const MICROSOFT = /(?:^|\.)(?:outlook\.com|onmicrosoft\.com|exchangelabs\.com)$/;

export const remoteHostRules: readonly RemoteHostRule[] = [
  {
    id: "messagelabs.recipient-unknown",
    host: MESSAGELABS,
    reason: "userunknown",
    pattern: /no such user|invalid recipient|recipient mailbox is not allowed/i,
    example: "550 kijitora@example.org... No such user",
    exampleHost: "server-12.bemta-3.messagelabs.com",
  },
  // MessageLabs' "Message Filtered" is its anti-spam service's verdict (Sisimai's Rhost::MessageLabs: spamdetected);
  // the same words from anyone else are the recipient's own filter (`generic.filtered`).
  {
    id: "messagelabs.message-filtered",
    host: MESSAGELABS,
    reason: "spamdetected",
    pattern: /\bmessage filtered\b/i,
    example:
      "553-Message filtered. Refer to the Troubleshooting page at http://www.symanteccloud.com/troubleshooting for more information. (#5.7.1)",
    exampleHost: "cluster3.us.messagelabs.com",
  },
  {
    id: "kddi.anonymous-user-unknown",
    host: AU_KDDI,
    reason: "filtered",
    pattern: /\b550 : user unknown\b/i,
    example: "550 : User unknown",
    exampleHost: "lsean.ezweb.ne.jp",
  },
  {
    id: "kddi.user-unknown",
    host: AU_KDDI,
    reason: "userunknown",
    pattern: />: user unknown\b/i,
    example: "550 <kijitora@ezweb.ne.jp>: User unknown",
    exampleHost: "msmx.au.com",
  },
  // Outlook.com / Hotmail: its "mailbox unavailable" is the answer for an address it does not have.
  {
    id: "outlook.mailbox-unavailable",
    host: OUTLOOK,
    reason: "userunknown",
    pattern: /requested action not taken: mailbox unavailable/i,
    example: "550 Requested action not taken: mailbox unavailable",
    exampleHost: "snt004-omc2s7.hotmail.com",
  },
  {
    id: "outlook.domain-not-reachable",
    host: OUTLOOK,
    reason: "hostunknown",
    pattern: /could not be delivered to the recipient because the domain is not reachable/i,
    example:
      "550 5.4.310 DNS domain example.org does not exist: The mail could not be delivered to the recipient because the domain is not reachable",
    exampleHost: "bay004-omc1s10.hotmail.com",
  },
  // NTT docomo (mfsmax.docomo.ne.jp): the reply is the same "550 Unknown user" whether the address is missing or a
  // reception filter refused the sender; the status of the MTA that talked to it tells which.
  {
    id: "nttdocomo.filtered",
    host: NTT_DOCOMO,
    reason: "filtered",
    pattern: /unknown user|user unknown/i,
    example: "550 Unknown user hanako.sato@docomo.ne.jp",
    exampleHost: "mfsmax.docomo.ne.jp",
    when: { status: /^5\.2\.0$/ },
    exampleStatus: "5.2.0",
  },
  {
    id: "nttdocomo.too-much-mail-data",
    host: NTT_DOCOMO,
    reason: "mailboxfull",
    pattern: /\b552 too much mail data/i,
    example: "552 too much mail data",
    exampleHost: "mfsmax.docomo.ne.jp",
  },
  {
    id: "nttdocomo.too-many-recipients",
    host: NTT_DOCOMO,
    reason: "ratelimited",
    pattern: /\b552 too many recipients/i,
    example: "552 too many recipients",
    exampleHost: "mfsmax.docomo.ne.jp",
  },
  {
    id: "nttdocomo.bad-sequence",
    host: NTT_DOCOMO,
    reason: "syntaxerror",
    pattern: /\b503 bad sequence of commands|\b504 command parameter not implemented/i,
    example: "503 Bad sequence of commands",
    exampleHost: "mfsmax.docomo.ne.jp",
  },
  {
    // Since March 2025 docomo refuses no mail at SMTP for its filters: "550 Unknown user" is a missing address.
    id: "nttdocomo.unknown-user",
    host: NTT_DOCOMO,
    reason: "userunknown",
    pattern: /\b550 unknown user/i,
    example: "550 Unknown user hanako.sato@docomo.ne.jp",
    exampleHost: "mfsmax.docomo.ne.jp",
  },
  // Gmail's MX (Sisimai's Rhost::Google): RFC 3207's "530 5.7.0 Must issue a STARTTLS command first" is its answer
  // to a client that must use TLS (failedstarttls); from any other server it is a security refusal (5.7.0).
  {
    id: "google.must-issue-starttls",
    host: GOOGLE,
    reason: "failedstarttls",
    pattern: /must issue a starttls command first/i,
    example:
      "530 5.7.0 Must issue a STARTTLS command first. For more information, go to About SMTP error messages",
    exampleHost: "gmail-smtp-in.l.google.com",
  },
  // Google Workspace (G Suite) relaying for its customers' domains (Reporting-MTA googlemail.com).
  {
    id: "gsuite.address-not-found",
    host: GSUITE,
    reason: "userunknown",
    pattern: /because the address couldn't be found\. check for typos/i,
    example:
      "** Address not found ** Your message wasn't delivered to kijitora@example.org because the address couldn't be found. Check for typos or unnecessary spaces and try again.",
    exampleHost: "googlemail.com",
  },
  {
    id: "gsuite.null-mx",
    host: GSUITE,
    reason: "notaccept",
    pattern: /\bnull mx\b/i,
    example: "DNS Error: Null MX record found for example.org",
    exampleHost: "googlemail.com",
  },
  {
    id: "gsuite.nxdomain-permanent",
    host: GSUITE,
    reason: "hostunknown",
    pattern: /responded with code nxdomain|domain name not found/i,
    example: "550 DNS Error: Domain name not found: example.invalid",
    exampleHost: "googlemail.com",
    when: { classes: "permanent" },
    exampleStatus: "5.1.2",
  },
  {
    id: "gsuite.nxdomain-transient",
    host: GSUITE,
    reason: "networkerror",
    pattern: /had no relevant answers\.|responded with code nxdomain|domain name not found/i,
    example:
      "DNS Error: DNS type 'mx' lookup of example.org responded with code NXDOMAIN Domain name not found: example.org",
    exampleHost: "googlemail.com",
    when: { classes: "transient" },
    exampleStatus: "4.0.0",
  },
  // AOL's outbound relays: a broken MX answer is a domain that accepts no mail, a missing one an unknown host.
  {
    id: "aol.malformed-mx",
    host: AOL,
    reason: "notaccept",
    pattern: /type=mx: malformed or unexpected name server reply/i,
    example:
      "Host or domain name not found. Name service error for name=example.org type=MX: Malformed or unexpected name server reply",
    exampleHost: "omr-m010e.mx.aol.com",
  },
  {
    id: "aol.host-not-found",
    host: AOL,
    reason: "hostunknown",
    pattern: /host or domain name not found/i,
    example:
      "Host or domain name not found. Name service error for name=example.invalid type=A: Host not found",
    exampleHost: "omr-m021e.mx.aol.com",
  },
  // Tencent QQ Mail (https://service.mail.qq.com/detail/122): its own words for its own limits.
  {
    id: "tencent.authfailure",
    host: TENCENT,
    reason: "authfailure",
    pattern: /\b(?:spf|dmarc) check failed/i,
    example: "550 DMARC check failed. https://service.mail.qq.com/detail/122/72",
    exampleHost: "mx3.qq.com",
  },
  {
    id: "tencent.blocked",
    host: TENCENT,
    reason: "blocked",
    pattern: /suspected bounce attacks|suspected spam ip|connection denied/i,
    example: "550 Suspected spam ip. https://service.mail.qq.com/detail/122/66",
    exampleHost: "mx3.qq.com",
  },
  {
    id: "tencent.rejected",
    host: TENCENT,
    reason: "rejected",
    pattern: /suspected spam\b|mail is rejected by recipients/i,
    example: "550 Mail is rejected by recipients. https://service.mail.qq.com/detail/122/92",
    exampleHost: "mx3.qq.com",
  },
  {
    id: "tencent.spam",
    host: TENCENT,
    reason: "spamdetected",
    pattern: /spam is embedded in the email|mail content denied/i,
    example: "550 Mail content denied. https://service.mail.qq.com/detail/122/171",
    exampleHost: "mx3.qq.com",
  },
  {
    id: "tencent.rate-limited",
    host: TENCENT,
    reason: "ratelimited",
    pattern:
      /mailbox unavailable or access deni(?:n)?ed|frequency of receiving messages is limited|(?:ip|domain|sender|connection) frequency limited/i,
    example: "550 Mailbox unavailable or access denied. https://service.mail.qq.com/detail/122/166",
    exampleHost: "mx3.qq.com",
  },
  {
    id: "tencent.message-too-large",
    host: TENCENT,
    reason: "emailtoolarge",
    pattern: /message too large/i,
    example: "552 Message too large. https://service.mail.qq.com/detail/122/168",
    exampleHost: "mx3.qq.com",
  },
  {
    id: "tencent.deactivated",
    host: TENCENT,
    reason: "suspend",
    pattern: /is a deactivated mailbox/i,
    example: "550 The recipient is a deactivated mailbox",
    exampleHost: "mx3.qq.com",
  },
  {
    id: "tencent.bad-address-syntax",
    host: TENCENT,
    reason: "syntaxerror",
    pattern: /bad address syntax/i,
    example: "501 Bad address syntax. https://service.mail.qq.com/detail/122/167",
    exampleHost: "mx3.qq.com",
  },
  {
    id: "tencent.mailbox-not-found",
    host: TENCENT,
    reason: "userunknown",
    pattern: /mailbox not found/i,
    example: "550 Mailbox not found. https://service.mail.qq.com/detail/122/169",
    exampleHost: "mx3.qq.com",
  },
  // Exchange Online (MX *.mail.protection.outlook.com): refusals of the sending host that other servers' words would
  // call a missing PTR, a domain without mail or an unknown host are its blocks of the connection.
  {
    id: "microsoft.ipv6-ptr",
    host: MICROSOFT,
    reason: "blocked",
    pattern: /must have a reverse dns record/i,
    example:
      "550 5.7.25 Access denied, the sending IPv6 address [2001:db8::25] must have a reverse DNS record",
    exampleHost: "example-org.mail.protection.outlook.com",
  },
  {
    id: "microsoft.no-ipv6",
    host: MICROSOFT,
    reason: "blocked",
    pattern: /does not accept email over ipv6/i,
    example: "550 5.7.510 Access denied, example.org does not accept email over IPv6",
    exampleHost: "example-org.mail.protection.outlook.com",
  },
  {
    id: "microsoft.invalid-helo-domain",
    host: MICROSOFT,
    reason: "blocked",
    pattern: /invalid domain name/i,
    example: "501 5.5.4 Invalid domain name",
    exampleHost: "am6pr04mb1234.eurprd04.prod.outlook.com",
    when: { status: /^5\.5\.4$/ },
    exampleStatus: "5.5.4",
  },
  // Exchange Online's Directory-Based Edge Blocking: the recipient's tenant has no such address (Sisimai's Microsoft
  // rule); the same words under 5.7.504 are its block of one recipient (the text rule `microsoft.5.7.505-...`).
  {
    id: "microsoft.5.4.1-recipient-not-in-directory",
    host: MICROSOFT,
    reason: "userunknown",
    pattern: /recipient address rejected: access denied/i,
    example:
      "550 5.4.1 Recipient address rejected: Access denied. For more information see https://aka.ms/EXOSmtpErrors [AM4PEPF00025F9A.eurprd04.prod.outlook.com]",
    exampleHost: "example-org.mail.protection.outlook.com",
    when: { status: /^5\.4\.1$/ },
    exampleStatus: "5.4.1",
  },
  // Yahoo Inc. (Yahoo, AOL; MX *.yahoodns.net, https://senders.yahooinc.com/smtp-error-codes): the TSS codes name
  // no cause (the same words come for volume, complaints or missing authentication): the sender is refused.
  {
    id: "yahooinc.unauthenticated",
    host: YAHOO_INC,
    reason: "authfailure",
    pattern: /yahoo requires all senders to authenticate with either spf or dkim/i,
    example:
      "550 5.7.9 This mail has been blocked because the sender is unauthenticated. Yahoo requires all senders to authenticate with either SPF or DKIM.",
    exampleHost: "mta5.am0.yahoodns.net",
  },
  {
    id: "yahooinc.spamhaus",
    host: YAHOO_INC,
    reason: "blocked",
    pattern: /because the ip is in spamhaus's list;|not accepted from ip addresses on spamhaus xbl/i,
    example:
      "553 5.7.1 [BL23] Connections not accepted from IP addresses on Spamhaus XBL; see https://senders.yahooinc.com/error-codes",
    exampleHost: "mta7.am0.yahoodns.net",
  },
  {
    id: "yahooinc.relaying-denied",
    host: YAHOO_INC,
    reason: "norelaying",
    pattern: /relaying denied for /i,
    example: "550 relaying denied for <kijitora@example.org>",
    exampleHost: "mta6.am0.yahoodns.net",
  },
  {
    id: "yahooinc.not-rfc-compliant",
    host: YAHOO_INC,
    reason: "notcompliantrfc",
    pattern: /headers are not rfc compliant/i,
    example: "554 5.6.0 Message headers are not RFC compliant. See https://senders.yahooinc.com/error-codes",
    exampleHost: "mta5.am0.yahoodns.net",
  },
  {
    id: "yahooinc.policy",
    host: YAHOO_INC,
    reason: "policyviolation",
    pattern: /not accepted for policy reasons/i,
    example:
      "554 5.7.9 Message not accepted for policy reasons. See https://senders.yahooinc.com/error-codes",
    exampleHost: "mx-aol.mail.gm0.yahoodns.net",
  },
  {
    id: "yahooinc.sender-deferred",
    host: YAHOO_INC,
    reason: "rejected",
    pattern:
      /temporarily deferred due to unexpected volume or user complaints|due to unresolvable rfc\.5321 (?:from )?domain| will be permanently deferred/i,
    example:
      "421 4.7.0 [TSS04] Messages from 192.0.2.25 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://senders.yahooinc.com/error-codes",
    exampleHost: "mta7.am0.yahoodns.net",
  },
  {
    id: "yahooinc.receiving-too-quickly",
    host: YAHOO_INC,
    reason: "ratelimited",
    pattern: /user is receiving mail too quickly|max message per connection reached/i,
    example: "450 User is receiving mail too quickly",
    exampleHost: "mta5.am0.yahoodns.net",
  },
  {
    id: "yahooinc.mailbox-disabled",
    host: YAHOO_INC,
    reason: "suspend",
    pattern: / is no longer valid\.|this mailbox is disabled/i,
    example:
      "554 delivery error: dd kijitora@yahoo.com is no longer valid. [-20] - mta1042.mail.ne1.yahoo.com",
    exampleHost: "mta6.am0.yahoodns.net",
  },
  {
    id: "yahooinc.syntax-error",
    host: YAHOO_INC,
    reason: "syntaxerror",
    pattern: /syntax error in parameters or arguments/i,
    example: "501 Syntax error in parameters or arguments",
    exampleHost: "mta5.am0.yahoodns.net",
  },
  {
    id: "yahooinc.user-unknown",
    host: YAHOO_INC,
    reason: "userunknown",
    pattern: /dd this user doesn't have a |mailbox not found/i,
    example: "552 1 Requested mail action aborted, mailbox not found",
    exampleHost: "mta7.am0.yahoodns.net",
  },
];

/**
 * The first rule for one of these hosts (or recipient domains) whose pattern the reply matches and whose `when`
 * holds for the reply's status and SMTP code.
 */
export function matchRemoteHost(
  hosts: readonly (string | undefined)[],
  text: string,
  facts: RemoteHostFacts = {},
): RemoteHostRule | undefined {
  const names = hosts.map((h) => hostName(h)).filter((h): h is string => h !== undefined);
  if (names.length === 0 || !text) return undefined;
  const head = text.length > 4096 ? text.slice(0, 4096) : text;
  // Rules of one host are consecutive: its pattern is tested on the names once per run of its rules, not per rule.
  let host: RegExp | undefined;
  let hostHit = false;
  for (const rule of remoteHostRules) {
    if (rule.host !== host) {
      host = rule.host;
      hostHit = names.some((n) => host!.test(n));
    }
    if (hostHit && rule.pattern.test(head) && holds(rule, head, facts)) return rule;
  }
  return undefined;
}

function holds(rule: RemoteHostRule, text: string, facts: RemoteHostFacts): boolean {
  const when = rule.when;
  if (!when) return true;
  if (when.status && !(facts.status !== undefined && when.status.test(facts.status))) return false;
  if (when.classes) {
    const code = facts.smtpCode ?? leadingCode(text);
    const statusFive = facts.status?.[0] === "5";
    const replyFive = code !== undefined && code >= 500 && code < 600;
    if (when.classes === "permanent") return statusFive && replyFive;
    return !statusFive && !replyFive;
  }
  return true;
}

/** The reply code a reply text starts with (`550 ...`). */
function leadingCode(text: string): number | undefined {
  const m = /^\s*([245]\d\d)\b/.exec(text.slice(0, 16));
  return m ? Number(m[1]) : undefined;
}

const HOST_NAME = /(?:^|[\s;])([a-z0-9][a-z0-9.-]{0,252}[a-z0-9])\.?(?=$|[\s[(\]])/i;

/** `dns; mx.example.org [192.0.2.1]` / `mx.example.org` -> `mx.example.org` (lower-cased, no trailing dot). */
function hostName(h: string | undefined): string | undefined {
  if (!h) return undefined;
  const m = HOST_NAME.exec(h.slice(0, 300));
  return m ? m[1]!.toLowerCase() : undefined;
}
