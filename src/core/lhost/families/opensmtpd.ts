import { inHead, type Layout } from "../engine.js";

export const opensmtpd: Layout = {
  // OpenSMTPD:  An error has occurred while attempting to deliver a message for the following list of recipients:
  // x@y: 550 5.1.1 ...
  id: "opensmtpd",
  detect: (_m, head) =>
    inHead(
      head,
      /This is the MAILER-DAEMON, please DO NOT REPLY|An error has occurred while attempting to deliver a message/i,
    ),
  start: [/while attempting to deliver a message/i],
  end: [/^\s*Below is a copy of the original message/i],
  reasons: [
    { id: "invalid-domain", reason: "hostunknown", pattern: /Invalid domain name|Domain not found/i },
    { id: "no-mx", reason: "notaccept", pattern: /No MX found for domain/i },
    {
      id: "network",
      reason: "networkerror",
      pattern: /Network error on destination MXs|Unable to connect/i,
    },
    { id: "user-unknown", reason: "userunknown", pattern: /Invalid recipient|user unknown/i },
    { id: "expired", reason: "expired", pattern: /Envelope expired|message expired/i },
  ],
};
