import { EMAIL_SRC as E } from "../text.js";
import { fromOf, inHead, type Layout } from "../engine.js";
import { rx } from "./util.js";

export const verizon: Layout = {
  // Message could not be delivered to mobile.  Error: No valid recipients for this MM
  id: "verizon",
  detect: (m, head) =>
    /vtext\.com|vzwpix\.com|verizon/i.test(fromOf(m)) || inHead(head, /could not be delivered to mobile/i),
  // The display name starts with a visible character, so the spaces after `To:` are read one way only (linear).
  recipient: [rx(`^\\s*To:\\s*(?:<|[^<\\s][^<]*<)?(?<addr>${E})>?\\s*$`)],
  generalLines: false,
  recipientFromOriginal: true,
  sharedDiagnostic: true,
  noise: [/^\s*(?:Subject|Date|From|CC|Sent):/i],
  reasons: [
    // The sentence is above the returned message, away from the To: line that names the recipient.
    {
      id: "no-valid-recipients",
      reason: "userunknown",
      pattern: /No valid recipients for this MM/i,
      scope: "block",
    },
  ],
};
