import { EMAIL_SRC as E } from "../text.js";
import { fromOf, inHead, subjectOf, type Layout } from "../engine.js";
import { rx } from "./util.js";

export const gmail: Layout = {
  // Delivery to the following recipient failed permanently:
  //      userunknown@example.jp
  // Technical details of permanent failure: ...
  // ** Address not found ** Your message wasn't delivered to x@y because the address couldn't be found
  id: "gmail",
  detect: (m, head) =>
    (/google(?:mail)?\.com/i.test(fromOf(m)) || /^Delivery Status Notification/i.test(subjectOf(m))) &&
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
    { id: "address-not-found", reason: "userunknown", pattern: /because the address couldn't be found/i },
    {
      id: "domain-not-found",
      reason: "hostunknown",
      pattern:
        /DNS Error: (?:Domain name not found|DNS type '\w{1,10}' lookup of \S{1,255} responded with code NXDOMAIN)/i,
    },
  ],
};
