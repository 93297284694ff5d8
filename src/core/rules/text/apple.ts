// Apple iCloud Mail (me.com, mac.com, icloud.com) replies (https://support.apple.com/en-us/102322).
import { P, table } from "./define.js";

export const appleRules = table("apple", [
  [
    "dmarc",
    "authfailure",
    /rejected due to .{1,80}'s dmarc policy|failing both spf and dkim aut(?:h)?entication checks/i,
    "554 5.7.1 Your message was rejected due to example.org's DMARC policy. See https://support.apple.com/en-us/HT204137 for info",
    P.provider,
  ],
  [
    "spamhaus",
    "blocked",
    /rejected due to (?:having a domain present in the spamhaus|listing in spamhaus)/i,
    "550 5.7.1 Mail from IP 192.0.2.1 was rejected due to listing in Spamhaus SBL.",
    P.provider,
  ],
  [
    "not-accepting",
    "blocked",
    /smtpin\d*\.(?:me|mac|icloud)\.com esmtp not accepting connections/i,
    "554 st11p00im-smtpin013.me.com ESMTP not accepting connections",
    P.provider,
  ],
  [
    "local-policy",
    "policyviolation",
    /\[cs0\d\] message rejected due to local policy/i,
    "550 5.7.1 [CS01] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137",
    P.provider,
  ],
  [
    "excessive-volume",
    "ratelimited",
    /deferred due to excessive volume/i,
    "421 4.7.1 Messages to kijitora@icloud.com deferred due to excessive volume. Try again later - https://support.apple.com/en-us/HT204137",
    P.provider,
  ],
  [
    "inactive",
    "suspend",
    /: inactive email address/i,
    "550 5.1.1 <kijitora@icloud.com>: inactive email address",
    P.provider,
  ],
  [
    "illegal-alias",
    "userunknown",
    /unknown or illegal alias/i,
    "550 5.1.1 unknown or illegal alias: kijitora@icloud.com",
    P.provider,
  ],
  [
    "host-domain-not-accept",
    "notaccept",
    /host\/domain does not accept mail/i,
    "550 5.7.27 host/domain does not accept mail",
    P.provider,
  ],
]);
