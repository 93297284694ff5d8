import { inHead, type Layout } from "../engine.js";

export const notes: Layout = {
  // ------- Failure Reasons  --------  User not listed in public Name & Address Book  x@y  ------- Returned Message
  id: "notes",
  detect: (_m, head) => inHead(head, /^-+\s*Failure Reasons\s*-+/im),
  start: [/^-+\s*Failure Reasons\s*-+/i],
  end: [/^-+\s*Returned Message\s*-+/i],
  sharedDiagnostic: true,
  reasons: [
    {
      id: "not-listed",
      reason: "userunknown",
      pattern: /not listed in (?:public )?Name & Address Book|ディレクトリのリストにありません/i,
    },
    { id: "hop-count", reason: "networkerror", pattern: /exceeded (?:the )?maximum hop count/i },
  ],
};
