import { fromOf, inHead, subjectOf, type Layout } from "../engine.js";

export const yahoo: Layout = {
  // Sorry, we were unable to deliver your message to the following address.
  // <kijitora@example.jp>:
  // Remote host said:
  // 550 5.1.1 <kijitora@example.jp>... User Unknown [RCPT_TO]
  id: "yahoo",
  detect: (m, head) =>
    inHead(head, /unable to deliver your message to the following address/i) &&
    (/yahoo/i.test(fromOf(m)) || /^Failure Notice/i.test(subjectOf(m))),
  start: [/unable to deliver your message to the following address/i],
  blankEnds: false,
};
