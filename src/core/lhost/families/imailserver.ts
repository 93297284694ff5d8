import { EMAIL_SRC as E } from "../text.js";
import { inHead, subjectOf, type Layout } from "../engine.js";
import { rx } from "./util.js";

export const imailserver: Layout = {
  // IMail:  Unknown user: x@y   /   User mailbox exceeds allowed size: x@y
  id: "imailserver",
  // (`Unknown host: example.net` names the domain only: the recipient is then the returned original's To)
  detect: (m, head) =>
    /^Undeliverable Mail\s*$/i.test(subjectOf(m)) &&
    inHead(
      head,
      /^[A-Za-z][^:]{3,60}:\s*[^\s@]+@\S+[\t ]*$|^(?:Unknown host|Host not found|Domain not found):\s*\S+[\t ]*$/m,
    ),
  recipientFromOriginal: true,
  sharedDiagnostic: true,
  recipient: [rx(`^\\s*(?<rest>[A-Za-z][^:<>@]{3,60}):\\s*<?(?<addr>${E})>?\\s*$`)],
  blankEnds: false,
  end: [/^Original message follows/i],
  reasons: [
    {
      id: "unknown-user",
      reason: "userunknown",
      pattern: /^(?:Unknown user|Invalid final delivery userid)/i,
    },
    { id: "mailbox-size", reason: "mailboxfull", pattern: /^User mailbox exceeds allowed size/i },
    {
      id: "host-not-found",
      reason: "hostunknown",
      pattern: /^(?:Unknown host|Host not found|Domain not found)/i,
    },
    { id: "timed-out", reason: "expired", pattern: /^(?:Request timed out|Delivery expired)/i },
    { id: "no-answer", reason: "networkerror", pattern: /^(?:No answer from host|Could not connect)/i },
  ],
};
