import { fromOf, type Layout } from "../engine.js";
import { hdr, receivedOf } from "./util.js";

/** au / EZweb's own hosts (ezweb.ne.jp, au.com). */
const AU = /\bezweb\.ne\.jp\b|\bau\.com\b/i;

export const ezweb: Layout = {
  // EZweb:  <x@ezweb.ne.jp>  Each of the following recipients was rejected by a remote mail server.
  id: "ezweb",
  // au/EZweb's own notice: its From, Received or Message-ID. The subject "Mail System Error - Returned Mail" and
  // "This Message was undeliverable due to the following reason:" are old Netscape/hotpop wording that other
  // servers share (those go to the general reading).
  detect: (m) => AU.test(fromOf(m)) || AU.test(receivedOf(m)) || AU.test(hdr(m, "message-id")),
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
