// AOL (now Yahoo Inc.; older Postfix-based relays) replies.
import { P, table } from "./define.js";

export const aolRules = table("aol", [
  [
    "mx-name-server",
    "notaccept",
    /type=mx: malformed or unexpected name server reply/i,
    "X-Outbound-Mail-Relay; Name service error for name=example.org type=MX: Malformed or unexpected name server reply",
    P.provider,
  ],
  [
    "host-not-found",
    "hostunknown",
    /host or domain name not found(?!.{0,160}try again)/i,
    "X-Outbound-Mail-Relay; Host or domain name not found. Name service error for name=example.invalid type=A: Host not found",
    P.provider,
  ],
  [
    "only-accepting",
    "filtered",
    /recipient is only accepting mail from specific email addresses/i,
    "554 5.7.1 Mail rejected. The recipient is only accepting mail from specific email addresses",
    P.provider,
  ],
  [
    "not-accepting-attachments",
    "policyviolation",
    /because the recipient is not accepting mail with/i,
    "554 5.7.1 Mail rejected because the recipient is not accepting mail with attachments",
    P.provider,
  ],
]);
