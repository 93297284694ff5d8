import { inHead, subjectOf, type Layout } from "../engine.js";
import type { ParsedMail } from "../../mail.js";
import { qmail } from "./qmail.js";

/** qmail's Received header, of the bounce or of the mail it came in with. */
const QMAIL_RECEIVED = /\(qmail \d+ invoked (?:for bounce|from network)\)/;

/** The openings of the clones' notices (English, Spanish, a Russian provider's English, a Japanese ISP's). */
const OPENING =
  /He\/Her is not |unable to deliver your message to the following addresses|Su mensaje no pudo ser entregado|This is the machine generated message from mail service|This is the mail delivery agent at|Unable to deliver message to the following address|Unfortunately, your mail was not delivered to the following address|Your mail message to the following address|Your message to the following addresses|We're sorry\./i;

const qmailish = (m: ParsedMail): boolean =>
  /^(?:failure notice|Permanent Delivery Failure)/i.test(subjectOf(m)) ||
  m.headers.getAll("received").some((r) => QMAIL_RECEIVED.test(r));

export const qmailClone: Layout = {
  // qmail clones that reword qmail-send's notice but keep its body: `<addr>:`, the remote's words, `Giving up on`.
  //   Subject: Permanent Delivery Failure
  //   We're sorry. There's a problem with the e-mail address(es) you're trying to send to. ...
  //   <kijitora@example.jp>:
  //   192.0.2.153 does not like recipient.
  //   Remote host said: 550 5.1.1 <kijitora@example.jp>... User Unknown
  id: "qmail-clone",
  detect: (m, head) =>
    qmailish(m) && (inHead(head, OPENING) || inHead(head, /^<[^\s<>@]{1,64}@[^\s<>]{1,255}>:[\t ]*$/m)),
  start: [OPENING, /^<[^\s<>@]{1,64}@[^\s<>]{1,255}>:[\t ]*$/],
  end: [/^--- Below this line is a copy of the message|^Original message follows/i],
  ...(qmail.reasons ? { reasons: qmail.reasons } : {}),
};
