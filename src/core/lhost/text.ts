// Small text helpers shared by the lhost extractors: the bounce's own text, addresses, SMTP reply codes.
import type { MailPart, ParsedMail } from "../mail.js";
import { lastOnly } from "../memo.js";

/** The most text of a bounce the extractors look at (the error block is near the top). */
export const MAX_TEXT = 64 * 1024;

const EMAIL_CORE = String.raw`[A-Za-z0-9!#$%&'*+/=?^_\`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+`;
/**
 * Where a search for an address may start: not inside a run of local-part characters (a match found from inside
 * a run is found from its start too). Without it, a long run with no `@` was scanned again from every position.
 */
const EMAIL_START = String.raw`(?<![A-Za-z0-9!#$%&'*+/=?^_\`{|}~.-])`;
/** One e-mail address, as it appears in bounce texts (no quotes, no comments). */
export const EMAIL = new RegExp(EMAIL_START + EMAIL_CORE);
export const EMAIL_G = new RegExp(EMAIL_START + EMAIL_CORE, "g");
export const EMAIL_SRC = EMAIL_CORE;
/**
 * A letter of an internationalised domain's U-label (RFC 5890): Latin, Greek, Cyrillic, Armenian, Hebrew, Arabic
 * and the other alphabets to U+1FFF, kana, CJK ideographs and Hangul; never punctuation (U+2000-U+206F, U+3000-U+303F)
 * nor full-width forms, so a Japanese or Chinese word right after an address stays out of it.
 */
const U_LETTER = String.raw`\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02AF\u0370-\u1FFF\u3040-\u30FF\u3400-\u9FFF\uAC00-\uD7A3`;
const U_LABEL = `[A-Za-z0-9${U_LETTER}](?:[A-Za-z0-9${U_LETTER}-]*[A-Za-z0-9${U_LETTER}])?`;
const EMAIL_IDN_CORE =
  String.raw`[A-Za-z0-9!#$%&'*+/=?^_\`{|}~.-]+@(?:` +
  U_LABEL +
  String.raw`\.)+[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?`;
/**
 * One address whose domain may be written in Unicode (`olga@почта-север.example`, RFC 6531/5890), its last label
 * ASCII; read where a notice of no known layout names its recipient in its own words.
 */
export const EMAIL_IDN = new RegExp(EMAIL_START + EMAIL_IDN_CORE);
export const EMAIL_IDN_G = new RegExp(EMAIL_START + EMAIL_IDN_CORE, "g");

export function splitLines(text: string): string[] {
  // a string split is far cheaper than a regex one, and most texts are LF-only (mime.ts normalises them)
  return text.includes("\r") ? text.split(/\r\n|\r|\n/) : text.split("\n");
}

function walk(part: MailPart, out: MailPart[], depth: number): void {
  if (depth > 12 || out.length > 40) return;
  if (part.contentType === "message/rfc822" || part.contentType === "message/global") return;
  if (part.contentType === "text/rfc822-headers") return;
  if (part.parts.length === 0) out.push(part);
  for (const p of part.parts) walk(p, out, depth + 1);
}

/**
 * The bounce's human-readable text: the mail's text, plus the other text/plain leaves that are not the
 * returned original (some MTAs put the error in a second part). Bounded to MAX_TEXT. Read once per mail, however
 * many layouts look at it.
 */
export const bounceText: (mail: ParsedMail) => string = lastOnly(readBounceText);

function readBounceText(mail: ParsedMail): string {
  let text = mail.text ?? "";
  // A multipart whose parts could not be split (a boundary that does not match): its raw body is the text.
  if (!text.trim() && mail.root.parts.length === 0 && mail.root.body) text = mail.root.body;
  if (text.length < MAX_TEXT) {
    const leaves: MailPart[] = [];
    walk(mail.root, leaves, 0);
    for (const p of leaves) {
      if (!p.contentType.startsWith("text/plain") || !p.body || p.body === mail.text) continue;
      if (text.includes(p.body.slice(0, 200))) continue;
      text += "\n\n" + p.body;
      if (text.length >= MAX_TEXT) break;
    }
  }
  if (text.length > MAX_TEXT) text = text.slice(0, MAX_TEXT);
  return unquote(text);
}

/** A forwarded bounce quoted with `> `: drop the quote marks when most lines carry them. */
function unquote(text: string): string {
  // count the quoted lines without splitting the text: most texts quote none
  let quoted = text.startsWith(">") ? 1 : 0;
  for (const mark of ["\n>", "\r>"])
    for (let i = text.indexOf(mark); i >= 0; i = text.indexOf(mark, i + 2)) quoted++;
  if (quoted < 8) return text;
  const lines = splitLines(text);
  if (quoted * 3 < lines.length) return text;
  return lines.map((l) => (l.startsWith(">") ? l.replace(/^> ?/, "") : l)).join("\n");
}

/** The address in a header value like `Name <a@b>`, lower-cased; undefined when none. */
export function headerAddress(value: string | undefined): string | undefined {
  if (!value || !value.includes("@")) return undefined;
  const m = EMAIL.exec(value);
  return m ? m[0].toLowerCase() : undefined;
}

const STATUS_RE = /(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)/;
const CODE_RE = /(?<![\d.\w#-])([245][0-5]\d)(?=[ -]|$|\))/;

/** The RFC 3463 enhanced status code in a reply text, if any. */
export function findStatus(text: string): string | undefined {
  const m = STATUS_RE.exec(text);
  return m ? `${m[1]}.${Number(m[2])}.${Number(m[3])}` : undefined;
}

/** The SMTP reply code in a reply text, if any (a 3-digit code followed by a space, dash or end). */
export function findSmtpCode(text: string): number | undefined {
  const m = CODE_RE.exec(text);
  return m ? Number(m[1]) : undefined;
}

const REMOTE_RES = [
  /\bhost\s+([a-z0-9][a-z0-9.-]*\.[a-z]{2,}|\d{1,3}(?:\.\d{1,3}){3})(?:\s*\[[\d.:a-f]*\]?|\s+[\d.:a-f]+\]?)?\s+said:/i,
  /\bremote host\s+([a-z0-9][a-z0-9.-]*\.[a-z]{2,}|\d{1,3}(?:\.\d{1,3}){3})\s+said/i,
  /\bhost:?\s+([a-z0-9][a-z0-9.-]*\.[a-z]{2,})\s*\[[\d.:a-f]+\]/i,
  /\b(?:server|mx)\s+([a-z0-9][a-z0-9.-]*\.[a-z]{2,})\s*\[[\d.:a-f]+\]/i,
  /^[\t ]*([a-z0-9][a-z0-9.-]*\.[a-z]{2,})\s+\[[\d.:a-f]+\]\s+did not like/im,
];

/** The remote MTA named in a diagnostic (`host mx.example.com[192.0.2.1] said:` and kin). */
export function findRemoteMta(text: string): string | undefined {
  for (const re of REMOTE_RES) {
    const m = re.exec(text);
    if (m) return m[1]!.toLowerCase().replace(/\.$/, "");
  }
  return undefined;
}

const COMMAND_RE =
  /\b(?:after|in reply to|for|to|like our|following)\s+(?:end of\s+)?(?:the\s+)?(MAIL FROM|RCPT TO|DATA|HELO|EHLO|STARTTLS|RCPT|MAIL|CONNECT)\b/i;

/** The SMTP command the error answered, where the text says it. */
export function findCommand(text: string): string | undefined {
  // the last command of a transcript (`>>> RCPT To:<x@y>`) or a bracketed one (`[RCPT_TO]`)
  const sent = text.includes(">>>")
    ? [...text.matchAll(/>>>\s*(MAIL FROM|RCPT TO|DATA|HELO|EHLO|STARTTLS)\b/gi)].pop()
    : undefined;
  const m =
    sent ??
    /\[(RCPT_TO|MAIL_FROM|DATA)\]|\bSMTP command:?\s*(RCPT TO|MAIL FROM|DATA)\b/i.exec(text) ??
    COMMAND_RE.exec(text);
  if (!m) return undefined;
  const c = (m[1] ?? m[2]!).toUpperCase().replace("_", " ");
  if (c.startsWith("MAIL")) return "MAIL";
  if (c.startsWith("RCPT")) return "RCPT";
  return c === "EHLO" ? "HELO" : c;
}

/** Whitespace that is not already one plain space: a run of two or more, or a tab, newline, ... */
const LOOSE_SPACE = /\s{2,}|[^\S ]/g;

/** Collapse whitespace and trim. */
export function squash(s: string): string {
  // same as replacing every /\s+/ run, but a text already squashed is not copied
  return s.replace(LOOSE_SPACE, " ").trim();
}
