// Facebook's MX replies: a response code `AAA-Xn` (area, P permanent / T transient, number) after the SMTP reply,
// as its postmaster page listed them (postmaster.facebook.com/response_codes).
import { P, table } from "./define.js";

const code = (codes: string): RegExp => new RegExp(`\\b(?:${codes})\\b`, "i");

export const facebookRules = table("facebook", [
  [
    "rcp-not-exist",
    "userunknown",
    code("RCP-P1|INT-P[134]"),
    "550 5.1.1 RCP-P1 http://postmaster.facebook.com/response_codes?ip=192.0.2.7#rcp The attempted recipient address does not exist",
    P.provider,
  ],
  [
    "rcp-preferences",
    "filtered",
    code("RCP-P[23]"),
    "550 5.1.1 RCP-P2 http://postmaster.facebook.com/response_codes?ip=192.0.2.7#rcp",
    P.provider,
  ],
  [
    "rcp-deactivated",
    "suspend",
    code("RCP-T4"),
    "450 4.2.1 RCP-T4 The attempted recipient address is currently deactivated",
    P.provider,
  ],
  [
    "msg-too-large",
    "emailtoolarge",
    code("MSG-P1|INT-P2"),
    "552 5.3.4 MSG-P1 The message exceeds Facebook's maximum allowed size",
    P.provider,
  ],
  [
    "msg-content",
    "contenterror",
    code("MSG-P[23]|POL-P6"),
    "554 5.6.0 MSG-P3 The message contains multiple instances of a header field that can only be present once",
    P.provider,
  ],
  [
    "pol-abuse",
    "policyviolation",
    code("POL-P7"),
    "554 5.7.1 POL-P7 The message does not comply with Facebook's abuse policies",
    P.provider,
  ],
  [
    "pol-pbl",
    "blocked",
    code("POL-P[12]"),
    "554 5.7.1 POL-P1 Your mail server's IP Address is listed on the Spamhaus PBL",
    P.provider,
  ],
  ["pol-virus", "virusdetected", code("POL-P5"), "554 5.7.1 POL-P5 The message contains a virus", P.provider],
  [
    "pol-not-accepting",
    "blocked",
    code("POL-P[34]|POL-T[123]"),
    "421 4.7.1 POL-T1 Facebook is not accepting messages from your mail server, but they may be retried later",
    P.provider,
  ],
  [
    "dns-sender",
    "rejected",
    code("DNS-P[12]|DNS-T1"),
    "550 5.1.8 DNS-P1 Your SMTP MAIL FROM domain does not exist",
    P.provider,
  ],
  [
    "dns-ptr",
    "requireptr",
    code("DNS-P3|DNS-T2"),
    "550 5.7.25 DNS-P3 Your mail server does not have a reverse DNS record",
    P.provider,
  ],
  [
    "con-too-many",
    "ratelimited",
    code("CON-T[1234]|MSG-T1"),
    "421 4.7.0 CON-T3 Your mail server has opened too many new connections to Facebook's mail servers",
    P.provider,
  ],
  [
    "int-temporary",
    "systemerror",
    code("INT-T\\d|RCP-T1"),
    "451 4.3.0 INT-T1 An internal system issue occurred; this is a temporary condition",
    P.provider,
  ],
]);
