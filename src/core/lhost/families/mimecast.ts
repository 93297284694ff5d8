import { EMAIL_SRC as E } from "../text.js";
import { inHead, type Layout } from "../engine.js";
import { rx } from "./util.js";

export const mimecast: Layout = {
  // An email that you attempted to send to the following address could not be delivered:  -- x@y
  id: "mimecast",
  detect: (_m, head) => inHead(head, /attempted to send to the following address could not be delivered/i),
  recipient: [rx(`^\\s*--\\s+(?<addr>${E})\\s*$`)],
  blankEnds: false,
  end: [/^This condition occurred after|^If you sent the email to multiple recipients/i],
  reasons: [
    {
      id: "address-incorrect",
      reason: "userunknown",
      pattern: /Recipient email address is possibly incorrect/i,
    },
    { id: "mailbox-full", reason: "mailboxfull", pattern: /mailbox is full|over quota/i },
  ],
};
