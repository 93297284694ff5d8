import { EMAIL_SRC as E } from "../text.js";
import { inHead, type Layout } from "../engine.js";
import { hdr, rx } from "./util.js";

export const fml: Layout = {
  // You are not a member of this mailing list <ml@example.org>.   (fml)
  id: "fml",
  detect: (m, head) =>
    /fml/i.test(hdr(m, "x-mlserver") + hdr(m, "list-software")) ||
    inHead(head, /not a member of this mailing list/i),
  recipient: [
    rx(`(?<rest>not a member of this mailing list) <?(?<addr>${E})>?`),
    // (not the Message-ID a `Duplicated Message-ID <...>` line names: the post's own To, below, is the recipient)
    rx(`^(?<rest>.*?)(?<!message-id )<(?<addr>${E})>`),
  ],
  generalLines: false,
  recipientFromOriginal: true,
  end: [/^Original mail as follows/i, /^-+\s*original message/i],
  reasons: [
    // Sisimai's FML tables: `Security alert:` in the text (or `Security Alert` in the subject) is securityerror
    { id: "security-alert", reason: "securityerror", pattern: /Security alert:/i, scope: "block" },
    {
      id: "duplicated-message-id",
      reason: "notcompliantrfc",
      pattern: /Duplicated Message-ID/i,
      scope: "block",
    },
    {
      id: "not-member",
      reason: "rejected",
      pattern: /not a member|not member|only members|denied|reject/i,
    },
    { id: "loop", reason: "systemerror", pattern: /loop/i },
  ],
};
