import { inHead, subjectOf, type Layout } from "../engine.js";
import type { Headers, ParsedMail } from "../../mail.js";

const QMAIL_BOUNCE = /\(qmail \d+ invoked for bounce\)/;

/**
 * A Received header of qmail's bounce. Decoding every Received header of every mail that reaches the layouts,
 * to test it, was among the costliest checks here: they are decoded only when the raw text of one has `qmail`
 * or an encoded word. Decoding keeps ASCII runs as they are (unfolding puts a space where a line was folded),
 * so an encoded word is the one way for `qmail` to appear.
 */
function qmailReceived(m: ParsedMail): boolean {
  const h = m.headers as Headers & { someRawIncludes?: (name: string, words: readonly string[]) => boolean };
  if (h.someRawIncludes && !h.someRawIncludes("received", ["qmail", "=?"])) return false;
  return h.getAll("received").some((r) => QMAIL_BOUNCE.test(r));
}

export const qmail: Layout = {
  // Hi. This is the qmail-send program at mx.example.jp.
  // <kijitora@example.ne.jp>:
  // Sorry, no mailbox here by that name. (#5.1.1)
  id: "qmail",
  detect: (m, head) =>
    qmailReceived(m) ||
    inHead(
      head,
      /This is the qmail-send program|qmail-send program at|I'm afraid I wasn't able to deliver your message|I am afraid I wasn't able to deliver/i,
    ) ||
    (/^failure notice/i.test(subjectOf(m)) && inHead(head, /\(#[45]\.\d+\.\d+\)/)),
  start: [/qmail-send program|I'm afraid I wasn't able to deliver|wasn't able to deliver your message/i],
  end: [
    /^--- Below this line is a copy of the message|^--- Enclosed are the original headers of the message/i,
  ],
  reasons: [
    { id: "sender-rejected", reason: "rejected", pattern: /Connected to \S+ but sender was rejected/i },
    { id: "name-rejected", reason: "blocked", pattern: /Connected to \S+ but my name was rejected/i },
    { id: "no-mailbox", reason: "userunknown", pattern: /no mailbox here by that name/i },
    { id: "quota", reason: "mailboxfull", pattern: /disk quota exceeded/i },
    { id: "too-big", reason: "emailtoolarge", pattern: /Message size exceeds fixed maximum message size/i },
    {
      id: "no-host",
      reason: "hostunknown",
      pattern: /Sorry, I couldn't find any host (?:named|by that name)/i,
    },
    { id: "no-space", reason: "systemfull", pattern: /mailbox unavailable \(not enough free space\)/i },
    {
      id: "no-connection",
      reason: "networkerror",
      pattern:
        /Sorry, I wasn't able to establish an SMTP connection|Sorry, I couldn't find a mail exchanger or IP address|Although I'm listed as a best-preference MX or A for that host/i,
    },
    {
      id: "not-allowed-rcpthosts",
      reason: "norelaying",
      pattern: /that domain isn't in my list of allowed rcpthosts/i,
    },
    { id: "ldap-disabled", reason: "suspend", pattern: /Mailaddress is administrative?le?y disabled/i },
    {
      id: "queue-too-long",
      reason: "expired",
      pattern: /this message has been in the queue too long/i,
      unless: /\b[45]\d\d\b|does not like recipient/i,
    },
  ],
};
