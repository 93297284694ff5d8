import { inHead, type Layout } from "../engine.js";

export const messagingserver: Layout = {
  // Sun/Oracle Messaging Server:  This report relates to a message you sent with the following header fields:
  // Your message cannot be delivered to the following recipients:  Recipient address: x@y  Reason: ...  Diagnostic code: smtp;550 ...
  id: "messagingserver",
  detect: (_m, head) =>
    inHead(head, /This report relates to a message you sent with the following header fields/i) ||
    inHead(head, /^[\t ]*Recipient address:\s*\S+@/im),
  start: [/cannot be delivered to the following recipients|has been delayed|following recipients:/i],
  blankEnds: false,
};
