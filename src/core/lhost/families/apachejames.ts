import { EMAIL_SRC as E } from "../text.js";
import { inHead, type Layout } from "../engine.js";
import { rx } from "./util.js";

export const apachejames: Layout = {
  // Apache James (and Verizon's vtext.com gateway):  Error: Invalid user address  Error message below:
  // 550 - Requested action not taken: no such user here   Message details: ... RCPT TO: x@y
  id: "apachejames",
  detect: (_m, head) => inHead(head, /^Error message below:/im) && inHead(head, /^[\t ]*Message details:/im),
  recipient: [rx(`^\\s*RCPT TO:\\s*<?(?<addr>${E})>?`)],
  generalLines: false,
  blankEnds: false,
  sharedDiagnostic: true,
};
