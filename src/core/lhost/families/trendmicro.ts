import { EMAIL_SRC as E } from "../text.js";
import { fromOf, inHead, type Layout } from "../engine.js";
import { hdr, rx } from "./util.js";

export const trendmicro: Layout = {
  // Trend Micro InterScan:  Sent <<< RCPT TO:<x@y>  Received >>> 550 5.1.1 <x@y>... User unknown
  id: "trendmicro",
  detect: (m, head) =>
    /InterScan|Trend ?Micro/i.test(fromOf(m) + hdr(m, "x-mailer")) || inHead(head, /^Sent <<< RCPT TO:/m),
  recipient: [
    rx(`^\\s*Sent <<< RCPT TO:\\s*<?(?<addr>${E})>?`),
    rx(`^(?<rest>Unable to deliver message to <?(?<addr>${E})>?.*)`),
  ],
  blankEnds: false,
  end: [/^\*+\s*End of message\s*\*+/i],
  reasons: [
    {
      id: "check-address",
      reason: "userunknown",
      pattern: /Please check if address is correct|No such user/i,
    },
  ],
};
