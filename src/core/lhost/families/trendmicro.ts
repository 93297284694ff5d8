import { EMAIL_SRC as E } from "../text.js";
import { fromOf, inHead, subjectOf, type Layout } from "../engine.js";
import { hdr, rx } from "./util.js";

/** The subjects of its notices: English and the two Japanese ones. */
const SUBJECTS =
  /^(?:Mail could not be delivered|メッセージを配信できません。?|メール配信に失敗しました)\s*$/;

export const trendmicro: Layout = {
  // Trend Micro InterScan MSS / Email and Collaboration Security: a transcript of the refused command and reply.
  //   Sent <<< RCPT TO:<x@y>
  //   Received >>> 550 5.1.1 <x@y>... User unknown
  // The Japanese notices turn the arrows round (`送信 >>> RCPT TO:<x@y>`, `受信 <<< 550 ...`), and newer ones say
  //   Unable to deliver message to <x@y> (and other recipients in the same domain).
  id: "trendmicro",
  detect: (m, head) =>
    /InterScan|Trend ?Micro/i.test(fromOf(m) + hdr(m, "x-mailer")) ||
    (SUBJECTS.test(subjectOf(m)) &&
      inHead(head, /(?:<<<|>>>)[\t ]+RCPT TO:|Unable to deliver message to </i)) ||
    inHead(head, /^Sent <<< RCPT TO:/m),
  recipient: [
    rx(`^[^<>@]{0,40}(?:<<<|>>>)[\\t ]+RCPT TO:\\s*<?(?<addr>${E})>?`),
    rx(`^(?<rest>Unable to deliver message to <?(?<addr>${E})>?.*)`),
  ],
  blankEnds: false,
  end: [/^\*+\s*End of message\s*\*+/i],
  reasons: [
    {
      id: "check-address",
      reason: "userunknown",
      pattern: /Please check if address is correct|No such user/i,
    },
  ],
};
