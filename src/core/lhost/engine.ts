// The layout engine: one general extractor driven by a per-family "layout" (where the error block starts
// and ends, how a recipient line looks, which fixed sentences of that MTA state a reason).
import type { ParsedMail } from "../mail.js";
import type { Reason } from "../report.js";
import {
  EMAIL_G,
  EMAIL_IDN,
  EMAIL_IDN_G,
  EMAIL_SRC,
  bounceText,
  findCommand,
  findRemoteMta,
  findSmtpCode,
  findStatus,
  headerAddress,
  splitLines,
  squash,
} from "./text.js";
import type { ExtractedRecipient, LhostParser } from "./types.js";
import { requiredLiterals } from "../rules/literals.js";
import { lastOnly } from "../memo.js";

/** A fixed sentence of one MTA that states the reason by itself. */
export interface FixedReason {
  id: string;
  reason: Reason;
  pattern: RegExp;
  /** Not when the diagnostic also matches this (e.g. it carries a more specific SMTP reply). */
  unless?: RegExp;
  /** `block`: tested on the whole error block (the sentence is not next to the recipient); default the diagnostic. */
  scope?: "diagnostic" | "block";
}

export interface Layout {
  /** Family id (`qmail`, `exim`, ...). */
  id: string;
  /** Cheap check (headers, subject, the first bytes of the text). */
  detect(mail: ParsedMail, head: string): boolean;
  /** The error block starts on (and includes) the first line matching one of these; absent: the whole text. */
  start?: RegExp[];
  /** When true, a text without a start line is not this layout's bounce. */
  startRequired?: boolean;
  /** The error block ends before the first line matching one of these (the returned original, a footer). */
  end?: RegExp[];
  /**
   * Recipient lines of this layout, tried before the general ones: group `addr` is the address, group
   * `rest` (optional) the diagnostic text on the same line.
   */
  recipient?: RegExp[];
  /** Whether the general recipient-line shapes are used too (default true). */
  generalLines?: boolean;
  /** A blank line ends a recipient's diagnostic (default true). */
  blankEnds?: boolean;
  /** Lines (matching) that are dropped from diagnostics (boilerplate). */
  noise?: RegExp[];
  /** Fixed sentences of this MTA that state the reason. */
  reasons?: FixedReason[];
  /** Boilerplate stripped from the start of a diagnostic (the MTA's own words before the remote reply). */
  strip?: RegExp;
  /** When the block names no recipient: take it from the returned original's To (single recipient). */
  recipientFromOriginal?: boolean;
  /** Diagnostic for every recipient when the block has one error text apart from the recipient lines. */
  sharedDiagnostic?: boolean;
  /**
   * A layout of no known MTA (the general finder): a line that announces failed recipients again (one of the
   * `start` lines) ends the recipient before it; a recipient with no words of its own takes the announcement
   * above it (`was aborted after 2 days:`); and when no recipient line is found, an address anywhere in the
   * block is one (`Não foi possível entregar a mensagem para addr porque ...`), unless its line asks to contact it.
   */
  freeText?: boolean;
  /**
   * A delay notice of this layout (`transient non-fatal errors`, `THIS IS A WARNING MESSAGE ONLY`, a `Warning:`
   * subject), tested on the subject and the block's first lines: its recipients are still retried (Action delayed).
   */
  delayNotice?: RegExp;
  /**
   * A final failure notice of this layout (Domino's `DELIVERY FAILURE:` subject, beside its `DELAY NOTIFICATION:`),
   * tested on the subject: its recipients will not be retried (Action failed).
   */
  failureNotice?: RegExp;
  /**
   * This family's own words beside the recipient decide even when its notice also carries a complete
   * delivery-status part (McAfee's `(User unknown x@y)` beside a relayed `550 <x@y>... User unknown`): Sisimai reads
   * such a family by its own module before the RFC 3464 part.
   */
  overDsn?: boolean;
}

/** The ends of error blocks every layout shares: where the returned original begins. */
export const COMMON_END: RegExp[] = [
  /^-+\s*(?:Below this line is a copy of the message|This is a copy of the message|Original message|Original message follows|The header of the original message is following|Unsent Message below|Message text follows|original message|Forwarded message)\b/i,
  /^(?:-+\s*)?(?:Original message follows|Original message headers|Message headers follow|The original message headers are|Headers of the original message|Original Message Header|Your message reads \(in part\)|The original message was|The text you sent follows)[\s.:-]*$/i,
  /^[^\S\n\r\u2028\u2029]*-+\s*(?:Original|Returned|Undelivered) (?:message|mail|Message)\b.*-[^\S\n\r\u2028\u2029]*$/,
  // the original's headers announced in other languages (`------ Cabeçalhos da mensagem original ------`)
  /^[\s*=-]*(?:cabe[çc]alhos? da mensagem original|en-t[êe]tes? du message (?:d'origine|original)|encabezados? del mensaje original|intestazioni del messaggio originale|kopfzeilen der (?:urspr[üu]nglichen )?nachricht)/i,
  /^Content-Type: (?:message\/rfc822|text\/rfc822-headers)/i,
  // an inline original's first header
  /^(?:Return-Path:\s*<[^>]*>|Received: from \S[^\n\r\u2028\u2029(]*\(|Received: from \S+ by \S+|DKIM-Signature: v=1;)/i,
  // old MTAs' banners before the returned mail: `---- START OF RETURNED MESSAGE ----`, `Here is your returned mail:`,
  // `--------RETURNED MAIL FOLLOWS--------`, `Old message:`, `-- The header and top 20 lines of the message follows --`,
  // and a notice's closing sentence on its enclosure: `The original message is attached.`
  /^[\s*=-]*(?:start of returned message|returned mail follows|here is your returned mail|old message:|original message attached|(?:the|your) original (?:message|mail|e-?mail) (?:is|has been|was) (?:attached|enclosed|included)|possibly truncated original message|a copy of the original message|copy of (?:the|your) (?:original )?message (?:below|follows)|the header and top \d+ lines|end of message\b)/i,
  // the same in other languages: a copy of the message, the original message follows
  /^[\s*=-]*(?:(?:unten folgt|es folgt|dies ist) eine kopie|kopie der (?:urspr[üu]nglichen )?nachricht|urspr[üu]ngliche nachricht|message d'origine|message original|copie du message|mensaje original|copia del mensaje|messaggio originale|copia del messaggio|mensagem original|c[óo]pia da mensagem|oorspronkelijk bericht|kopie van (?:het|uw) bericht|исходное сообщение|оригинальное сообщение|копия (?:вашего |исходного )?(?:письма|сообщения)|元のメッセージ|原文|原始邮件|原始郵件|原邮件|原郵件)/i,
];

export const GENERAL_LINES: RegExp[] = [
  // `<addr>:` / `addr:` / `"addr":` / `<addr>` alone (qmail, exim, gmail, yahoo, gmx)
  new RegExp(String.raw`^\s*(?:RCPT To:\s*)?["<]?(?<addr>${EMAIL_SRC})[">]?\s*(?::\s*)?$`, "i"),
  // `<addr>... User unknown`, `<addr>: host said`, `addr: text`, `addr [text]`, `addr (text)`
  new RegExp(String.raw`^\s*<(?<addr>${EMAIL_SRC})>\s*(?:(?:\.\.\.|:|,|-)\s*)?(?<rest>.*)`, "i"),
  new RegExp(
    String.raw`^\s*"?(?<addr>${EMAIL_SRC})"?(?:[ ]*(?:\.\.\.|:|\t)|[ ]*\s-\s|[ ]*(?=[[(]))\s*(?<rest>.*)`,
    "i",
  ),
  // `Delivery failed: addr`, `undeliverable to addr`, `Unknown recipient: addr`, `RCPT TO: addr`
  new RegExp(
    String.raw`^\s*(?<rest>(?:delivery (?:to \S+ )?failed|failed recipient|recipient|addressed to|undeliverable to|could not deliver to|unable to deliver to|rejected recipient|unknown recipient|invalid recipient|recipient address|failed address|final-recipient|RCPT TO)s?)\s*(?::\s*)?<?(?<addr>${EMAIL_SRC})>?\.?\s*$`,
    "i",
  ),
  // `User's mailbox is full: <addr>`, `Unknown user: addr` (a phrase of two words or more, then the address)
  new RegExp(
    String.raw`^\s*(?<rest>(?=[^:]*\b(?:unknown|full|invalid|not|no such|fail|failed|reject|rejected|disabled|exceed|exceeds|error|undeliverable|unavailable|denied|quota|inactive|suspended|expired|refused|blocked)\b)[A-Za-z][A-Za-z'.,]*(?: [A-Za-z'.,()]+){1,8}):\s*<?(?<addr>${EMAIL_SRC})>?\.?\s*$`,
    "i",
  ),
  // sentences naming the recipient: `Your message to x@y couldn't be delivered.`, `x@y wasn't found at example.com.`
  new RegExp(
    String.raw`(?:^|\s)(?:your )?message to <?(?<addr>${EMAIL_SRC})>? (?:couldn't|could not|cannot|can't) be delivered(?<rest>.*)`,
    "i",
  ),
  new RegExp(String.raw`^\s*<?(?<addr>${EMAIL_SRC})>? (?<rest>wasn't found at .*)`, "i"),
  new RegExp(
    String.raw`^(?<rest>.*(?:could not|couldn't|cannot|can't|unable to) (?:be )?deliver(?:ed)? (?:your |the )?(?:message |mail |e-?mail )?to:?) <?(?<addr>${EMAIL_SRC})>?[.:]?\s*$`,
    "i",
  ),
  // a label in another language, then the address: `宛先: addr`, `收件人：addr`, `Empfänger: addr`, `Получатель: addr`
  new RegExp(
    String.raw`^\s*(?<rest>宛先|あて先|送信先|受信者|收件人|收件者|收信人|收件地址|Empf[äa]e?nger(?:adresse)?|Destinataire|Destinatari[oa]?|Destinat[áa]rio|Ontvanger|Получатель|Адресат)\s*[:：]\s*<?(?<addr>${EMAIL_SRC})>?\s*(?:[.。]\s*)?$`,
    "i",
  ),
  // `... could not be delivered to addr because ...`: the address inside a sentence, the rest of it the reason
  new RegExp(
    String.raw`(?:could not|couldn't|cannot|can't|unable to|was not|wasn't) (?:be )?deliver(?:ed)? (?:your |the |this )?(?:message |mail |e-?mail )?to:? <?(?<addr>${EMAIL_SRC})>?(?<rest>[\s,.;:(].*)?$`,
    "i",
  ),
  // sendmail transcript: `554 <addr>... 550 Host unknown`, `<<< 550 5.1.1 <addr>... User unknown`
  new RegExp(
    String.raw`^\s*(?:<<<\s*)?(?<rest>[245]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3}\s+)?<(?<addr>${EMAIL_SRC})>\.\.\..*)`,
    "i",
  ),
  // a list item: `* addr`, `> addr`, `+ addr`, `• addr` (old gateways, MDaemon's "did NOT receive a copy")
  new RegExp(String.raw`^\s*[*>+\u2022]\s*<?(?<addr>${EMAIL_SRC})>?[.,;:]?(?:\s+(?<rest>\S.*))?$`, "i"),
  // Exchange 5.5 to 2003: `addr on Thu, 3 Dec 2026 11:11:09 -0500`, `'addr' on 12/3/2026 10:10 AM`, and in its
  // languages `'addr' am 03.12.2026`, `'addr' le 03/12/2026`, `'addr' el ...` (the reason on the lines below)
  new RegExp(
    String.raw`^\s*['"<]?(?<addr>${EMAIL_SRC})['">]? (?:on|am|le|el|il|em|op|в) (?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? |\d{1,4}[ ./-])`,
    "i",
  ),
  // labels of old MTAs: `Intended recipient: addr`, `Error-for: addr`, `Undeliverable Address: addr`
  new RegExp(
    String.raw`^\s*(?:intended recipient|error-for|undeliverable (?:address|recipient)|bad address|invalid address|original recipient|failed to|address)\s*:\s*<?(?<addr>${EMAIL_SRC})>?\s*(?<rest>.*)`,
    "i",
  ),
  // a list server's or gateway's label with a display name: `Subscriber: Ann Lee <addr>`, `Recipient: "Lee, Ann" <addr>`
  new RegExp(
    String.raw`^\s*(?:subscriber|member|recipient|addressee|receiver|to)\s*:[ \t]*(?:"[^"\n]{0,80}"[ \t]*|[^\s<>:@"][^<>:@"\n\r\t]{0,80})?<(?<addr>${EMAIL_SRC})>\s*(?<rest>.*)`,
    "i",
  ),
  // an address with its type, as Exchange and MailEnable write it: `Recipient: [SMTP:addr]`, `[SMTP:addr]`
  new RegExp(
    String.raw`^\s*(?:(?:failed )?recipient\s*:\s*)?\[SMTP:(?<addr>${EMAIL_SRC})\]\s*(?<rest>.*)`,
    "i",
  ),
  // a session log's envelope recipient after its time stamp (MDaemon: `Tue 2026-12-15 10:31:13.002: *  To: addr`):
  // the log's lines below it, to the next one, are that delivery attempt's
  new RegExp(
    String.raw`(?:^|\s)\d{1,2}:\d\d:\d\d(?:\.\d{1,6})?:\s+\*\s+To:\s*<?(?<addr>${EMAIL_SRC})>?\s*$`,
    "i",
  ),
  // a display name, then the address in parentheses, alone on its line (`Ana Costa (ana@x)`; the reason below)
  new RegExp(String.raw`^\s*(?:[A-Z][\w'.-]{0,30} ){0,3}[A-Z][\w'.-]{0,30} \((?<addr>${EMAIL_SRC})\)\s*$`),
  // a name, the address and the reason between commas: `Trotts, addr, recipient unknown`
  new RegExp(String.raw`^\s*[A-Za-z][\w.' -]{0,60},\s*<?(?<addr>${EMAIL_SRC})>?,\s*(?<rest>\S.*)$`, "i"),
  // the address in quotes inside a sentence: `addressed to 'addr'`, `Delivery of your message to "addr" has been postponed`
  new RegExp(
    String.raw`(?:addressed to|delivery (?:of (?:your|the) message )?to|message to|delivered to|deliver (?:your |the )?(?:message )?to)\s+["'\u2018\u201c]<?(?<addr>${EMAIL_SRC})>?["'\u2019\u201d](?<rest>.*)`,
    "i",
  ),
  // a quoted SMTP dialogue's RCPT TO, after any marker or time stamp: `>>> RCPT TO:<addr>`, `--> RCPT To:<addr>`,
  // `Sent <<< RCPT TO:<addr>`, `hMailServer sent: RCPT TO:<addr>`, `> RCPT TO:<addr>` (the reply follows)
  new RegExp(String.raw`(?:^|[\s>:-])(?<rest>RCPT TO:\s*<?(?<addr>${EMAIL_SRC})>?.*)`, "i"),
];

const GENERAL_DELIVER: boolean[] = GENERAL_LINES.map((re) => re.source.includes("deliver"));

/** The most of one line the per-line patterns look at (an error block's lines are short; a diagnostic is cut at 2,000). */
const MAX_LINE = 1000;

const HEADERISH =
  /^\s*(?:Subject|Date|From|To|CC|Sent|Sent date|Size \(in bytes\)|Number of lines|MAIL FROM|Message-ID):/i;

/** A character of a MIME boundary line (`--` then six or more of these). */
const BOUNDARY_CHAR = /^[\w'()+,./:=?-]+$/;
const PART_HEADERS = [
  "content-type:",
  "content-transfer-encoding:",
  "content-description:",
  "content-disposition:",
];

/**
 * A separator line: `--- text ---`, `===...`, `***...`, a MIME boundary (`--` and six or more boundary
 * characters), or a part header that leaked into the text. String scans on the trimmed line: the pattern this
 * was (`-{3,}.*-{3,}` on every line) backtracked cubically on a long line of dashes.
 */
function isSeparator(line: string): boolean {
  const t = line.trim();
  if (t.length < 3) return false;
  const c = t.charCodeAt(0);
  if (c === 0x2d /* - */) {
    if (t.startsWith("---") && t.length >= 6 && t.endsWith("---")) return true;
    return t.length >= 8 && t[1] === "-" && BOUNDARY_CHAR.test(t.slice(2));
  }
  if (c === 0x3d /* = */) return t.startsWith("===");
  if (c === 0x2a /* * */) return t.startsWith("***");
  if (c !== 0x63 && c !== 0x43 /* c, C */) return false;
  const head = t.slice(0, 27).toLowerCase();
  return PART_HEADERS.some((h) => head.startsWith(h));
}
const REPLY_ANCHOR = /^\s*(?:<<<\s*)?[245]\d\d[ -]/;
const CLIENT_COMMAND = /^\s*>>>\s*\S/;
const SERVER_REPLY = /^\s*<<<\s*[245]\d\d[ -]/;

const FINAL_RECIPIENT = new RegExp(
  String.raw`^\s*Final-Recipient:\s*(?:rfc822;)?\s*<?(?<addr>${EMAIL_SRC})>?`,
  "i",
);

interface Draft {
  rcpt: string;
  /** Named only by the X-Failed-Recipients header: the block's text is its diagnostic. */
  fromHeader?: boolean;
  /** Found on a transcript reply line (`554 <x@y>... text`): the next reply line is not its. */
  fromReply?: boolean;
  /** The address is the bounce's own (its sender or the returned original's sender). */
  own?: boolean;
  /** Found on a quoted dialogue's RCPT TO line: the replies below are its (success replies are dropped). */
  dialogue?: boolean;
  /** Found on a session log's envelope line (`10:31:13.002: *  To: addr`): its RCPT TO, if any, follows. */
  sessionLog?: boolean;
  /** Found on a bare `RCPT TO:` line: a dialogue's when replies follow it. */
  rcptLine?: boolean;
  /** Named after a forwarder's `Forwarding for`: the address the sender mailed, whose forward target failed. */
  forwardedFor?: boolean;
  /** The line above the recipient that announced it (`Delivery to the following recipients was aborted after 2 days:`). */
  heading?: string;
  indent: number;
  lines: string[];
  rest: string;
}

/** The draft's diagnostic so far ends with `reason:`: its next paragraph is the reason it announces. */
function announces(d: Draft): boolean {
  const last = d.lines.length > 0 ? d.lines[d.lines.length - 1]! : d.rest;
  const end = last.trimEnd().toLowerCase();
  return end.endsWith("reason:") || end.endsWith("because:");
}

function indentOf(line: string): number {
  const m = /^[ \t]*/.exec(line);
  return m ? m[0].replace(/\t/g, "        ").length : 0;
}

/** The addresses that are the bounce's own (its sender and the address it is sent to): never a failed recipient. */
const ownAddresses = lastOnly((mail: ParsedMail): Set<string> => {
  const own = new Set<string>();
  for (const h of ["from", "to", "return-path", "sender", "reply-to"]) {
    const a = headerAddress(mail.headers.get(h));
    if (a) own.add(a);
  }
  const oh = mail.originalHeaders;
  if (oh) {
    for (const h of ["from", "return-path", "sender"]) {
      const a = headerAddress(oh.get(h));
      if (a) own.add(a);
    }
  }
  return own;
});

function matchRecipient(raw: string, layout: Layout): { addr: string; rest: string } | undefined {
  // `x@y<mailto:x@y>` (Exchange, Office 365): the mailto link is a copy
  if (!raw.includes("@")) return undefined;
  if (ID_HEADER.test(raw)) return undefined;
  const line = raw.includes("<mailto:") ? raw.replace(/<mailto:[^>]*>/gi, "") : raw;
  for (const re of layout.recipient ?? []) {
    const m = re.exec(line);
    if (m?.groups?.addr) return { addr: m.groups.addr, rest: m.groups.rest ?? "" };
  }
  if (layout.generalLines === false) return undefined;
  if (line.length > 400) return undefined;
  const f = FINAL_RECIPIENT.exec(line);
  if (f?.groups?.addr) return { addr: f.groups.addr, rest: "" };
  const lower = line.length > 120 ? line.toLowerCase() : "";
  for (let i = 0; i < GENERAL_LINES.length; i++) {
    const re = GENERAL_LINES[i]!;
    // the sentence shapes are costly on long lines: only where their words are
    if (lower && GENERAL_DELIVER[i] && !lower.includes("deliver")) continue;
    const m = re.exec(line);
    if (m?.groups?.addr) {
      // a quoted dialogue's `RCPT TO:<addr>`: the reply on the next lines answers RCPT TO
      const rest = m.groups.rest ?? (RCPT_LINE.test(line) ? "RCPT TO" : "");
      return { addr: m.groups.addr, rest };
    }
  }
  return undefined;
}

const RCPT_LINE = /^\s*RCPT TO:/i;
/** A session log's envelope recipient line, after its time stamp (MDaemon's `10:31:13.002: *  To:`). */
const SESSION_LOG_TO = /\d{1,2}:\d\d:\d\d(?:\.\d{1,6})?:\s+\*\s+To:/i;

/** A line that starts with a remote's reply code (`  550 5.7.1 Service unavailable; ...`). */
const REPLY_START = /^\s*[245]\d\d[ -]/;

/** An id's label just before an address (`*  Message-ID: <`): the address is an id, never a recipient. */
const ID_LABEL = /(?:message-id|in-reply-to|references|content-id)\s*:\s*<?$/i;

/**
 * A line of a quoted dialogue that sends RCPT TO after a transcript's marker (`>>> RCPT TO:`, `--> RCPT To:`,
 * `Sent <<< RCPT TO:`, `hMailServer sent: RCPT TO:`, `> RCPT TO:`): the replies below it answer that recipient. A bare
 * `RCPT TO: x@y` is one too when replies follow it, not in a list of the message's details.
 */
const DIALOGUE_RCPT = /(?:>|<<<|\bsent:?)\s*RCPT TO:/i;
/** A client command of a quoted dialogue other than RCPT TO: `> DATA`, `>>> DATA`, `--> DATA`, `Sent: DATA`. */
const DIALOGUE_DATA = /^\s*(?:[^\s<>]+\s+)?(?:>{1,3}|-->|sent:?)\s*(?:DATA|BDAT)\b/i;
/** A reply of a quoted dialogue that is no failure (`< 250 2.1.5 OK`, `<<< 354 Start mail input`). */
const DIALOGUE_OK = /^\s*(?:[^\s<>]+\s+)?(?:(?:<{1,3}|<--|received:?|replied:?)\s*)?[23]\d\d(?:[ -]|$)/i;

/** Header lines of a quoted original whose addresses are ids, never recipients (`Message-ID: <id@host>`). */
const ID_HEADER =
  /^\s*(?:message-id|resent-message-id|in-reply-to|references|content-id|x-ms-exchange-[\w-]*id)\s*:/i;

/** A line that asks to contact an address (`Please reply to <postmaster@...>`): that address is no recipient. */
const CONTACT_LINE =
  /\b(?:contact|reply to|write to|questions?|help ?desk|support|send (?:an? )?(?:e-?mail|message) to|kontakt|contactez|contacte|contatti|neem contact)\b|свяжитесь|お問い合わせ|联系|聯絡/i;

/**
 * Words just before an address that give it as the recipient's new one (`User has moved; please try <new@x>`,
 * `nieuw adres:`, `neue Adresse:`): that address is no failed recipient, in any language.
 */
const NEW_ADDRESS_BEFORE =
  /(?:moved to|has moved|please try|try instead|new (?:e-?mail )?address(?: is)?|forward(?:ed)? to|now (?:at|reachable at|uses)|nieuwe? (?:e-?mail)?adres|verhuisd naar|neue (?:e-?mail-?)?adresse|umgezogen|nouvelle adresse|d[ée]m[ée]nag[ée]|nueva direcci[óo]n|se ha trasladado|nuovo indirizzo|trasferit[oa]|novo endere[çc]o|mudou-se|nowy adres|новый адрес|переехал|新しいアドレス|新しいメールアドレス|新地址|新郵件地址|새 주소)\W{0,30}$/i;

/** Whether the address at `at` of `line` follows words that give it as a new address (see NEW_ADDRESS_BEFORE). */
function isNewAddress(line: string, at: number): boolean {
  return at > 0 && NEW_ADDRESS_BEFORE.test(line.slice(Math.max(0, at - 80), at));
}

/**
 * The address a failed one was made from, on the recipient's line or the line below it: Exim's
 * `(generated from x@y)`, Postfix's `(expanded from <x@y>)`; the address the sender mailed.
 */
const ALIAS_OF = new RegExp(String.raw`\((?:generated|expanded) from <?(${EMAIL_SRC})>?\)`, "i");
/** A notice's words for a recipient it does not name (`the recipient's mailbox is full`). */
const UNNAMED_RECIPIENT = /\b(?:the|your) (?:recipient|addressee)(?:'s)?\b/i;
/** A notice's announcement of a list of recipients below (`to the following:`). */
const LISTS_FOLLOWING = /\bthe following\b/i;
/** Words just before the address a forwarder forwards for (`Forwarding for x@y`, `forwarded for <x@y>`). */
const FORWARD_OWNER_BEFORE = /\bforward(?:ing|ed) for\W{0,3}$/i;
/** What follows an address that is a quoted display name: its closing quote, then the bracketed address. */
const DISPLAY_NAME_END = /^"\s*</;

/** The free-text finder's own patterns on untrusted lines (checked for linearity beside the tables). */
export const FREE_TEXT_PATTERNS: readonly RegExp[] = [
  NEW_ADDRESS_BEFORE,
  DIALOGUE_RCPT,
  DIALOGUE_DATA,
  DIALOGUE_OK,
  ID_HEADER,
  CONTACT_LINE,
  ALIAS_OF,
  DISPLAY_NAME_END,
  EMAIL_IDN,
  FORWARD_OWNER_BEFORE,
  UNNAMED_RECIPIENT,
  LISTS_FOLLOWING,
];

let lastText = "";
let lastLines: string[] = [];

/** The text's lines; the last text's are kept (layouts tried one after another read the same text). */
function linesOf(text: string): string[] {
  if (text !== lastText) {
    lastText = text;
    lastLines = splitLines(text);
  }
  return lastLines;
}

const endsCache = new WeakMap<Layout, RegExp[]>();

/**
 * The layout's block ends and the common ones, as alternations (built once per layout): the layout's own, then the
 * common ones' alternation, which every layout shares. One alternation of both per layout compiled the common
 * ends' (some 1.5 ms of V8's regex compiler) again for each layout, in every fresh thread.
 */
function endsOf(layout: Layout): RegExp[] {
  if (!layout.end) return anyOf(COMMON_END).line;
  let ends = endsCache.get(layout);
  if (!ends) {
    ends = [...anyOf(layout.end).line, ...anyOf(COMMON_END).line];
    endsCache.set(layout, ends);
  }
  return ends;
}

interface AnyOf {
  /** One alternation per flag set: a line matches one of the list iff it matches one of these. */
  line: RegExp[];
  /** The same, multi-line: where none matches a whole text, no line of it matches (a cheap first look). */
  text: RegExp[];
}

const anyOfCache = new WeakMap<readonly RegExp[], AnyOf>();

/**
 * A list of line patterns as one regex per flag set (built once per list): a line is tested once, not once per
 * pattern. The patterns have no back-references or named groups, so their alternation means "any of them".
 */
function anyOf(res: readonly RegExp[]): AnyOf {
  let hit = anyOfCache.get(res);
  if (!hit) {
    const byFlags = new Map<string, string[]>();
    for (const re of res) byFlags.set(re.flags, [...(byFlags.get(re.flags) ?? []), `(?:${re.source})`]);
    const line: RegExp[] = [];
    const text: RegExp[] = [];
    for (const [flags, sources] of byFlags) {
      line.push(new RegExp(sources.join("|"), flags));
      text.push(new RegExp(sources.join("|"), flags.includes("m") ? flags : `${flags}m`));
    }
    hit = { line, text };
    anyOfCache.set(res, hit);
  }
  return hit;
}

/** The list of no patterns, one object: anyOf() caches by list, and a fresh `[]` a call was a miss every time. */
const NO_PATTERNS: readonly RegExp[] = [];

const testsLine = (res: RegExp[], line: string): boolean => {
  for (const re of res) if (re.test(line)) return true;
  return false;
};

/**
 * The first line matching one of `res`, or -1. On an LF-only text, the whole text is searched first (one
 * multi-line pass): no line can match before the line where that first match starts, and none at all when
 * nothing matches.
 */
/**
 * A quoted message's subject line (`Subject: Sorry, your message could not be delivered` under a forwarded
 * message's `From:` and `Date:`): the title of a mail, not a notice's announcement of the recipients below it.
 */
const QUOTED_SUBJECT = /^[\s>]*(?:Subject|Thread-Topic|Betreff|Objet|Asunto|Oggetto|Assunto|Onderwerp)\s*:/i;

function firstLine(lines: string[], text: string, res: readonly RegExp[], skipSubjects = false): number {
  const any = anyOf(res);
  let from = 0;
  if (!text.includes("\r")) {
    let at = text.length;
    for (const re of any.text) {
      const m = re.exec(text);
      if (m && m.index < at) at = m.index;
    }
    if (at === text.length) return -1;
    for (let i = text.indexOf("\n"); i >= 0 && i < at; i = text.indexOf("\n", i + 1)) from++;
  }
  for (let i = from; i < lines.length; i++) {
    const l = lines[i]!;
    if (testsLine(any.line, l) && !(skipSubjects && QUOTED_SUBJECT.test(l))) return i;
  }
  return -1;
}

/** The error block's lines: from the start marker to the first end marker. */
export function blockLines(text: string, layout: Layout): string[] | null {
  const lines = linesOf(text);
  let from = 0;
  if (layout.start) {
    // a free-text layout's announcement is a sentence of the notice, never a quoted message's subject line
    const i = firstLine(lines, text, layout.start, layout.freeText === true);
    if (i < 0) {
      if (layout.startRequired) return null;
    } else from = i;
  }
  const ends = endsOf(layout);
  let to = lines.length;
  const last = Math.min(lines.length, from + 400);
  for (let i = from + 1; i < last; i++) {
    const l = lines[i]!;
    if (l.length > 0 && testsLine(ends, l)) {
      to = i;
      break;
    }
  }
  return lines.slice(from, Math.min(to, from + 400));
}

/** Fill status, code, remote MTA, command and a fixed reason from a diagnostic text. */
export function finish(rcpt: string, diag: string, layout: Layout, block = ""): ExtractedRecipient {
  const full = squash(diag).slice(0, 2000);
  const d = layout.strip ? full.replace(layout.strip, "") : full;
  const r: ExtractedRecipient = { recipient: rcpt };
  if (d) r.diagnostic = d;
  const status = findStatus(d);
  if (status) r.status = status;
  const code = findSmtpCode(d);
  if (code) r.smtpCode = code;
  const remote = findRemoteMta(diag);
  if (remote) r.remoteMta = remote;
  const command = findCommand(full);
  if (command) r.command = command;
  for (const fr of layout.reasons ?? []) {
    const where = fr.scope === "block" ? block : d;
    if (fr.pattern.test(where) && !(fr.unless && fr.unless.test(d))) {
      r.reason = fr.reason;
      r.rule = `${layout.id}.${fr.id}`;
      break;
    }
  }
  return r;
}

/** Sendmail's `... while talking to host:` (made once: a regex literal in the loop was a new object a line). */
const WHILE_TALKING = /^\s*(?:\.\.\.\s*)?while talking to\b/i;

/** Run one layout over a mail: the failed recipients, or null when the layout does not fit. */
export function extractWith(layout: Layout, mail: ParsedMail): ExtractedRecipient[] | null {
  const text = bounceText(mail);
  const lines = blockLines(text, layout);
  if (!lines) return null;
  const own = ownAddresses(mail);
  const noise = anyOf(layout.noise ?? NO_PATTERNS).line;
  const blankEnds = layout.blankEnds !== false;
  let drafts: Draft[] = [];
  const loose: string[] = [];
  let cur: Draft | undefined;
  let closed = false;
  /** A blank line since the current recipient began. */
  let blankSince = false;
  let pending: string[] = [];
  /** The loose lines that continue a remote reply (`550 5.7.1 ... de su` / `servidor figura en una lista negra`). */
  const replyTail = new Set<number>();
  /** A loose line that starts with a reply code has been seen, and no blank line since. */
  let inReply = false;
  const starts = layout.freeText && layout.start ? anyOf(layout.start).line : undefined;
  for (const whole of lines) {
    // every pattern below runs on one line: none sees more than MAX_LINE characters of it
    const line = whole.length > MAX_LINE ? whole.slice(0, MAX_LINE) : whole;
    if (!line.trim()) {
      inReply = false;
      blankSince = true;
      // a blank line ends the diagnostic, unless its last line announces the reason below (`For the following reason:`)
      if (cur && blankEnds && (cur.lines.length > 0 || cur.rest) && !announces(cur)) closed = true;
      continue;
    }
    if (WHILE_TALKING.test(line)) {
      pending = [];
      closed = true;
    }
    // a line of two or more addresses and nothing else (`a@x, b@x`): each is a recipient, the words below theirs
    const listed = line.includes("@") ? addressList(line) : undefined;
    if (listed) {
      const shared: string[] = [];
      const heading = layout.freeText ? pending.filter((l) => !isSeparator(l)).pop() : undefined;
      for (const addr of listed) {
        if (drafts.some((d) => d.rcpt === addr)) continue;
        cur = { rcpt: addr, indent: indentOf(line), lines: shared, rest: "", own: own.has(addr) };
        if (heading) cur.heading = squash(heading);
        drafts.push(cur);
      }
      pending = [];
      closed = false;
      blankSince = false;
      continue;
    }
    const found = matchRecipient(line, layout);
    // an address the line gives as the recipient's new one (`please try <new@x>`) is no recipient
    const hit = found && !isNewAddress(line, line.indexOf(found.addr)) ? found : undefined;
    const hitAddr = hit?.addr.toLowerCase().replace(/\.$/, "");
    // a reply naming the sender (`<<< 501 <sender>... no access`) is evidence, not a recipient
    if (hit && hitAddr && !(own.has(hitAddr) && REPLY_ANCHOR.test(line))) {
      const addr = hitAddr;
      const ind = indentOf(line);
      const continuation = cur && !closed && ind > cur.indent && (cur.lines.length > 0 || cur.rest !== "");
      if (!continuation) {
        const seen = drafts.find((d) => d.rcpt === addr);
        const sent = pending.filter((l) => CLIENT_COMMAND.test(l)).slice(-1);
        const before = REPLY_ANCHOR.test(line)
          ? [...sent, ...pending.filter((l) => SERVER_REPLY.test(l))]
          : [];
        if (seen) {
          cur = seen;
          // a session log's connection set-up between the recipient's envelope line and its RCPT TO is no reply
          if (DIALOGUE_RCPT.test(line) && seen.sessionLog && !seen.dialogue) seen.lines = [];
          if (DIALOGUE_RCPT.test(line)) seen.dialogue = true;
          if (hit.rest && !seen.rest.includes(hit.rest))
            seen.rest = squash(`${seen.rest} ${before.join(" ")} ${hit.rest}`);
        } else {
          // recipient lines one after another with no words of their own (`<a@x>` `<b@x>`, then `Reason: ...`):
          // the words below the last are the whole group's
          const group =
            cur && !closed && cur.lines.length === 0 && !cur.rest && !hit.rest && pending.length === 0;
          cur = {
            rcpt: addr,
            indent: ind,
            lines: group ? cur!.lines : [],
            rest: squash(`${before.join(" ")} ${hit.rest}`),
            own: own.has(addr),
            fromReply: REPLY_ANCHOR.test(line),
          };
          if (DIALOGUE_RCPT.test(line)) cur.dialogue = true;
          else if (RCPT_LINE.test(line)) cur.rcptLine = true;
          else if (SESSION_LOG_TO.test(line)) cur.sessionLog = true;
          if (layout.freeText) {
            const heading = pending.filter((l) => !isSeparator(l)).pop();
            if (heading) cur.heading = squash(heading);
          }
          drafts.push(cur);
        }
        pending = [];
        closed = false;
        blankSince = false;
        continue;
      }
    }
    if (testsLine(noise, line)) continue;
    // a new announcement of failed recipients, in a paragraph of its own, ends the recipient above it
    if (starts && cur && (blankSince || cur.lines.length > 0 || cur.rest) && testsLine(starts, line))
      closed = true;
    if (pending.length < 20) pending.push(line);
    if (isSeparator(line)) continue;
    if (cur?.fromReply && (REPLY_ANCHOR.test(line) || CLIENT_COMMAND.test(line))) closed = true;
    if (cur && !closed && cur.lines.length < 25 && !HEADERISH.test(line)) cur.lines.push(line);
    else if (loose.length < 40) {
      if (REPLY_START.test(line)) inReply = true;
      else if (inReply) replyTail.add(loose.length);
      loose.push(line);
    }
  }
  // The bounce's own addresses are failed recipients only when nothing else is (a sender bouncing to itself).
  if (drafts.some((d) => !d.own)) drafts = drafts.filter((d) => !d.own);
  if (drafts.length === 0) {
    for (const v of mail.headers.getAll("x-failed-recipients")) {
      for (const a of v.match(EMAIL_G) ?? []) {
        const addr = a.toLowerCase();
        if (!drafts.some((d) => d.rcpt === addr))
          drafts.push({ rcpt: addr, indent: 0, lines: [], rest: "", fromHeader: true });
      }
    }
  }
  if (drafts.length === 0 && layout.freeText && !isReply(mail)) drafts = localPartsIn(lines);
  if (drafts.length === 0 && layout.freeText && !isReply(mail)) drafts = addressesIn(lines, own);
  if (drafts.length === 0 && layout.freeText && !isReply(mail) && !originalIsBounce(mail)) {
    const named = originalToNamed(mail, lines, own) ?? soleOriginalTo(mail, own, lines);
    if (named) drafts.push(named);
  }
  if (drafts.length === 0 && layout.recipientFromOriginal && !originalIsBounce(mail)) {
    const to = headerAddress(mail.originalHeaders?.get("to")) ?? inlineOriginalTo(text, lines.length);
    if (to && !own.has(to)) drafts.push({ rcpt: to, indent: 0, lines: [], rest: "" });
  }
  if (drafts.length === 0) return null;
  const blockText = layout.reasons?.some((r) => r.scope === "block") ? lines.join(" ").slice(0, 8000) : "";
  const content = loose.filter((l) => !HEADERISH.test(l) && !isSeparator(l));
  // the lines with a code, and the lines that continue a reply wrapped below its code
  const coded = loose
    .filter(
      (l, i) =>
        !HEADERISH.test(l) &&
        !isSeparator(l) &&
        (replyTail.has(i) || /\b[245]\d\d\b|\b[245]\.\d{1,3}\.\d{1,3}\b/.test(l)),
    )
    .slice(0, 12)
    .join(" ");
  const prose = content.slice(0, 12).join(" ");
  // The words around a recipient: its announcement, and the notice's other lines when it is the only recipient
  // (with several, those lines may speak of another one).
  const single = drafts.length === 1;
  const withContext = (d: Draft, r: ExtractedRecipient): ExtractedRecipient => {
    const around = squash([d.heading ?? "", single ? prose : ""].join(" ")).slice(0, 2000);
    if (around && around !== r.diagnostic) r.context = around;
    return r;
  };
  const delayed =
    layout.delayNotice !== undefined &&
    layout.delayNotice.test(`${subjectOf(mail)}\n${lines.slice(0, 12).join("\n").slice(0, 2000)}`);
  const failed = layout.failureNotice !== undefined && layout.failureNotice.test(subjectOf(mail));
  // A quoted dialogue's recipient whose RCPT TO was accepted (`<<< 250 2.1.5 Recipient OK`) was delivered with the
  // message, unless the dialogue's DATA was refused (a refusal after DATA is every accepted recipient's).
  const afterData = drafts.find((d) => d.dialogue && refusedAfterData(d.lines))?.lines;
  if (afterData) {
    // the refusal of the message is each accepted recipient's reply, whoever's lines it was read under
    const from = afterData.findIndex((l) => DIALOGUE_DATA.test(l));
    for (const d of drafts)
      if (d.dialogue && d.lines !== afterData && acceptedAtRcpt(d.lines))
        d.lines = [...d.lines, ...afterData.slice(from)];
  } else {
    const refused = drafts.filter((d) => !(d.dialogue && acceptedAtRcpt(d.lines)));
    if (refused.length > 0) drafts = refused;
  }
  drafts = mergeRewritten(drafts);
  // the address a forwarder forwards for is the one the sender mailed: the failed forward target's original
  let forwardOwner: string | undefined;
  if (drafts.some((d) => d.forwardedFor) && drafts.some((d) => !d.forwardedFor)) {
    forwardOwner = drafts.find((d) => d.forwardedFor)!.rcpt;
    drafts = drafts.filter((d) => !d.forwardedFor);
    if (drafts.length > 1) forwardOwner = undefined;
  }
  return drafts
    .filter((d) => EMAIL_IDN.test(d.rcpt))
    .map((d) => {
      const r = withContext(d, draftRecipient(d));
      const alias =
        ALIAS_OF.exec(d.rest) ?? (d.lines[0] ? ALIAS_OF.exec(d.lines[0].slice(0, MAX_LINE)) : null);
      if (alias && alias[1]!.toLowerCase() !== d.rcpt) r.originalRecipient = alias[1]!;
      else if (forwardOwner && forwardOwner !== d.rcpt) r.originalRecipient = forwardOwner;
      if (delayed) r.action ??= "delayed";
      else if (failed) r.action ??= "failed";
      return r;
    });

  function draftRecipient(d: Draft): ExtractedRecipient {
    const fields = dsnFields(d.lines);
    if (fields) {
      const other = d.lines.filter((l) => !DSN_FIELD.test(l) && !/^\s/.test(l));
      const text = fields.diagnostic ?? squash([d.rest, ...other, fields.statusComment ?? ""].join(" "));
      const r = finish(d.rcpt, text, layout, blockText);
      if (fields.status) r.status = fields.status;
      if (fields.action) r.action = fields.action;
      if (fields.remoteMta) r.remoteMta = fields.remoteMta;
      return r;
    }
    if ((d.dialogue || d.rcptLine) && d.lines.length > 0) return dialogueRecipient(d, layout, blockText);
    let diag = [d.rest, ...d.lines].filter(Boolean).join(" ");
    if (!diag && d.heading) diag = coded ? `${d.heading} ${coded}` : d.heading;
    if (!diag) diag = coded || (layout.sharedDiagnostic || d.fromHeader ? prose : "");
    else if (layout.sharedDiagnostic && coded && !findSmtpCode(diag) && !findStatus(diag))
      diag = `${diag} ${coded}`;
    const r = finish(d.rcpt, diag, layout, blockText);
    // a dialogue's RCPT TO line whose reply is on the same or a reply line (`<<< 550 <x@y>... User unknown`)
    if (d.dialogue) r.command ??= "RCPT";
    return r;
  }
}

/**
 * A relay's rewrite of a listed recipient is that recipient, not another one: the percent hack (RFC 1123 5.2.16,
 * RFC 5321 appendix C: `user%host@relay` is sent on as `user@host`) and a UUCP bang path (RFC 976: `host!user@gw`
 * is sent on as `user@host`). A transcript's `RCPT To:<user@host>` then gives the listed address its dialogue.
 */
function mergeRewritten(drafts: Draft[]): Draft[] {
  if (drafts.length < 2 || !drafts.some((d) => d.rcpt.includes("%") || d.rcpt.includes("!"))) return drafts;
  const dropped = new Set<Draft>();
  for (const d of drafts) {
    const at = d.rcpt.lastIndexOf("@");
    const local = d.rcpt.slice(0, at);
    let next: string | undefined;
    const pct = local.lastIndexOf("%");
    const bang = local.lastIndexOf("!");
    if (pct > 0 && pct < local.length - 1) next = `${local.slice(0, pct)}@${local.slice(pct + 1)}`;
    else if (bang > 0 && bang < local.length - 1) {
      const hop = local.slice(0, bang);
      next = `${local.slice(bang + 1)}@${hop.slice(hop.lastIndexOf("!") + 1)}`;
    }
    const rewritten = next && drafts.find((o) => o !== d && !dropped.has(o) && o.rcpt === next);
    if (!rewritten) continue;
    dropped.add(rewritten);
    d.rest = squash(`${d.rest} ${rewritten.rest}`);
    d.lines = [...d.lines, ...rewritten.lines];
    if (rewritten.dialogue) d.dialogue = true;
  }
  return dropped.size > 0 ? drafts.filter((d) => !dropped.has(d)) : drafts;
}

/**
 * A recipient of a quoted SMTP dialogue: its RCPT TO line and the replies below it, less the replies that are no
 * failure (`250 Recipient OK`, `354 Start mail input`) and the client's commands; the command the failure
 * answered is DATA when the client sent DATA after RCPT TO, else RCPT.
 */
function dialogueRecipient(d: Draft, layout: Layout, blockText: string): ExtractedRecipient {
  let data = false;
  const kept: string[] = [];
  for (const l of d.lines) {
    if (DIALOGUE_DATA.test(l)) data = true;
    else if (!DIALOGUE_OK.test(l) && !CLIENT_COMMAND.test(l)) kept.push(l);
  }
  const r = finish(d.rcpt, [d.rest, ...kept].join(" "), layout, blockText);
  r.command = data ? "DATA" : "RCPT";
  return r;
}

/** A reply of a quoted dialogue that is a failure (`<<< 550 5.1.1 ...`, `<-- 452 4.2.2 ...`). */
const DIALOGUE_FAIL = /^\s*(?:[^\s<>]+\s+)?(?:(?:<{1,3}|<--|received:?|replied:?)\s*)?[45]\d\d(?:[ -]|$)/i;

/** The first reply to a dialogue's RCPT TO (before any DATA) is a success, and none is a failure. */
function acceptedAtRcpt(lines: string[]): boolean {
  let ok = false;
  for (const l of lines) {
    if (DIALOGUE_DATA.test(l)) break;
    if (DIALOGUE_FAIL.test(l)) return false;
    if (DIALOGUE_OK.test(l)) ok = true;
  }
  return ok;
}

/** A failure reply after the dialogue's DATA (or BDAT). */
function refusedAfterData(lines: string[]): boolean {
  let data = false;
  for (const l of lines) {
    if (DIALOGUE_DATA.test(l)) data = true;
    else if (data && DIALOGUE_FAIL.test(l)) return true;
  }
  return false;
}

/** A person's reply (`Re:`, In-Reply-To, References): a bounce it quotes is no bounce of its own. */
function isReply(mail: ParsedMail): boolean {
  return (
    mail.headers.get("in-reply-to") !== undefined ||
    mail.headers.get("references") !== undefined ||
    /^\s*(?:re|aw|sv|antw|odp|rif|res|ответ|回复|回覆)\s*:/i.test(subjectOf(mail))
  );
}

/** Separators of an address list on one line (the items are trimmed after the split). */
const LIST_SEPARATOR = /[,;]/;
/** One whole address, alone (an address list's item, its angle brackets taken off). */
const WHOLE_ADDRESS = new RegExp(`^${EMAIL_SRC}$`);

/**
 * The addresses of a line that lists two or more and nothing else (`  a@x, b@x`, `<a@x>; <b@x>`), lower-cased;
 * undefined for any other line.
 */
function addressList(line: string): string[] | undefined {
  if (!line.includes(",") && !line.includes(";")) return undefined;
  const items = line
    .trim()
    .replace(/[,;.]$/, "")
    .split(LIST_SEPARATOR);
  if (items.length < 2 || items.length > 50) return undefined;
  const out: string[] = [];
  for (const raw of items) {
    const item = raw.trim();
    const a = item.startsWith("<") && item.endsWith(">") ? item.slice(1, -1) : item;
    if (a.length > 320 || !WHOLE_ADDRESS.test(a)) return undefined;
    out.push(a.toLowerCase());
  }
  return out;
}

/**
 * A block that names no address but the returned original's recipient by its local part alone (GroupWise's
 * `undeliverable to the following:` then `jsmith (user not found)`): that recipient, the line its diagnostic.
 */
function originalToNamed(mail: ParsedMail, lines: string[], own: Set<string>): Draft | undefined {
  const oh = mail.originalHeaders;
  if (!oh) return undefined;
  // each of the original's To and Cc addresses (a few): the one the notice names by its local part, when only one is
  // (Mailman's `Your message to the Choir-orchard mailing-list was rejected` over `To: choir-orchard@...`, `Cc: x@y`)
  const candidates: string[] = [];
  for (const v of [...oh.getAll("to"), ...oh.getAll("cc")].slice(0, 4))
    for (const a of v.slice(0, 2000).match(EMAIL_G) ?? [])
      if (candidates.length < 10 && !own.has(a.toLowerCase())) candidates.push(a.toLowerCase());
  let found: Draft | undefined;
  for (const to of candidates) {
    const named = namedByLocalPart(to, lines);
    if (!named) continue;
    if (found && found.rcpt !== to) return undefined;
    found ??= named;
  }
  return found;
}

/** The draft of `to` when a line of the block names its local part as a word of its own. */
function namedByLocalPart(to: string, lines: string[]): Draft | undefined {
  const local = to.slice(0, to.lastIndexOf("@"));
  if (local.length < 2) return undefined;
  for (const whole of lines) {
    const line = whole.length > MAX_LINE ? whole.slice(0, MAX_LINE) : whole;
    const at = line.toLowerCase().indexOf(local);
    if (at < 0 || /^\s*>/.test(line) || HEADERISH.test(line)) continue;
    const before = at > 0 ? line[at - 1]! : " ";
    const after = line[at + local.length] ?? " ";
    if (/[\w.@+-]/.test(before) || /[\w@+-]/.test(after)) continue;
    return { rcpt: to, indent: 0, lines: [], rest: squash(line.slice(at + local.length)) };
  }
  return undefined;
}

/**
 * A notice that names no recipient at all (`Your message could not be delivered because the recipient's mailbox is
 * full`) over a returned original with one recipient: that recipient (Sisimai's RFC3464 fallback reads the
 * original's To when a notice names none). Never its From or Reply-To, which are the sender's.
 */
function soleOriginalTo(mail: ParsedMail, own: Set<string>, lines: string[]): Draft | undefined {
  // the notice speaks of "the recipient" and lists none (`to the following:` then a name it gives is a list)
  if (!lines.some((l) => UNNAMED_RECIPIENT.test(l)) || lines.some((l) => LISTS_FOLLOWING.test(l)))
    return undefined;
  const oh = mail.originalHeaders;
  if (!oh || oh.getAll("to").length !== 1 || oh.getAll("cc").length > 0) return undefined;
  const value = oh.get("to") ?? "";
  // one address in the field (`Aroha <a@x>`), not a list
  if ((value.match(/@/g) ?? []).length !== 1) return undefined;
  const to = headerAddress(value);
  if (!to || own.has(to)) return undefined;
  return { rcpt: to, indent: 0, lines: [], rest: "" };
}

/**
 * The announcement of local addresses in a domain named once (Mercury/32: `... the following local address in the
 * domain x.example:`).
 */
const LOCAL_HEADING =
  /\blocal (?:address(?:es)?|users?|recipients?|mailbox(?:es)?) (?:in|at|of) (?:the )?domain[ \t]+(?<domain>[a-z0-9](?:[a-z0-9-]{0,62}\.){1,8}[a-z]{2,63})[ \t]*(?::[ \t]*)?$/i;
/** A local part alone, then its reason after ` -- ` (`   kstone  --  no such user or mailbox at this site`). */
const LOCAL_LINE = /^[ \t]+(?<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64})[ \t]+--[ \t]+(?<rest>\S.*)$/;

/**
 * The recipients of a notice that names each only by its local part, under an announcement that names their domain
 * once: `local@domain`, the words after ` -- ` its diagnostic.
 */
function localPartsIn(lines: string[]): Draft[] {
  const out: Draft[] = [];
  let domain: string | undefined;
  for (let i = 0; i < lines.length && out.length < MAX_LOOSE_ADDRESSES; i++) {
    const whole = lines[i]!;
    const line = whole.length > MAX_LINE ? whole.slice(0, MAX_LINE) : whole;
    // the domain may be wrapped onto the next line
    const next = /\bdomain[ \t]*$/i.test(line) && i + 1 < lines.length ? lines[i + 1]!.slice(0, 300) : "";
    const heading = LOCAL_HEADING.exec(next ? `${line.trimEnd()} ${next.trim()}` : line);
    if (heading) {
      if (next) i++;
      domain = heading.groups!.domain!.toLowerCase();
      continue;
    }
    if (!domain) continue;
    const m = LOCAL_LINE.exec(line);
    if (m) {
      const rcpt = `${m.groups!.local!.toLowerCase()}@${domain}`;
      if (!out.some((d) => d.rcpt === rcpt))
        out.push({ rcpt, indent: indentOf(line), lines: [], rest: squash(m.groups!.rest!) });
    } else if (line.trim() && out.length > 0) break;
  }
  return out;
}

/** Most addresses taken from a block that has no recipient line. */
const MAX_LOOSE_ADDRESSES = 20;

/**
 * The addresses anywhere in a block of no known layout that has no recipient line: each one not the bounce's own,
 * not an id (`Message-ID:`), not one its line asks to contact, and not a header of the inline original; its
 * line and the lines below it, to the first blank line, are its diagnostic.
 */
function addressesIn(lines: string[], own: Set<string>): Draft[] {
  const out: Draft[] = [];
  for (let i = 0; i < lines.length && out.length < MAX_LOOSE_ADDRESSES; i++) {
    const whole = lines[i]!;
    if (!whole.includes("@")) continue;
    const line = whole.length > MAX_LINE ? whole.slice(0, MAX_LINE) : whole;
    // a quoted line (`> ...`) is someone's quote of a mail, not this notice's words
    if (/^\s*>/.test(line) || ID_HEADER.test(line) || HEADERISH.test(line) || CONTACT_LINE.test(line))
      continue;
    // a domain in Unicode counts here (`olga@почта-север.example`): the notice's own words name the recipient
    for (const found of line.matchAll(EMAIL_IDN_G)) {
      const m = found[0];
      // an id after its label, wherever the line starts (a session log's `11:20:11: *  Message-ID: <id@host>`)
      const at = found.index;
      if (ID_LABEL.test(line.slice(Math.max(0, at - 40), at))) continue;
      // an address-like display name (`"x@y" <a@b>`, RFC 5322 name-addr): the address is the one in the brackets
      if (line[at - 1] === '"' && DISPLAY_NAME_END.test(line.slice(at + m.length, at + m.length + 12)))
        continue;
      // a quote before the address is no part of it (`addressed to 'x@y'`)
      const addr = m
        .replace(/^['`]+/, "")
        .toLowerCase()
        .replace(/\.$/, "");
      if (own.has(addr) || !EMAIL_IDN.test(addr) || out.some((d) => d.rcpt === addr)) continue;
      if (isNewAddress(line, at)) continue;
      const forwardedFor = at > 0 && FORWARD_OWNER_BEFORE.test(line.slice(Math.max(0, at - 40), at));
      const below: string[] = [];
      // to the first blank line, or the first line that names another address (a list of `[addr] reply` lines
      // one under another: each line is its own recipient's, not the one above's)
      for (let j = i + 1; j < lines.length && j <= i + 5 && lines[j]!.trim(); j++) {
        if (namesOtherAddress(lines[j]!.slice(0, MAX_LINE), addr, own)) break;
        below.push(lines[j]!);
      }
      out.push({ rcpt: addr, indent: 0, lines: below, rest: squash(line.split(m).join(" ")) });
      if (forwardedFor) out[out.length - 1]!.forwardedFor = true;
      break;
    }
  }
  return out;
}

/** A line that names an address other than `addr` and the bounce's own (a contact line's address excepted). */
function namesOtherAddress(line: string, addr: string, own: Set<string>): boolean {
  if (!line.includes("@") || CONTACT_LINE.test(line)) return false;
  for (const m of line.match(EMAIL_G) ?? []) {
    const a = m.toLowerCase().replace(/\.$/, "");
    if (a !== addr && !own.has(a)) return true;
  }
  return false;
}

const DSN_FIELD =
  /^\s*(?:Diagnostic-Code|Status|Action|Remote-MTA|Final-Recipient|Original-Recipient|Last-Attempt-Date|Will-Retry-Until|Reporting-MTA|Received-From-MTA|Arrival-Date|X-[\w-]+):/i;

interface DsnFields {
  diagnostic?: string;
  statusComment?: string;
  status?: string;
  action?: string;
  remoteMta?: string;
}

/** RFC 3464 per-recipient fields quoted in the text (Action, Status, Remote-MTA, Diagnostic-Code with its folds). */
function dsnFields(lines: string[]): DsnFields | undefined {
  const out: DsnFields = {};
  let found = false;
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*(Diagnostic-Code|Status|Action|Remote-MTA):(.*)$/i.exec(lines[i]!);
    if (!m) continue;
    found = true;
    const name = m[1]!.toLowerCase();
    let value = m[2]!.trimStart();
    while (
      i + 1 < lines.length &&
      /^[ \t]+\S/.test(lines[i + 1]!) &&
      !/^\s*[A-Za-z-]+:\s/.test(lines[i + 1]!)
    )
      value += " " + lines[++i]!.trim();
    if (name === "diagnostic-code") out.diagnostic = value.replace(/^[\w-]+;\s*/, "");
    else if (name === "status") {
      const st = findStatus(value);
      if (st) out.status = st;
      // the text between the first `(` and the last `)`
      const open = value.indexOf("(");
      const close = value.lastIndexOf(")");
      if (open >= 0 && close > open + 1) out.statusComment = value.slice(open + 1, close);
      // or the words after the code, where a notice writes them bare (`Status: 4.2.0 deferred - message held ...`)
      else if (st && open < 0) {
        const rest = value.slice(value.indexOf(st) + st.length).replace(/^[\s:;,-]+/, "");
        if (/\p{L}{3}/u.test(rest)) out.statusComment = rest;
      }
    } else if (name === "action") out.action = value.trim().toLowerCase().split(/\s/)[0];
    else
      out.remoteMta = value
        .replace(/^[\w-]+;\s*/, "")
        .trim()
        .toLowerCase();
  }
  return found ? out : undefined;
}

/** The returned original is itself a bounce (a bounce of a bounce): its To is not a failed recipient. */
function originalIsBounce(mail: ParsedMail): boolean {
  const oh = mail.originalHeaders;
  if (!oh) return false;
  return (
    /multipart\/report/i.test(oh.get("content-type") ?? "") ||
    /mailer-daemon|postmaster/i.test(oh.get("from") ?? "")
  );
}

/** The To of a returned original quoted inline below the error block (`To: x@y` among header lines). */
function inlineOriginalTo(text: string, _blockLen: number): string | undefined {
  const lines = linesOf(text);
  for (let i = 0; i < lines.length && i < 400; i++) {
    const m = /^To:(.*)$/i.exec(lines[i]!);
    if (!m) continue;
    const near = lines
      .slice(Math.max(0, i - 8), i + 8)
      .filter((l) => /^(?:From|Subject|Date|Message-Id|Received):/i.test(l));
    if (near.length >= 2) return headerAddress(m[1]);
  }
  return undefined;
}

/** What detect() reads of one mail. */
interface Glance {
  head: string;
  from: string;
  subject: string;
  /** Cheap gate: could this mail be a bounce at all (sender, subject, X-Failed-Recipients, words in the head)? */
  bounceLike: boolean;
}

const BOUNCE_SENDER =
  /daemon|postmaster|post_master|mail ?delivery|mailer|administrator|bounce|notification|no-?reply|amazonses|amazonaws|sysadmin|-admin@|notes/i;
const BOUNCE_WORDS =
  /deliver|undeliver|fail|error|return|reject|bounce|could not|couldn't|unable|not reach|recipient|mailbox|member|配信|送信|エラー|доставлен|zustell|remis|problem|notification|transcript/i;

/** Computed once per mail however many layouts look (the mail is immutable). */
const glance = lastOnly((mail: ParsedMail): Glance => {
  const t = bounceText(mail);
  const head = t.length > HEAD ? t.slice(0, HEAD) : t;
  const from = mail.headers.get("from") ?? "";
  const subject = mail.headers.get("subject") ?? "";
  const bounceLike =
    BOUNCE_SENDER.test(from) ||
    BOUNCE_WORDS.test(subject) ||
    mail.headers.get("x-failed-recipients") !== undefined ||
    BOUNCE_WORDS.test(head.slice(0, 600)) ||
    (!t.trim() && mail.root.parts.length === 0);
  return { head, from, subject, bounceLike };
});

const HEAD = 2048;

/** The first bytes of the bounce's text that detect() looks at. */
export function headOf(mail: ParsedMail): string {
  return glance(mail).head;
}

/** Per pattern source: the lower-cased words one of which every match contains (null: none certain). */
const headWords = new Map<string, HeadWord[] | null>();
let lastHead = "";
let lastLowerHead = "";

interface HeadWord {
  word: string;
  /** The hashes of the word's three-character pieces (empty for shorter words). */
  pieces: Int32Array;
}

/** Bits of a piece's hash: a 16,384-bit set (2 KB) of the pieces of a head of at most 2,048 characters. */
const PIECE_BITS = 14;
const headPieces = new Int32Array(1 << (PIECE_BITS - 5));

/** The hash of the three characters ending at `c` (packed as `(a << 20) ^ (b << 10) ^ c`, folded to 10 bits each). */
const pieceHash = (packed: number): number => Math.imul(packed, 0x9e3779b1) >>> (32 - PIECE_BITS);
const pack = (packed: number, c: number): number => ((packed << 10) ^ (c & 0x3ff) ^ (c >>> 10)) & 0x3fffffff;

function piecesOf(word: string): Int32Array {
  if (word.length < 3) return new Int32Array(0);
  const out = new Int32Array(word.length - 2);
  let packed = 0;
  for (let i = 0; i < word.length; i++) {
    packed = pack(packed, word.charCodeAt(i));
    if (i >= 2) out[i - 2] = pieceHash(packed);
  }
  return out;
}

/** The lower-cased head and the set of its three-character pieces, made once per head. */
function indexHead(head: string): void {
  lastHead = head;
  lastLowerHead = head.toLowerCase();
  headPieces.fill(0);
  let packed = 0;
  for (let i = 0; i < lastLowerHead.length; i++) {
    packed = pack(packed, lastLowerHead.charCodeAt(i));
    if (i >= 2) {
      const h = pieceHash(packed);
      headPieces[h >>> 5]! |= 1 << (h & 31);
    }
  }
}

/** Whether the lower-cased head contains `w`: a word one of whose pieces the head lacks is not looked for. */
function headHas(w: HeadWord): boolean {
  const p = w.pieces;
  for (let k = 0; k < p.length; k++) if ((headPieces[p[k]! >>> 5]! & (1 << (p[k]! & 31))) === 0) return false;
  return lastLowerHead.includes(w.word);
}

/**
 * `re.test(head)` for detect(), with a cheap first look: the words the pattern cannot match without (read off
 * its source, as for the text rules) are looked up in the lower-cased head, and the pattern runs only when one
 * of them is there. Some forty layouts look at the same head: its three-character pieces are hashed into a
 * bit set once, and most words are ruled out by a piece the head lacks, without a search of the head.
 */
export function inHead(head: string, re: RegExp): boolean {
  let words = headWords.get(re.source);
  if (words === undefined) {
    words = requiredLiterals(re.source)?.map((word) => ({ word, pieces: piecesOf(word) })) ?? null;
    headWords.set(re.source, words);
  }
  if (words) {
    if (head !== lastHead) indexHead(head);
    let found = false;
    for (let i = 0; i < words.length && !found; i++) found = headHas(words[i]!);
    if (!found) return false;
  }
  return re.test(head);
}

/**
 * The layout with every field present, in one order: the layouts are object literals of some forty shapes, and
 * the engine's reads of their fields (`layout.start`, `layout.reasons`, ...) went megamorphic, each a lookup in
 * a global cache. One shape makes them plain loads. An absent field is `undefined` here, which the engine reads
 * alike.
 */
function uniform(l: Layout): Layout {
  return {
    id: l.id,
    detect: l.detect,
    start: l.start,
    startRequired: l.startRequired,
    end: l.end,
    recipient: l.recipient,
    generalLines: l.generalLines,
    blankEnds: l.blankEnds,
    noise: l.noise,
    reasons: l.reasons,
    strip: l.strip,
    recipientFromOriginal: l.recipientFromOriginal,
    sharedDiagnostic: l.sharedDiagnostic,
    freeText: l.freeText,
    delayNotice: l.delayNotice,
    failureNotice: l.failureNotice,
    overDsn: l.overDsn,
  };
}

export function parserOf(original: Layout): LhostParser {
  const layout = uniform(original);
  return {
    id: layout.id,
    overDsn: layout.overDsn === true,
    detect: (mail) => {
      const g = glance(mail);
      return g.bounceLike && layout.detect(mail, g.head);
    },
    extract: (mail) => {
      const r = extractWith(layout, mail);
      return r && r.length > 0 ? r : null;
    },
  };
}

/** Header helpers for detect(). */
export const subjectOf = (m: ParsedMail): string => glance(m).subject;
export const fromOf = (m: ParsedMail): string => glance(m).from;
