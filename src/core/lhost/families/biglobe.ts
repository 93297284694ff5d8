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
    { id: "no-user", reason: "userunknown", pattern: /Invalid recipient|User unknown/i },
  ],
};
