// Zoho Mail replies (https://www.zoho.com/mail/help/spam-reason.html).
import { P, table } from "./define.js";

export const zohoRules = table("zoho", [
  [
    "dmarc",
    "authfailure",
    /email rejected per dmarc policy/i,
    "550 5.7.1 Email rejected per DMARC policy for zoho.com",
    P.provider,
  ],
  [
    "greylisted",
    "blocked",
    /greylisted, try again after some time/i,
    "451 4.7.1 Greylisted, try again after some time",
    P.provider,
  ],
  [
    "flagged-spam",
    "rejected",
    /email cannot be delivered\. reason: email flagged as spam|mail rejected by destination domain/i,
    "541 5.4.1 Mail rejected by destination domain",
    P.provider,
  ],
  [
    "policy",
    "policyviolation",
    /email policy violation detected|mailbox delivery restricted by policy error/i,
    "554 5.7.7 Email policy violation detected",
    P.provider,
  ],
  ["system", "systemerror", /temporary system error/i, "452 4.3.1 Temporary System Error", P.provider],
  [
    "user-not-exist",
    "userunknown",
    /user does not exist - </i,
    "550 5.1.1 User does not exist - <kijitora@zoho.com>",
    P.provider,
  ],
  [
    "host-not-reachable",
    "expired",
    /error_code :\d{3}, error_code :, host not reachable/i,
    "Error, ERROR_CODE :421, ERROR_CODE :, Host not reachable.",
    P.provider,
  ],
  [
    "virus",
    "virusdetected",
    /detected by zoho mail/i,
    "552 5.7.1 virus Eicar-Test-Signature detected by Zoho Mail",
    P.provider,
  ],
]);
