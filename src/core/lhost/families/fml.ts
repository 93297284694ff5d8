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
    // (nor the one a `Loop Alert: dup'ed message-id=<...> in <list>` line names before the list)
    rx(`^(?<rest>.*?)(?<!message-id[ =])<(?<addr>${E})>`),
  ],
  generalLines: false,
  recipientFromOriginal: true,
  // fml's help paragraph (`If you know the general guide of this list, ... to the address <ml-ctl@...>`) names the
  // list's command address, not a recipient; `The original mail follows.` / `------- Forwarded Message` start the post
  end: [
    /^Original mail as follows/i,
    /^-+\s*original message/i,
    /^The original mail follows/i,
    /^-+ ?Forwarded Message/i,
    /^If you know the general guide of this list/i,
  ],
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
