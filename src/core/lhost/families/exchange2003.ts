import { EMAIL_SRC as E } from "../text.js";
import { inHead, type Layout } from "../engine.js";
import { rx } from "./util.js";

export const exchange2003: Layout = {
  // Your message  To: ...  did not reach the following recipient(s):
  // kijitora@example.jp on Thu, 29 Apr 2010 00:00:00 -0000
  //     The recipient name is not recognized  MSEXCH:IMS:... (000C05A6) Unknown Recipient
  id: "exchange2003",
  detect: (_m, head) =>
    inHead(
      head,
      /did not reach the following recipient\(s\)|MSEXCH:|did not reach the following recipient|did not reach some or all of the intended recipients/i,
    ),
  start: [/did not reach the following recipient|following recipient\(s\) could not be reached/i],
  recipient: [rx(`^\\s*'?(?<addr>${E})'?\\s+on\\s+\\S.*$`)],
  reasons: [
    {
      id: "name-not-recognized",
      reason: "userunknown",
      pattern: /recipient name is not recognized|\(000C05A6\)|Unknown Recipient/i,
    },
    {
      id: "mailbox-full",
      reason: "mailboxfull",
      pattern: /mailbox (?:is )?full|exceeded (?:the )?storage|\(0004010E\)/i,
    },
    {
      id: "no-route",
      reason: "networkerror",
      pattern: /could not find a route|\(000D06B5\)|\(00010256\)/i,
    },
    { id: "expired", reason: "expired", pattern: /\(0000052D\)|message (?:has )?expired/i },
    { id: "size", reason: "emailtoolarge", pattern: /message (?:size )?exceeds|too large/i },
    { id: "restricted", reason: "filtered", pattern: /\(000C0595\)|not authorized|restriction/i },
  ],
};
