import { EMAIL_SRC as E } from "../text.js";
import { inHead, type Layout } from "../engine.js";
import { rx } from "./util.js";

export const mailmarshal: Layout = {
  // MailMarshal:  Could not be delivered because of  550 5.1.1 User unknown  The following recipients were affected:  x@y
  id: "mailmarshal",
  detect: (_m, head) =>
    inHead(head, /Could not be delivered because of/i) &&
    inHead(head, /The following recipients were affected/i),
  recipient: [rx(`^\\s+(?<addr>${E})\\s*$`)],
  generalLines: false,
  end: [/^Additional Information\s*$/i],
  sharedDiagnostic: true,
};
