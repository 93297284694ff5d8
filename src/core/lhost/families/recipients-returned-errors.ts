import { EMAIL_SRC as E } from "../text.js";
import { inHead, subjectOf, type Layout } from "../engine.js";
import { rx } from "./util.js";

export const recipientsReturnedErrors: Layout = {
  // The following recipients returned permanent errors: x@y. Reason: SMTP Server <192.0.2.1> refused ...
  id: "recipients-returned-errors",
  detect: (m, head) =>
    inHead(head, /The following recipients returned (?:permanent|temporary) errors/i) ||
    (/^There was an error sending your mail/i.test(subjectOf(m)) && inHead(head, /(?<!\d)\d+ error\(s\):/)),
  recipient: [
    rx(`recipients returned (?:permanent|temporary) errors:\\s*(?<addr>${E})\\.?\\s*(?<rest>.*)`),
    rx(`^(?<rest>.*(?:rejected|refused) recipient <?(?<addr>${E})>?.*)`),
  ],
  generalLines: false,
};
