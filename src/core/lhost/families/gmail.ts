import { EMAIL_SRC as E } from "../text.js";
import { fromOf, inHead, type Layout } from "../engine.js";
import { hdr, receivedOf, rx } from "./util.js";

/** Google's own hosts and addresses (mailer-daemon@googlemail.com, mx.google.com, @mail.gmail.com ids). */
const GOOGLE = /\bgoogle(?:mail)?\.com\b|\bgmail\.com\b/i;

export const gmail: Layout = {
  // Delivery to the following recipient failed permanently:
  //      userunknown@example.jp
  // Technical details of permanent failure: ...
  // ** Address not found ** Your message wasn't delivered to x@y because the address couldn't be found
  id: "gmail",
  detect: (m, head) =>
    // Google's own notice: its From, a Received line of Google's, or its message id; the subject "Delivery Status
    // Notification" and the wording alone are shared by other MTAs (those go to the general reading)
    (GOOGLE.test(fromOf(m)) || GOOGLE.test(receivedOf(m)) || GOOGLE.test(hdr(m, "message-id"))) &&
    inHead(
      head,
      /Delivery to the following recipients? (?:failed|has been delayed)|Technical details of (?:permanent|temporary) failure|Your message wasn't delivered to|There was a (?:temporary )?problem delivering your message|Message not delivered/i,
    ) &&
    !inHead(head, /google ?groups|googlegroups/i),
  start: [
    /Delivery to the following recipients? (?:failed|has been delayed)|Your message wasn't delivered to|There was a (?:temporary )?problem delivering your message to|Message not delivered|Address not found|Message blocked/i,
  ],
  end: [/^\s*-+\s*(?:Original message|Message truncated)/i, /^\s*(?:LEARN MORE|Learn more about)/i],
  recipient: [
    rx(`(?:wasn't|was not) delivered to (?<addr>${E}) (?<rest>because.*)`),
    rx(`problem delivering your message to (?<addr>${E})\\.?(?<rest>.*)`),
    rx(`^\\s*(?<addr>${E})\\s*$`),
  ],
  generalLines: false,
  blankEnds: false,
  sharedDiagnostic: true,
  reasons: [
    // Google Groups' refusal quoted inside Gmail's "Address not found" notice (Sisimai's GoogleGroups: rejected)
    {
      id: "group-may-not-exist",
      reason: "rejected",
      pattern:
        /group you tried to contact \([^()\n]{1,200}\) may not exist, or you may not have permission to post/i,
    },
    { id: "address-not-found", reason: "userunknown", pattern: /because the address couldn't be found/i },
    {
      id: "domain-not-found",
      reason: "hostunknown",
      pattern:
        /DNS Error: (?:Domain name not found|DNS type '\w{1,10}' lookup of \S{1,255} responded with code NXDOMAIN)/i,
    },
  ],
};
