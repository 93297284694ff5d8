// The parsed view of a raw mail that every parser reads. Produced by mime.ts (parseMail), pure and bounded.

/** Header lookup, case-insensitive names, values unfolded and RFC 2047-decoded. */
export interface Headers {
  get(name: string): string | undefined;
  getAll(name: string): string[];
  /** Every header in order, names lower-cased. */
  entries(): [string, string][];
}

export interface MailPart {
  headers: Headers;
  /** Lower-cased `type/subtype`, default `text/plain`. */
  contentType: string;
  /** Content-Type parameters, lower-cased names (charset, report-type, boundary, ...). */
  params: Record<string, string>;
  /** Decoded text of a text/* or message/* leaf (transfer-decoded, charset-converted to UTF-8); '' for binary leaves. */
  body: string;
  /** Sub-parts of a multipart; for message/rfc822 and message/global, the enclosed message as one part. */
  parts: MailPart[];
  /**
   * A binary leaf's content (an attachment: a DMARC report's gzip or zip), transfer-decoded on call, as a binary
   * string (one char per byte), capped at the mail's size limit; '' for text leaves, multiparts and enclosures.
   */
  content(): string;
}

export interface ParsedMail {
  headers: Headers;
  root: MailPart;
  /** The mail's human-readable text: its first text/plain part (or stripped text/html) that is not a report part. */
  text: string;
  /** Lower-cased report-type of a multipart/report (`delivery-status`, `feedback-report`, ...), if any. */
  reportType?: string;
  /** The delivery-status / feedback-report part's body text, if any. */
  statusText?: string;
  /** The returned original: the headers of the message/rfc822, text/rfc822-headers or message/global part, or of a message found inline in the text. */
  originalHeaders?: Headers;
  /** The returned original's body text when it is there. */
  originalBody?: string;
}
