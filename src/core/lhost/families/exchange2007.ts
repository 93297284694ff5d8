import { inHead, type Layout } from "../engine.js";

export const exchange2007: Layout = {
  // Exchange 2007+:  Delivery has failed to these recipients or groups:  x@y  The e-mail address you entered couldn't be found ...
  id: "exchange2007",
  detect: (_m, head) =>
    inHead(
      head,
      /Delivery has failed to these recipients or (?:distribution lists|groups)|Diagnostic information for administrators|Remote Server returned '/i,
    ),
  start: [
    /Delivery has failed to these recipients|Diagnostic information for administrators|could not be delivered to/i,
  ],
  end: [/^Original message headers:/i],
  blankEnds: false,
};
