// RFC 3464 / RFC 6533 delivery-status fields: per-message fields and every per-recipient block. Tolerant of the
// slightly broken reports real MTAs send (no blank line between recipients, unindented continuation lines,
// missing address types, upper-case names).

export interface DsnRecipientBlock {
  /** The Final-Recipient address (address type stripped), else X-Actual-Recipient / Original-Recipient. */
  recipient?: string;
  originalRecipient?: string;
  action?: string;
  status?: string;
  /** The comment after the code in the Status field (`5.2.1 (mailbox disabled, not accepting messages)`). */
  statusComment?: string;
  remoteMta?: string;
  /** Diagnostic-Code without its `smtp;` type, unfolded. */
  diagnostic?: string;
  diagnosticType?: string;
  lastAttemptDate?: string;
  willRetryUntil?: string;
  /** Every field of the block, lower-cased names, raw values (unfolded). */
  fields: Record<string, string>;
}

export interface DeliveryStatus {
  /** Per-message fields (Reporting-MTA, Arrival-Date, X-Postfix-Queue-ID, ...), lower-cased names. */
  messageFields: Record<string, string>;
  reportingMta?: string;
  recipients: DsnRecipientBlock[];
}

/** A character that ends a line for a regex `.` (a field's value cannot hold one). */
const LINE_BREAK = /[\r\u2028\u2029]/;
/** The standard per-recipient fields of RFC 3464. */
export const STANDARD_RECIPIENT_FIELDS: ReadonlySet<string> = new Set([
  "final-recipient",
  "original-recipient",
  "action",
  "status",
  "remote-mta",
  "diagnostic-code",
  "last-attempt-date",
  "will-retry-until",
]);
const RECIPIENT_FIELDS = new Set([...STANDARD_RECIPIENT_FIELDS, "x-actual-recipient", "final-log-id"]);
const MAX_LINES = 5000;

// The patterns of stripType and addressOf, made once: a regex literal in a function is a new object on each call.
const TYPED = /^\s*([A-Za-z0-9-]{2,16})\s*;([\s\S]*)$/;
const QUOTED_ADDRESS = /"[^"\\\r\n]{1,64}"@[A-Za-z0-9.-]+[A-Za-z0-9]/;
const ANGLE_ADDRESS = /<([^\s<>@]+@[^\s<>]+)>/;
const BARE_ADDRESS = /(?<![^\s"'(),;<>@])[^\s"'(),;<>@]+@[^\s"'(),:;<>]+/;
const MAILTO = /^mailto:/i;
const TRAILING_DOTS = /(?<![.\]])[.\]]+$/;
const LEADING_BRACKET = /^\[/;
/** RFC 6533 utf-8-addr-xtext's EmbeddedUnicodeChar: `\x{F6}` is U+00F6. */
const EMBEDDED_UNICODE = /\\x\{([0-9A-Fa-f]{1,6})\}/g;

/** An RFC 6533 `utf-8` address (utf-8-addr-xtext or -unitext) decoded: every `\x{HEXPOINT}` to its character. */
function decodeUtf8Addr(value: string): string {
  if (!value.includes("\\x{")) return value;
  return value.replace(EMBEDDED_UNICODE, (whole, hex: string) => {
    const cp = parseInt(hex, 16);
    return cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : whole;
  });
}

/** Strip an RFC 3464 type prefix: `rfc822; a@b` -> `a@b`, `dns; mx.example` -> `mx.example`. */
export function stripType(value: string): { type?: string; value: string } {
  const m = TYPED.exec(value);
  if (m) return { type: m[1]!.toLowerCase(), value: m[2]!.trim() };
  return { value: value.trim() };
}

/** An address out of a recipient field value: strips the type, angle brackets and junk around it. */
export function addressOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const typed = stripType(value);
  const v = typed.type === "utf-8" ? decodeUtf8Addr(typed.value) : typed.value;
  const quoted = QUOTED_ADDRESS.exec(v);
  if (quoted) return quoted[0];
  const angle = ANGLE_ADDRESS.exec(v);
  let bare = angle ? angle[1]! : BARE_ADDRESS.exec(v)?.[0];
  if (!bare) return undefined;
  // A source route (`@relay.example:user@host`) names the mailbox after the colon.
  const colon = bare.lastIndexOf(":");
  if (colon >= 0) bare = bare.slice(colon + 1);
  if (!bare.includes("@")) return undefined;
  return bare.replace(MAILTO, "").replace(TRAILING_DOTS, "").replace(LEADING_BRACKET, "");
}

/** Parse the text of a message/delivery-status (or message/global-delivery-status) part. */
export function parseDeliveryStatus(text: string): DeliveryStatus {
  const groups = readGroups(text);
  const messageFields: Record<string, string> = {};
  const recipients: DsnRecipientBlock[] = [];
  for (const g of groups) {
    const isRecipient =
      g.has("final-recipient") ||
      g.has("original-recipient") ||
      g.has("x-actual-recipient") ||
      (g.has("action") && g.has("status"));
    if (!isRecipient) {
      g.forEach((v, k) => {
        if (messageFields[k] === undefined) messageFields[k] = v;
      });
      continue;
    }
    // Per-message fields put in the same block as the first recipient (no blank line after them).
    const fields: Record<string, string> = {};
    // forEach rather than for-of: no [name, value] pair made per field
    g.forEach((v, k) => {
      if (!RECIPIENT_FIELDS.has(k) && isMessageField(k)) {
        if (messageFields[k] === undefined) messageFields[k] = v;
      } else fields[k] = v;
    });
    recipients.push(toBlock(fields));
  }
  const status: DeliveryStatus = { messageFields, recipients };
  const reporting = messageFields["reporting-mta"];
  if (reporting) status.reportingMta = stripType(reporting).value;
  return status;
}

/**
 * The field groups of the text (separated by empty lines), each field once (the first wins), names lower-cased.
 * Maps while reading: the names vary from report to report, and records built key by key are slow to look up.
 */
function readGroups(text: string): Map<string, string>[] {
  // Lines are searched for a CR, U+2028 or U+2029 only when the text has one.
  const breaks = LINE_BREAK.test(text);
  const groups: Map<string, string>[] = [];
  let cur = new Map<string, string>();
  let last: string | undefined;
  // The continuation lines of the last field, joined once when it ends: appending each to the value (and trimming
  // the whole) copied the value again per line, quadratic in a long folded Diagnostic-Code.
  let more: string[] = [];
  const flush = (): void => {
    if (last && more.length > 0) cur.set(last, `${cur.get(last)} ${more.join(" ")}`.trim());
    more = [];
  };
  const close = (): void => {
    flush();
    if (cur.size > 0) {
      groups.push(cur);
      cur = new Map();
    }
    last = undefined;
  };
  // Line by line without splitting the text: at most MAX_LINES lines, CR before LF dropped.
  for (let pos = 0, n = 0; pos <= text.length && n < MAX_LINES; n++) {
    let eol = text.indexOf("\n", pos);
    if (eol < 0) eol = text.length;
    const line = text.slice(pos, text.charCodeAt(eol - 1) === 13 && eol > pos ? eol - 1 : eol);
    pos = eol + 1;
    if (!line.trim()) {
      close();
      continue;
    }
    const first = line.charCodeAt(0);
    if (first === 32 || first === 9) {
      if (last) more.push(line.trim());
      continue;
    }
    const colon = fieldColon(line, breaks);
    if (colon < 0) {
      // An unindented continuation of a long Diagnostic-Code (seen in real reports).
      if (last === "diagnostic-code") more.push(line.trim());
      continue;
    }
    flush();
    const name = fieldName(line, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    // A new recipient starts without a blank line when a recipient field repeats.
    if (
      name === "final-recipient" &&
      (cur.has("final-recipient") || (cur.has("action") && cur.has("status")))
    )
      close();
    else if (name === "original-recipient" && cur.has("original-recipient")) close();
    if (!cur.has(name)) cur.set(name, value);
    last = name;
  }
  close();
  return groups;
}

/**
 * The colon of a field line `name: value` (a name of letters, digits and `-` that starts with a letter, blanks
 * before the colon allowed), else -1. A value holding a CR, U+2028 or U+2029 does not count (as for a regex
 * `^name[ \t]*:(.*)$`, read before this scanner replaced it); `breaks`: whether the text has one at all.
 */
function fieldColon(line: string, breaks: boolean): number {
  if (!isLetter(line.charCodeAt(0))) return -1;
  let i = 1;
  while (i < line.length && isNameChar(line.charCodeAt(i))) i++;
  while (i < line.length && isBlank(line.charCodeAt(i))) i++;
  if (line.charCodeAt(i) !== 0x3a) return -1;
  return breaks && LINE_BREAK.test(line) ? -1 : i;
}

/** The name of a field line whose colon is at `colon`. */
function fieldName(line: string, colon: number): string {
  let end = colon;
  while (isBlank(line.charCodeAt(end - 1))) end--;
  return line.slice(0, end);
}

const isLetter = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isNameChar = (c: number): boolean => isLetter(c) || (c >= 0x30 && c <= 0x39) || c === 0x2d;
const isBlank = (c: number): boolean => c === 0x20 || c === 0x09;

function isMessageField(name: string): boolean {
  return (
    name === "reporting-mta" ||
    name === "arrival-date" ||
    name === "received-from-mta" ||
    name === "original-envelope-id" ||
    name === "dsn-gateway" ||
    name === "x-postfix-queue-id" ||
    name === "x-postfix-sender" ||
    name === "x-original-message-id"
  );
}

function toBlock(f: Record<string, string>): DsnRecipientBlock {
  const b: DsnRecipientBlock = { fields: f };
  const final = addressOf(f["final-recipient"]);
  const original = addressOf(f["original-recipient"]);
  // A source-routed Final-Recipient (`@relay:user@host`) names an internal hop: the Original-Recipient is the address.
  const routed = /^(?:[A-Za-z0-9-]+\s*;)?\s*<?@[^:]+:/.test((f["final-recipient"] ?? "").trimStart());
  const recipient = (routed && original ? original : final) ?? addressOf(f["x-actual-recipient"]) ?? original;
  if (recipient) b.recipient = recipient;
  if (original) b.originalRecipient = original;
  if (f["action"]) b.action = /^[a-z]*/.exec(f["action"].toLowerCase())![0];
  const status = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(f["status"] ?? "");
  if (status) {
    b.status = `${status[1]}.${Number(status[2])}.${Number(status[3])}`;
    const comment = f["status"]!.slice(status.index + status[0].length)
      .replace(/^[\s(]+/, "")
      .replace(/(?<![\s)])[\s)]+$/, "")
      .trim();
    if (/[a-z]{3}/i.test(comment)) b.statusComment = comment;
  }
  if (f["remote-mta"]) {
    const r = stripType(f["remote-mta"]).value;
    if (r) b.remoteMta = r;
  }
  if (f["diagnostic-code"] !== undefined) {
    const d = stripType(f["diagnostic-code"]);
    if (d.type) b.diagnosticType = d.type;
    // Whitespace runs to one space; most diagnostics have none but single spaces (then nothing to replace).
    const text = (/\s\s|[^\S ]/.test(d.value) ? d.value.replace(/\s+/g, " ") : d.value).trim();
    if (text) b.diagnostic = text;
  }
  if (f["last-attempt-date"]) b.lastAttemptDate = f["last-attempt-date"];
  if (f["will-retry-until"]) b.willRetryUntil = f["will-retry-until"];
  return b;
}
