import { fromOf, inHead, type Layout } from "../engine.js";

export const mcafee: Layout = {
  // McAfee (and kin):  --- The following addresses had delivery problems ---  <x@y>   (User unknown x@y)
  id: "mcafee",
  detect: (m, head) =>
    inHead(head, /^[\t -]*The following addresses had delivery problems[\t -]*$/im) &&
    !/biglobe/i.test(fromOf(m)),
  start: [/The following addresses had delivery problems/i],
  blankEnds: false,
};
