import { inHead, type Layout } from "../engine.js";

export const notes: Layout = {
  // ------- Failure Reasons  --------  User not listed in public Name & Address Book  x@y  ------- Returned Message
  id: "notes",
  // A localised Notes (Japanese: `------- 配信エラーの理由 --------` above `ディレクトリのリストにありません`) rules
  // its reasons heading in its own language: it is known by the `Returned Message` ruler and its own reason words.
  detect: (_m, head) =>
    inHead(head, /^-+\s*Failure Reasons\s*-+/im) ||
    (inHead(head, /^-+\s*Returned Message\s*-+/im) && inHead(head, /ディレクトリのリストにありません/)),
  start: [/^-+\s*Failure Reasons\s*-+/i, /^-{3,}[\t ]*[^\s-][^-]{0,40}?[\t ]*-{3,}[\t ]*$/],
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
