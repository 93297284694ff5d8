// Broadcom / Symantec Email Security.cloud (MessageLabs) replies.
import { P, table } from "./define.js";

export const messagelabsRules = table("messagelabs", [
  [
    "542-rejected",
    "userunknown",
    /\b542 (?:<?[^\s<>]{1,254}>? )?rejected\b/i,
    "542 <kijitora@example.jp> Rejected",
    P.mta,
  ],
  [
    "auth",
    "authfailure",
    /(?:dmarc|spf \(sender policy framework\)) domain authentication fail/i,
    "553 DMARC domain authentication fail",
    P.provider,
  ],
  [
    "policy-reputation",
    "badreputation",
    /connection rejected by policy/i,
    "501 Connection rejected by policy [7.7] 20805, please visit www.messagelabs.com/support for more details about this error message.",
    P.provider,
  ],
  [
    "pbl",
    "blocked",
    /mail rejected because your ip is in the pbl|your ip address (?:\(\S{1,60}\) )?has been (?:blocked|blacklisted)/i,
    "553-mail rejected because your IP is in the PBL. See http://www.spamhaus.org/pbl",
    P.provider,
  ],
  [
    "stray-lf",
    "contenterror",
    /stray linefeeds in message/i,
    "553 Stray linefeeds in message (#5.6.2)",
    P.provider,
  ],
  [
    "tls",
    "failedstarttls",
    /tls\/sslv3 connection required/i,
    "451 TLS/SSLv3 Connection required. (#4.7.1)",
    P.provider,
  ],
  [
    "relay",
    "norelaying",
    /you are trying to use me .{1,80} as a relay/i,
    "553 You are trying to use me [server-1.tower-1.messagelabs.com] as a relay, but I have not been configured to let you [192.0.2.1, sender.example.org] do this.",
    P.provider,
  ],
  [
    "not-rfc",
    "notcompliantrfc",
    /550 requested action aborted \[4\]|has detected that this message is not rfc 5322/i,
    "550 [192.0.2.1] has detected that this message is not RFC 5322 compliant",
    P.provider,
  ],
  [
    "sender-blocked",
    "rejected",
    /sender envelope domain not allowed for sender ip address|your (?:domain|email address) has been (?:blocked|blacklisted)|your envelope sender is in my badmailfrom list/i,
    "553 sorry, your envelope sender is in my badmailfrom list. Please visit www.symanteccloud.com/troubleshooting (#5.7.1)",
    P.provider,
  ],
  [
    "smtp-auth",
    "securityerror",
    /please turn on smtp authentication in your mail client/i,
    "550-Please turn on SMTP Authentication in your mail client.",
    // it follows the relay sentence in one reply ("you are trying to use me as a relay ... turn on SMTP
    // Authentication"): the sender did not authenticate, which is what it says to fix
    P.provider + 1,
  ],
  [
    "outbound-scanning",
    "spamdetected",
    // its anti-spam verdict, whoever relays it: "Message Filtered" with its own troubleshooting page (Sisimai's
    // Rhost::MessageLabs; from messagelabs.com hosts the bare words suffice, rules/rhost.ts)
    /filtered by outbound scanning|message filtered\W{1,8}(?:please )?(?:refer to|see|visit)\b.{0,100}\bsymanteccloud\.com/i,
    "553 Message Filtered by Outbound scanning",
    P.provider,
  ],
  [
    "too-many",
    "ratelimited",
    /too many recipients received this hour|460 too many messages/i,
    "452 Too many recipients received this hour",
    P.provider,
  ],
  [
    "recipient-not-allowed",
    "userunknown",
    /recipient mailbox is not allowed/i,
    "553 Recipient mailbox is not allowed",
    P.provider,
  ],
]);
