// An abuse desk's complaint in plain words (no ARF): a network's abuse mailbox (RFC 2142 `abuse@`) writes that its
// subscriber complained of a message, and quotes that message, addressed to the subscriber it names. The quoted
// original's To, named again in the desk's own words, is the complaining recipient.
import type { Complaint } from "./arf.js";
import { addressOf } from "./dsn.js";
import type { ParsedMail } from "./mail.js";

/** The sender: the abuse role mailbox (`abuse@`, `abuse-desk@`, `abuse_reports@`). */
const ABUSE_MAILBOX = /^abuse(?:[-_.][a-z0-9]{1,30})?@/i;
/** The desk's words: someone complained of, or reported, unsolicited mail or spam. */
const COMPLAINT_WORDS =
  /\bcomplain(?:ed|ts?)? (?:about|of|regarding)\b|\bcomplaint (?:about|from|regarding)\b|\breported (?:\S{1,30} ){0,4}as (?:spam|junk|unsolicited)|\bmarked (?:\S{1,30} ){0,4}as (?:spam|junk)\b/i;
/** Where the quoted original starts in the desk's text (a `> ` line or a begin marker). */
const QUOTE_START = /^(?:>|-{2,} ?(?:begin|original) )/im;

export function readAbuseDeskComplaint(mail: ParsedMail): Complaint | undefined {
  if (mail.statusText !== undefined || mail.reportType !== undefined || !mail.originalHeaders)
    return undefined;
  const from = addressOf(mail.headers.get("from"));
  if (!from || !ABUSE_MAILBOX.test(from)) return undefined;
  const to = addressOf(mail.originalHeaders.get("to"));
  if (!to) return undefined;
  const text = mail.text.slice(0, 8192);
  const quote = QUOTE_START.exec(text);
  const own = quote ? text.slice(0, quote.index) : text;
  if (!COMPLAINT_WORDS.test(own) || !own.toLowerCase().includes(to.toLowerCase())) return undefined;
  return {
    arf: { feedbackType: "abuse" },
    recipients: [to],
    rule: "complaint.abuse-desk",
    diagnostic: own.replace(/\s+/g, " ").trim().slice(0, 1000),
  };
}
