import { inHead, type Layout } from "../engine.js";

export const amazonworkmail: Layout = {
  // An error occurred while trying to deliver the mail to the following recipients:  x@y  Technical report: ...
  id: "amazonworkmail",
  detect: (_m, head) =>
    inHead(head, /An error occurred while trying to deliver the mail to the following recipients/i),
  start: [/An error occurred while trying to deliver the mail/i],
  blankEnds: false,
};
