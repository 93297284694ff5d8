import { EMAIL_SRC as E } from "../text.js";
import { fromOf, inHead, type Layout } from "../engine.js";
import { hdr, rx } from "./util.js";

export const googlegroups: Layout = {
  // Google Groups: the group does not exist or does not let the sender post (X-Failed-Recipients names it)
  id: "googlegroups",
  detect: (m, head) =>
    /google(?:mail)?\.com/i.test(fromOf(m)) &&
    (m.headers.get("x-failed-recipients") !== undefined || inHead(head, /Google Groups|googlegroups/i)) &&
    /google ?groups|googlegroups/i.test(head + hdr(m, "x-failed-recipients")),
  recipient: [rx(`^\\s*(?=.*googlegroups)(?<addr>${E})`)],
  generalLines: false,
  reasons: [{ id: "group-refused", reason: "rejected", pattern: /./ }],
  sharedDiagnostic: true,
};
