// amavis (amavisd-new), the content filter behind many Postfix and Zimbra hosts: its reply names the content category
// that blocked the message after `id=<n> - ` (amavisd's %smtp_reason_by_ccat, read as Sisimai's Amavis table reads
// them). Its status is 5.7.0 for most categories, so the words decide.
import { P, table } from "./define.js";

export const amavisRules = table("amavis", [
  [
    "infected",
    "virusdetected",
    /\bid=\S{1,80} - infected\b/i,
    "554 5.7.0 Reject, id=20412-07 - INFECTED: Win.Test.EICAR_HDB-1",
    P.mta,
  ],
  [
    "bad-header",
    "contenterror",
    /\bid=\S{1,80} - bad[ _]header\b/i,
    '554 5.6.0 Reject, id=31177-02 - BAD HEADER: Duplicate header field: "Subject"',
    P.mta,
  ],
  [
    "oversized",
    "emailtoolarge",
    /\bid=\S{1,80} - message size exceeds recipient'?s size limit/i,
    "552 5.3.4 Bounce, id=08812-11 - Message size exceeds recipient's size limit",
    P.mta,
  ],
  [
    "relay-failure",
    "systemerror",
    /\bid=\S{1,80} - (?:temporary mta failure on relaying|rejected by next-hop mta on relaying|unable to relay message back to mta)/i,
    "550 5.3.5 Reject, id=44120-03 - Rejected by next-hop MTA on relaying",
    P.mta,
  ],
]);
