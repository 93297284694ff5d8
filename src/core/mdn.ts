// A refusal sent as a message disposition notification: Sieve's `reject` (RFC 5429 section 2.1) returns the mail
// with a multipart/report; report-type=disposition-notification whose Disposition is
// `automatic-action/MDN-sent-automatically; deleted` and whose human part says the message was rejected. The
// recipient's own filter refused the message: a bounce, not a read receipt (manual-action, displayed, ...).
import { addressOf } from "./dsn.js";
import type { ParsedMail } from "./mail.js";

export interface RefusalMdn {
  recipient: string;
  /** The human part's first words (the filter's own reason, where the user gave one). */
  diagnostic?: string;
}

const DISPOSITION = /^disposition:[ \t]*automatic-action\/[^;\r\n]{0,60};[ \t]*deleted\b/im;
const FINAL_RECIPIENT = /^final-recipient:[ \t]*([^\r\n]{1,400})/im;
/** The human part or the Auto-Submitted header says the message was refused (Pigeonhole: `auto-replied (rejected)`). */
const REFUSED = /\b(?:rejected|refused)\b/i;

export function readRefusalMdn(mail: ParsedMail): RefusalMdn | undefined {
  if (mail.reportType !== "disposition-notification" || !mail.statusText) return undefined;
  const status = mail.statusText.slice(0, 4096);
  if (!DISPOSITION.test(status)) return undefined;
  const human = mail.text.slice(0, 2000);
  if (!REFUSED.test(human) && !REFUSED.test(mail.headers.get("auto-submitted") ?? "")) return undefined;
  const recipient = addressOf(FINAL_RECIPIENT.exec(status)?.[1]);
  if (!recipient) return undefined;
  const words = human.replace(/\s+/g, " ").trim().slice(0, 500);
  return words ? { recipient, diagnostic: words } : { recipient };
}
