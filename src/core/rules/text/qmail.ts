// qmail's own sentences (qmail-send / qmail-remote texts, vpopmail/vdelivermail).
import { P, table } from "./define.js";

export const qmailRules = table("qmail", [
  [
    "no-mailbox",
    "userunknown",
    /sorry, no mailbox here by that name|this address no longer accepts mail\. \(#5\.1\.1\)/i,
    "Sorry, no mailbox here by that name. (#5.1.1)",
    P.mta,
  ],
  [
    "account-locked",
    "suspend",
    /vdelivermail: account is locked email bounced|user account is locked/i,
    "vdelivermail: account is locked email bounced",
    P.mta,
  ],
  [
    "quota",
    "mailboxfull",
    /user is over quota|is over quota\. \(#5\.2\.2\)|mailbox is over quota|vdelivermail: user is over quota/i,
    "user is over quota",
    P.mta,
  ],
  [
    "no-host",
    "hostunknown",
    /sorry, i couldn'?t find any host (?:named|by that name)|sorry\. although i'?m listed as a best-preference mx|couldn'?t find a mail exchanger or ip address/i,
    "Sorry, I couldn't find any host named example.invalid. (#5.1.2)",
    P.mta,
  ],
  [
    "connection-refused",
    "expired",
    /sorry, i wasn'?t able to establish an smtp connection|i'?m not going to try again; this message has been in the queue too long/i,
    "Sorry, I wasn't able to establish an SMTP connection. (#4.4.1) I'm not going to try again; this message has been in the queue too long.",
    P.mta - 5,
  ],
  [
    "ldap",
    "systemerror",
    /unable to contact ldap server|temporary failure in (?:ldap|database)|unable to connect to (?:the )?(?:mysql|database|vpopmail)/i,
    "Unable to contact LDAP server. (#4.4.3)I'm not going to try again; this message has been in the queue too long.",
    P.mta,
  ],
  [
    "rcpthosts",
    "norelaying",
    /sorry, that domain isn'?t in my list of allowed rcpthosts/i,
    "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)",
    P.mta,
  ],
  [
    "badmailfrom",
    "rejected",
    /sorry, your envelope sender (?:is in my badmailfrom list|has been denied)|sender was rejected/i,
    "553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)",
    P.mta,
  ],
  [
    "badrcptto",
    "userunknown",
    /sorry, your envelope recipient (?:is in my badrcptto list|has been denied)/i,
    "553 sorry, your envelope recipient is in my badrcptto list (#5.7.1)",
    P.mta,
  ],
  [
    "message-looping",
    "systemerror",
    /this message is looping: it already has my delivered-to line/i,
    "This message is looping: it already has my Delivered-To line. (#5.4.6)",
    P.mta + 1,
  ],
  [
    "spammer",
    "blocked",
    /your remotehost looks suspiciously like spammer/i,
    "553 sorry, your remotehost looks suspiciously like spammer (#5.7.1)",
    P.mta,
  ],
]);
