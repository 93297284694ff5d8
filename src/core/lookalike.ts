// Mails dressed as delivery notices that report nothing, and a gateway's batch of notices enclosed in one mail.
// Pure structure, no words: what the mail is made of decides.
import { headerAddress } from "./lhost/text.js";
import { ENCLOSURE } from "./mime/content-type.js";
import type { MailPart, ParsedMail } from "./mail.js";

/** Enclosures looked at in a batch (a gateway's digest of notices), and how deep the tree is walked. */
const MAX_ENCLOSED = 50;
const MAX_DEPTH = 16;

/**
 * A calendar invitation or reply (an iCalendar `text/calendar` or `application/ics` part of its own, outside any
 * enclosed message): whatever its summary says of bounces, a meeting is no delivery notice. An NDR of a meeting
 * request encloses the request (message/rfc822), so its calendar part is never the mail's own.
 */
export function isCalendarMail(mail: ParsedMail): boolean {
  if (mail.statusText !== undefined) return false;
  const walk = (p: MailPart, depth: number): boolean => {
    if (depth > MAX_DEPTH || ENCLOSURE.has(p.contentType)) return false;
    if (p.contentType === "text/calendar" || p.contentType === "application/ics") return true;
    return p.parts.some((c) => walk(c, depth + 1));
  };
  return walk(mail.root, 0);
}

/**
 * A notice that names as failed only its own addressee, with no delivery-status part and no returned original: a
 * bounce goes back to the sender of the failed message, never to the address that failed (and one a sender got for
 * mail to itself returns that mail). Phishing and spam dressed as `Undelivered Mail Returned to Sender` are this.
 */
export function onlySelfAddressed(mail: ParsedMail, recipients: readonly string[]): boolean {
  if (mail.statusText !== undefined || mail.originalHeaders !== undefined || recipients.length === 0)
    return false;
  const to = mail.headers.get("to");
  if (!to) return false;
  const own = new Set<string>();
  for (const part of to.split(",")) {
    const a = headerAddress(part)?.toLowerCase();
    if (a) own.add(a);
  }
  return recipients.every((r) => own.has(r.toLowerCase()));
}

/**
 * The messages a mail encloses side by side (message/rfc822 parts, a multipart/digest's entries), in order, not
 * looking inside any of them: a gateway that forwards notices in batches encloses one per failure.
 */
export function enclosedMessages(mail: ParsedMail): MailPart[] {
  const out: MailPart[] = [];
  const walk = (p: MailPart, depth: number): void => {
    if (depth > MAX_DEPTH || out.length >= MAX_ENCLOSED) return;
    if (ENCLOSURE.has(p.contentType)) {
      if (p.parts[0]) out.push(p.parts[0]);
      return;
    }
    for (const c of p.parts) walk(c, depth + 1);
  };
  walk(mail.root, 0);
  return out;
}
