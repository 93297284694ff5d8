import { EMAIL_SRC as E } from "../text.js";
import { inHead, subjectOf, type Layout } from "../engine.js";
import { rx } from "./util.js";

export const dsnSubjectStarList: Layout = {
  // Delevery to the following recipients was aborted after 5.0 hour(s):
  // Delivery to the following recipients failed permanently:   * kijitora@example.or.jp
  id: "dsn-subject-star-list",
  detect: (m, head) =>
    /^Delivery status notification$/i.test(subjectOf(m)) &&
    inHead(
      head,
      /(?:Delevery|Delivery) to the following recipients|automatically generated Delivery Status Notification/i,
    ),
  start: [/(?:Delevery|Delivery) to the following recipients/i],
  recipient: [
    rx(`^\\s*\\*\\s*(?<addr>${E})(?<rest>.*)`),
    rx(`^(?<rest>.*?)\\bfor\\s+<?(?<addr>${E})>?\\s*$`),
  ],
  // the returned original's headers under their own ruled heading (`Original e-mail headers:`) are not the error
  end: [/^\s*Original (?:e-?mail|message) headers:?\s*$/i],
  blankEnds: false,
  sharedDiagnostic: true,
  reasons: [{ id: "aborted-after", reason: "expired", pattern: /was aborted after [\d.]+ hour/i }],
};
