// Cox Communications replies: AUP# codes (https://www.cox.com/residential/support/email-error-codes.html).
import { P, table } from "./define.js";

export const coxRules = table("cox", [
  [
    "cxbl",
    "blocked",
    /aup#(?:cxbl|cdrbl|ipbl\d{4,5})\b/i,
    "550 5.1.0 <bounce@example.com> sender rejected. Refer to Error Codes section at https://www.cox.com/residential/support/email-error-codes.html for more information. AUP#CDRBL",
    P.provider,
  ],
  ["cxdns", "requireptr", /aup#cxdns\b/i, "550 5.7.1 192.0.2.1 rejected - no rDNS. AUP#CXDNS", P.provider],
  [
    "cxsndr",
    "authfailure",
    /aup#cxsndr\b/i,
    "550 5.7.1 sender domain failed authentication. AUP#CXSNDR",
    P.provider,
  ],
  ["cxsmtp", "rejected", /aup#cxsmtp\b/i, "550 5.7.1 SMTP protocol violation. AUP#CXSMTP", P.provider],
  [
    "cxcnct",
    "ratelimited",
    /aup#(?:cxcnct|cxmxrt)\b/i,
    "421 4.7.0 too many sessions from 192.0.2.1. AUP#CXCNCT",
    P.provider,
  ],
  [
    "cxthrt",
    "securityerror",
    /aup#(?:cxthrt|cxmj)\b/i,
    "550 5.7.1 Email sending limited due to suspicious account activity. AUP#CXTHRT",
    P.provider,
  ],
  [
    "urlbl",
    "spamdetected",
    /aup#urlbl\d{3,4}\b/i,
    "552 5.7.0 URL in message is blocklisted. AUP#URLBL011",
    P.provider,
  ],
  [
    "bad-commands",
    "blocked",
    /cox too many bad commands from|too many invalid recipients/i,
    "421 4.7.0 cox too many bad commands from 192.0.2.1",
    P.provider,
  ],
  [
    "attachment-forbidden",
    "policyviolation",
    /attachment extension is forbidden|esmtp no data before greeting/i,
    "552 5.7.0 attachment extension is forbidden",
    P.provider,
  ],
  [
    "temporarily-unavailable",
    "systemerror",
    /esmtp server temporarily not available/i,
    "421 4.3.2 cox.net ESMTP server temporarily not available",
    P.provider,
  ],
  [
    "threshold",
    "ratelimited",
    /message threshold exceeded|requested action aborted: try again later/i,
    "452 4.5.3 message threshold exceeded",
    P.provider,
  ],
]);
