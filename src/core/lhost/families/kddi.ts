import { EMAIL_SRC as E } from "../text.js";
import { fromOf, inHead, type Layout } from "../engine.js";
import { rx } from "./util.js";

export const kddi: Layout = {
  // Could not be delivered to: <x@dion.ne.jp>  As their mailbox is full.
  id: "kddi",
  detect: (m, head) =>
    inHead(head, /Could not be delivered to:\s*</i) ||
    (/dion\.ne\.jp|\.au\.com|ezweb\.ne\.jp/i.test(fromOf(m)) && inHead(head, /Your mail sent on/i)),
  recipient: [rx(`Could not be delivered to:?\\s*<?(?<addr>${E})>?`)],
  blankEnds: false,
  reasons: [
    { id: "mailbox-full", reason: "mailboxfull", pattern: /As their mailbox is full/i },
    { id: "no-domain", reason: "hostunknown", pattern: /As the remote domain do(?:es)?n'?t exist/i },
    { id: "relay-error", reason: "networkerror", pattern: /Due to the following SMTP relay error/i },
  ],
};
