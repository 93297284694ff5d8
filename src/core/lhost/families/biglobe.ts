import { fromOf, inHead, type Layout } from "../engine.js";

export const biglobe: Layout = {
  // Biglobe:  ----- The following addresses had delivery problems -----  x@y  ----- Non-delivered information -----
  id: "biglobe",
  detect: (m, head) =>
    /biglobe/i.test(fromOf(m)) && inHead(head, /The following addresses had delivery problems/i),
  start: [/The following addresses had delivery problems/i],
  blankEnds: false,
  reasons: [
    {
      id: "mailbox-exceeded",
      reason: "mailboxfull",
      pattern: /recipient's mailbox exceeded the local limit/i,
    },
    // Sisimai's Biglobe table: the notice's own "Mail Delivery Failed... User unknown" is its filter's answer
    {
      id: "delivery-failed-user-unknown",
      reason: "filtered",
      pattern: /Mail Delivery Failed\.{3} User unknown/i,
    },
    { id: "no-user", reason: "userunknown", pattern: /Invalid recipient|User unknown/i },
  ],
};
