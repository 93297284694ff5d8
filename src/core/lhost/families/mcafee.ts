import { fromOf, inHead, type Layout } from "../engine.js";

export const mcafee: Layout = {
  // McAfee (and kin):  --- The following addresses had delivery problems ---  <x@y>   (User unknown x@y)
  id: "mcafee",
  detect: (m, head) =>
    inHead(head, /^[\t -]*The following addresses had delivery problems[\t -]*$/im) &&
    !/biglobe/i.test(fromOf(m)),
  start: [/The following addresses had delivery problems/i],
  blankEnds: false,
  // Its own words beside the address, `(User unknown x@y)`, are its verdict on the address (Sisimai's
  // Lhost::McAfee reads userunknown from them), even beside a relayed reply that names no command.
  reasons: [{ id: "user-unknown", reason: "userunknown", pattern: /\(user unknown [^\s()]{1,254}\)/i }],
  overDsn: true,
};
