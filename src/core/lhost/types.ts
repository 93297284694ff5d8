// Non-standard bounces: per-MTA / per-provider extractors that find the failed recipients and the remote
// server's words in a bounce that has no (or an incomplete) RFC 3464 delivery-status part.
import type { ParsedMail } from "../mail.js";
import type { Reason } from "../report.js";

export interface ExtractedRecipient {
  recipient: string;
  /** The remote server's words for this recipient (the text the reason is read from). */
  diagnostic?: string;
  status?: string;
  smtpCode?: number;
  action?: string;
  remoteMta?: string;
  command?: string;
  /** Set when the format itself states the reason (e.g. a fixed sentence of this MTA); otherwise text rules decide. */
  reason?: Reason;
  /** Id of the format-level evidence, e.g. `qmail.no-mailbox`; becomes `lhost:<id>`. */
  rule?: string;
  /**
   * The address the sender mailed, where the notice names it beside the failed one: Exim's `(generated from x@y)`,
   * Postfix's `(expanded from <x@y>)` (the house reports the failed address, like Final-Recipient, and keeps this).
   */
  originalRecipient?: string;
  /** A free-text bounce's words around the recipient (the announcement above it, the notice's other lines). */
  context?: string;
}

export interface LhostParser {
  /** Family id: `postfix`, `exim`, `qmail`, `office365`, ... */
  id: string;
  /** Its own words decide even beside a complete delivery-status part (Layout.overDsn). */
  overDsn?: boolean;
  /** Cheap check on headers/subject/from/text: is this mail plausibly this MTA's bounce? */
  detect(mail: ParsedMail): boolean;
  /** The failed recipients, or null when the mail is not this MTA's bounce after all. */
  extract(mail: ParsedMail): ExtractedRecipient[] | null;
}
