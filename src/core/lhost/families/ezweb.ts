import { fromOf, subjectOf, type Layout } from "../engine.js";
import { hdr } from "./util.js";

export const ezweb: Layout = {
  // EZweb:  <x@ezweb.ne.jp>  Each of the following recipients was rejected by a remote mail server.
  id: "ezweb",
  detect: (m) =>
    /ezweb\.ne\.jp|au\.com/i.test(fromOf(m)) ||
    /ezweb|au\.com/i.test(hdr(m, "received")) ||
    /^Mail System Error - Returned Mail$/i.test(subjectOf(m)),
  end: [/^-{10,}\s*$/],
  blankEnds: false,
  sharedDiagnostic: true,
  reasons: [
    {
      id: "over-quota",
      reason: "mailboxfull",
      pattern: /The user\(s\) account is temporarily over quota/i,
    },
    {
      id: "account-disabled",
      reason: "suspend",
      pattern: /The user\(s\) account is (?:disabled|temporarily limited)/i,
    },
    { id: "not-delivered-within", reason: "expired", pattern: /Your message was not delivered within /i },
    {
      id: "rejected-by-remote",
      reason: "filtered",
      pattern:
        /Each of the following recipients was rejected by a remote mail server|The following recipients did not receive this message/i,
      unless: /\b[45]\d\d\b/,
    },
  ],
};
