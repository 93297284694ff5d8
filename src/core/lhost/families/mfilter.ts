import { inHead, type Layout } from "../engine.js";

export const mfilter: Layout = {
  // m-FILTER:  x@y  -------server message  550 unknown user <x@y>  -------SMTP command  DATA
  id: "mfilter",
  detect: (_m, head) => inHead(head, /^-{5,}server message\s*$/im) || inHead(head, /m-FILTER/i),
  end: [/^-+original message/i],
  blankEnds: false,
  noise: [/^-{5,}(?:server message|SMTP command)\s*$/i],
};
