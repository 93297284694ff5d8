// One reason per recipient, from the evidence at hand: the DSN Action and Status, the SMTP reply code, the
// remote server's words (text rules) and what a format-level extractor stated. The precedence between them
// lives here, and the id of the evidence that won becomes the recipient's `rule`.
//
// Precedence (first that applies wins):
//   1. Action delivered / relayed / expanded, or a 2.x.x status   -> delivered  (`dsn.action:delivered`)
//   1b. a rule of the remote (or reporting) MTA's provider (rules/rhost.ts)   -> its reason (`rhost:<id>`)
//   2. a text rule of priority >= TEXT_OVERRIDES_DEFINITIVE          -> its reason (`text:<id>`)
//   3. the extractor's own reason (a fixed sentence of that MTA)     -> its reason (`lhost:<id>`)
//   4. a definitive status code (5.1.1, 5.2.2, ...)                                 (`dsn.status:5.1.1`)
//   4b. a media status code (X.6.x) over words of policy, system or network   -> contenterror (`dsn.status:5.6.x+text:<id>`)
//   5. any matching text rule                                                       (`text:<id>`)
//   5b. a refusal of MAIL FROM without a telling text               -> rejected   (`smtp.command:MAIL`)
//   6. the status code (exact, then `X.Y.*`)                                        (`dsn.status:5.7.1`)
//   7. the bare SMTP reply code (552, 452, ...)                                     (`smtp:552`)
//   7b. a refusal of EHLO/HELO without a telling text                -> blocked    (`smtp.command:HELO`)
//   8. Action delayed (or `expired`)                                 -> expired    (`dsn.action:delayed`)
//   9. words no rule knows                                           -> onhold     (`diagnostic:no-rule`)
//  10. no words: what a Sendmail-style subject states, if a rule knows it     (`subject:<id>`)
//  11. nothing decisive                                              -> undefined  (`none`)
// The most specific status wins too: a generic `5.0.0` in the report yields to `5.1.1` in the diagnostic text.
import { mergedAlternation } from "./alternation.js";
import type { Reason } from "./report.js";
import {
  type MatchContext,
  TEXT_HINT_BELOW,
  TEXT_OVERRIDES_DEFINITIVE,
  matchAllText,
  matchReplyCode,
  matchStatus,
  matchText,
} from "./rules/index.js";
import { matchRemoteHost } from "./rules/rhost.js";

export interface Evidence {
  status?: string;
  /** Where the status came from: `dsn` (the report's Status field), `lhost` (an extractor), `text` (read from the diagnostic). */
  statusSource?: "dsn" | "lhost" | "text";
  smtpCode?: number;
  diagnostic?: string;
  action?: string;
  /** The comment after the code in the Status field (`5.2.1 (mailbox disabled, ...)`): read like a reply text. */
  statusComment?: string;
  /** The Diagnostic-Code's type (`smtp`, `x-unix`, ...). */
  diagnosticType?: string;
  /** The SMTP command the reply answered (RCPT, MAIL, DATA, ...), where known. */
  command?: string;
  /** The recipient was found in a bounce of no known layout (the general finder): its words are the bounce's own. */
  freeText?: boolean;
  /** The remote MTA and the reporting MTA, where known: some providers' words are read by who says them. */
  remoteMta?: string;
  reportingMta?: string;
  /** The host of the mail system's own address the notice came from (`MAILER-DAEMON@messagelabs.com`). */
  noticeHost?: string;
  /** The failed recipient's domain: a provider's words are read as its own when the mail was for its domain. */
  recipientDomain?: string;
  /**
   * What a Sendmail-style subject states after `Returned mail:` / `Warning:` (`User unknown`, `Cannot send message
   * for 5 days`): read only when the failure came with no words of its own.
   */
  subjectReason?: string;
  /** Reason stated by an extractor, with its rule id (`lhost:<id>`). */
  reason?: Reason;
  rule?: string;
  /**
   * The bounce's words around the recipient (the announcement above it, the notice's other lines), where a
   * bounce of no known layout has them: read for a reason when the recipient's own words, status and reply code
   * name none (`context:<id>`).
   */
  context?: string;
  /**
   * The notice says the sending MTA gave the message up after its queue lifetime ("Message will be deleted from
   * queue", "I've given up"): with Action failed, no more attempts are made, whatever the last deferral's class.
   * Read only where the decision without it is not permanent (classify.ts reads the words only then).
   */
  gaveUp?: boolean;
}

export interface Decision {
  reason: Reason;
  rule: string;
  /** The enhanced status code to report: the best one found, else derived from the reason. */
  status?: string;
  smtpCode?: number;
  /**
   * Whether the failure is permanent (true), transient (false) or unknown (null), from the evidence only (see
   * permanenceOf); null for what is no failure (delivered, feedback, vacation).
   */
  permanent: boolean | null;
  /** The evidence that decided `permanent` (`status`, `smtp`, `action:delayed`, `text:given-up`, ...). */
  permanentRule?: string;
}

/** Text rules at or above this priority outrank even an extractor's own reason and a definitive status. */
export const STRONG_TEXT = TEXT_OVERRIDES_DEFINITIVE;

const STATUS_IN_TEXT = /(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])/;
const SMTP_IN_TEXT = /(?:^|[\s:;(\["'-])([245][0-9][0-9])(?:[\s-]|$)/;

/** The enhanced status code in a diagnostic text, normalised (`5.01.001` -> `5.1.1`). */
export function statusInText(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const m = STATUS_IN_TEXT.exec(text);
  return m ? `${m[1]}.${Number(m[2])}.${Number(m[3])}` : undefined;
}

/** The SMTP reply code at the start of a diagnostic text (or after `smtp;`, `said:`, ...). */
export function smtpCodeInText(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const m = SMTP_IN_TEXT.exec(text.slice(0, 400));
  return m ? Number(m[1]) : undefined;
}

/**
 * Whether the status code in the reply text says more than the report's Status field (Sisimai's preference between
 * the two): the one whose class agrees with the reply code; the text's when the field is vague (`X.Y.0`, `X.0.Z`,
 * 4.4.7, 4.7.0, a system `5.3.Z`, a protocol `X.5.1/2/4/5`) and the text's is not, or when a `5.1.1` or `5.1.3`
 * field comes with a more specific text code (`550 5.1.1 ... 552 5.2.2 Mailbox full`, `5.1.3` beside `#5.7.1`).
 * The field's own generic `X.0.0` is handled before this.
 */
function preferTextStatus(field: string, text: string, smtpCode: number | undefined): boolean {
  if (field === text) return false;
  const reply = smtpCode !== undefined ? String(smtpCode)[0] : undefined;
  if (reply && field[0] !== text[0]) {
    if (reply === field[0]) return false;
    if (reply === text[0]) return true;
  }
  const fieldZero = field.includes(".0");
  const textZero = text.includes(".0");
  if (isGeneric(field)) return !isGeneric(text);
  if (fieldZero && !textZero) return true;
  if (isGeneric(text)) return false;
  if (field === "4.4.7" || field === "4.7.0" || field.startsWith("5.3.") || /^[45]\.5\.[1245]$/.test(field))
    return true;
  if (field === "5.1.1") return !(textZero || text.startsWith("5.5."));
  if (field === "5.1.3") return text.startsWith("5.7.");
  return false;
}

/** The rule id of a status code, by where it came from: `dsn.status:5.1.1`, `lhost.status:5.1.1`, `status:5.1.1`. */
const statusIdOf = (status: string | undefined, source: "dsn" | "lhost" | "text"): string =>
  `${source === "dsn" ? "dsn." : source === "lhost" ? "lhost." : ""}status:${status}`;

const isGeneric = (status: string): boolean => /^[45]\.0\.0$/.test(status);

/**
 * `X.5.0` beside a 55x reply (`550 5.5.0 mailbox unavailable`): servers put it on refusals of every kind, so it
 * says no more than `5.0.0`. Beside a 50x reply, or alone, it is the protocol error it names (syntaxerror).
 */
const vagueProtocolStatus = (status: string, smtpCode: number | undefined): boolean =>
  (status === "5.5.0" || status === "4.5.0") && smtpCode !== undefined && smtpCode % 100 >= 10;

/** Decide one reason from the evidence. Pure. */
export function decideReason(e: Evidence): Decision {
  const diagnostic = e.diagnostic ?? "";
  const smtpCode = e.smtpCode ?? smtpCodeInText(diagnostic);
  let status = e.status;
  let statusSource = e.statusSource ?? "dsn";
  const textStatus = statusInText(diagnostic);
  if (
    textStatus &&
    (!status || (isGeneric(status) && textStatus[0] === status[0] && !isGeneric(textStatus)))
  ) {
    status = textStatus;
    statusSource = e.status ? statusSource : "text";
  } else if (textStatus && status && preferTextStatus(status, textStatus, smtpCode)) {
    status = textStatus;
    statusSource = "text";
  }
  const done = (reason: Reason, rule: string): Decision => {
    const p = permanenceOf(reason, status, smtpCode, e.action, diagnostic, e.statusComment);
    const d: Decision = { reason, rule, permanent: p.permanent };
    if (p.rule) d.permanentRule = p.rule;
    // Failed and given up ("Message will be deleted from queue"): no more attempts, whatever the last deferral's
    // class; its reason stays the deferral's (Sisimai reads a Sendmail expiry by the last reply).
    if (e.gaveUp && p.permanent === false && e.action?.toLowerCase() === "failed") {
      d.permanent = true;
      d.permanentRule = "text:given-up";
    }
    const reported = status ?? derivedStatus(reason, smtpCode);
    if (reported) d.status = reported;
    if (smtpCode !== undefined) d.smtpCode = smtpCode;
    return d;
  };

  // A notification the extractor knows to be a complaint or a delivery is not a failure, whatever its text says.
  if (e.reason === "feedback" || e.reason === "delivered") return done(e.reason, e.rule ?? "lhost");
  const action = e.action?.toLowerCase();
  if (action === "delivered" || action === "relayed" || action === "expanded" || status?.startsWith("2."))
    return done("delivered", `dsn.action:${action ?? "delivered"}`);

  // A provider's words read as that provider means them, when the reply is known to come from it.
  // The notice's own daemon address (MessageLabs' `MAILER-DAEMON@messagelabs.com`) names the reporting MTA's
  // provider too, tried last.
  if (diagnostic && (e.recipientDomain || e.remoteMta || e.reportingMta || e.noticeHost)) {
    const rhost = matchRemoteHost(
      [e.recipientDomain, e.remoteMta, e.reportingMta, e.noticeHost],
      diagnostic,
      {
        status,
        smtpCode,
      },
    );
    if (rhost) return done(rhost.reason, `rhost:${rhost.id}`);
  }
  const statusClass = status?.[0] ?? (smtpCode ? String(smtpCode)[0] : undefined);
  const ctx: MatchContext = statusClass === "4" || statusClass === "5" ? { statusClass } : {};
  let said = diagnostic ? matchText(diagnostic, ctx) : undefined;
  // Words that name only the SMTP state (Gmail's `(state 9)`) yield to a specific status code in the reply.
  if (said?.yieldsToStatus && status && !status.includes(".0") && matchStatus(status))
    said = matchAllText(diagnostic, ctx).find((r) => !r.yieldsToStatus);
  // The reporting MTA's own words on its status code compete with the reply text; the more specific one wins.
  const comment = e.statusComment ? matchText(e.statusComment, ctx) : undefined;
  const text = comment && (comment.priority ?? 0) > (said?.priority ?? 0) ? comment : said;
  const textId = text === comment && text ? `dsn.status-comment:${text.id}` : `text:${text?.id}`;
  const textPriority = text?.priority ?? 0;
  // A media code (X.6.x) names the content as the cause, even beside a provider's words about its policy or
  // system (Sisimai decides X.6.x before those): `554 5.6.1 Message content not accepted for policy reasons`.
  if (text && status && /^[45]\.6\.\d{1,3}$/.test(status) && MEDIA_CODE_KEEPS.has(text.reason))
    return done("contenterror", `${statusIdOf(status, statusSource)}+${textId}`);
  // Words that mean another reason on a delay notice (a refused connection, still retried, is the delay itself).
  if (text?.onDelay && action === "delayed") return done(text.onDelay, `dsn.action:delayed+${textId}`);
  if (text && textPriority >= STRONG_TEXT) {
    // Even a provider's "unknown user" is its filter's answer when the status names another cause (X.2.0 filtered,
    // X.7.x security or policy, X.7.17 owner changed, ...) and the reply did not answer RCPT TO (NTT docomo answers a
    // domain filter's refusal so, after DATA; Active!hunter's chkusr under 5.7.17).
    if (
      text.reason === "userunknown" &&
      status &&
      namesAnotherCause(status, smtpCode) &&
      command(e) !== "RCPT"
    )
      return done("filtered", `${textId}+status:${status}`);
    return done(text.reason, textId);
  }
  if (e.reason && e.reason !== "undefined") return done(e.reason, e.rule ?? "lhost");
  // An X-Unix diagnostic is a local delivery program's exit (procmail, a pipe): a mailer error, whatever the code,
  // unless it says the mailbox is full or the account is disabled (Sisimai's Reason.anotherone tries MailboxFull
  // and Suspend before MailerError: Postfix's local(8) writes `x-unix; account is disabled`).
  if (e.diagnosticType?.toLowerCase() === "x-unix")
    return text?.reason === "mailboxfull" || text?.reason === "suspend"
      ? done(text.reason, textId)
      : done("mailererror", "dsn.diagnostic-type:x-unix");

  const statusRule =
    status && !isGeneric(status) && !vagueProtocolStatus(status, smtpCode) ? matchStatus(status) : undefined;
  const statusRuleId = statusIdOf(status, statusSource);
  if (statusRule?.definitive) return done(statusRule.reason, statusRuleId);
  // A media code (X.6.x) names the content as the cause: words about policy, the system or the network that come
  // with it are that content's policy, not another reason (Sisimai decides X.6.x before these words).
  if (text && statusRule?.reason === "contenterror" && MEDIA_CODE_KEEPS.has(text.reason))
    return done("contenterror", `${statusRuleId}+${textId}`);
  if (text && !(statusRule && textPriority < TEXT_HINT_BELOW)) {
    if (
      text.reason === "userunknown" &&
      refusedAfterRecipient(
        statusRule?.reason,
        status,
        smtpCode,
        command(e),
        e.freeText === true,
        diagnostic ?? "",
      )
    )
      return done("filtered", `${textId}+not-at-rcpt`);
    // User-unknown words in reply to MAIL FROM speak of the sender (Sisimai reads them as userunknown only at RCPT):
    // the sender was rejected, unless a status code names the recipient's address (X.1.x but X.1.7/X.1.8).
    if (
      text.reason === "userunknown" &&
      command(e) === "MAIL" &&
      statusRule?.reason !== "userunknown" &&
      !(status && /^[45]\.1\.(?!7$|8$)\d+$/.test(status))
    )
      return done("rejected", `${textId}+at-mail-from`);
    return done(text.reason, textId);
  }
  // A refusal of MAIL FROM, with no text saying why: the sender was rejected.
  // Not when the reply is a syntax error of the command itself (501-507, 401-407: Sisimai's SyntaxError), which
  // says why: `501 5.5.4 Syntax error in parameters` at MAIL FROM is the command's fault, not the sender's; nor
  // under X.7.0, a security refusal of the session (`530 5.7.0 Must issue a STARTTLS command first`).
  if (
    command(e) === "MAIL" &&
    !e.reason &&
    !(smtpCode && matchReplyCode(smtpCode)?.reason === "syntaxerror") &&
    !(status && /^[45]\.7\.0$/.test(status))
  )
    return done("rejected", "smtp.command:MAIL");
  if (statusRule && statusRule.reason !== "undefined") return done(statusRule.reason, statusRuleId);
  if (status && !vagueProtocolStatus(status, smtpCode)) {
    const generic = matchStatus(status);
    if (generic && generic.reason !== "undefined") return done(generic.reason, statusRuleId);
  }
  if (e.reason) return done(e.reason, e.rule ?? "lhost");
  // The words around the recipient, when its own name no reason (`This Message was undeliverable due to the
  // following reason: The user(s) account is disabled.` above `Undeliverable Address: x@y`).
  if (e.context) {
    const around = matchText(e.context, ctx);
    if (around && around.reason !== "undefined") return done(around.reason, `context:${around.id}`);
  }
  const reply = smtpCode !== undefined ? matchReplyCode(smtpCode) : undefined;
  if (reply && reply.reason !== "undefined") return done(reply.reason, `smtp:${reply.code}`);
  // A refusal right after the greeting (EHLO/HELO), with nothing telling why: the sending host was blocked.
  if (command(e) === "HELO" && !e.reason) return done("blocked", "smtp.command:HELO");
  // `expired` is no RFC 3464 action, but some MTAs write it for a message given up after its queue lifetime
  if (action === "delayed" || action === "expired") return done("expired", `dsn.action:${action}`);
  // A server said why, in words no rule knows: the reason is on hold (Sisimai's `onhold`), not unknown. The
  // policy treats the two alike (softRuleFor); `undefined` is left for a failure that came with no words at all,
  // and for one whose only words announce it (`Your message could not be delivered to the following recipient:`):
  // they say that it failed, not why.
  const words = diagnostic.trim();
  if (words && !(words.length <= 400 && ANNOUNCEMENT_ONLY.test(words)))
    return done("onhold", "diagnostic:no-rule");
  // No words at all: the reason the notice's subject states, when a rule knows it (else still undefined).
  if (e.subjectReason) {
    const said = matchText(e.subjectReason, ctx);
    if (said && said.reason !== "undefined" && said.reason !== "onhold")
      return done(said.reason, `subject:${said.id}`);
  }
  return done("undefined", "none");
}

/**
 * A diagnostic that only announces the failure, with no cause: `Your message could not be delivered to the
 * following recipients:`, `The message to x@y was not delivered.`, `This e-mail couldn't be delivered.`
 */
const ANNOUNCEMENT_ONLY =
  /^\W{0,4}(?:(?:your|the|this) )?(?:message|mail|e-?mail)(?: (?:to|for) \S{1,255})? (?:could not|couldn't|cannot|can't|was not|wasn't|has not been) (?:be )?delivered(?: to (?:the following|these|this|one or more|all|some) (?:of (?:the|its|your) )?(?:recipients?|address(?:es)?|destinations?)(?: or groups)?)?\s{0,4}[.:!]?\s{0,4}$/i;

/** The patterns that decide a reason here, outside the rule tables (checked for linearity beside them). */
export const REASON_PATTERNS: readonly RegExp[] = [ANNOUNCEMENT_ONLY];

/** A status code that names a cause other than the address (not X.0.0, not an addressing X.1.x, not a vague X.5.0). */
function namesAnotherCause(status: string, smtpCode: number | undefined): boolean {
  if (isGeneric(status) || vagueProtocolStatus(status, smtpCode) || /^[45]\.1\./.test(status)) return false;
  const reason = matchStatus(status)?.reason;
  return (
    reason !== undefined && reason !== "userunknown" && reason !== "hostunknown" && reason !== "undefined"
  );
}

/** The reasons a text may name that a media status code (X.6.x) outranks: they say less about the mail than the code. */
const MEDIA_CODE_KEEPS: ReadonlySet<Reason> = new Set<Reason>([
  "policyviolation",
  "securityerror",
  "systemerror",
  "networkerror",
  "expired",
  "systemfull",
  "notaccept",
  "mailererror",
  "syntaxerror",
  "onhold",
]);

/** What a Sendmail-style notice's subject states: `Returned mail: User unknown` -> `User unknown`. */
export function subjectReasonOf(subject: string | undefined): string | undefined {
  const m = /^\s*(?:returned mail|warning)\s*:\s*(\S[^\r\n]{0,200})/i.exec(subject ?? "");
  const said = m?.[1]?.trim();
  return said && !/^see transcript/i.test(said) ? said : undefined;
}

const IN_REPLY_TO = /\bin reply to (?:end of )?(RCPT TO|MAIL FROM|DATA|RCPT|MAIL|HELO|EHLO)\b/i;
const TRANSCRIPT = /^[\t ]*>>>\s*(RCPT TO|MAIL FROM|DATA|HELO|EHLO)\b/im;

/** The SMTP command a reply text says it answered (RCPT, MAIL, DATA, HELO), where it says so. */
export function commandInText(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const m = IN_REPLY_TO.exec(text) ?? TRANSCRIPT.exec(text);
  let c = m?.[1]?.toUpperCase();
  if (!c) {
    if (/\bRCPT[ _]TO\b|\bSMTP:RCPT\b|does not like recipient|\bafter RCPT\b/i.test(text)) c = "RCPT";
    else if (/\b(?:end of )?DATA\b(?! ?[a-z])/.test(text)) c = "DATA";
    else if (/\bMAIL FROM\b/i.test(text)) c = "MAIL";
  }
  if (!c) return undefined;
  return c.startsWith("RCPT") ? "RCPT" : c.startsWith("MAIL") ? "MAIL" : c === "EHLO" ? "HELO" : c;
}

function command(e: Evidence): string | undefined {
  return e.command?.toUpperCase() ?? commandInText(e.diagnostic);
}

/**
 * "User unknown" that is not an answer to RCPT TO: the recipient was accepted, then the message refused with a
 * user-unknown text (content filters of Japanese carriers and appliances say so after DATA). Read as `filtered`
 * unless the status code says the address is bad (X.1.x) or the reply is known to answer RCPT TO.
 */
function refusedAfterRecipient(
  statusReason: Reason | undefined,
  status: string | undefined,
  smtpCode: number | undefined,
  cmd: string | undefined,
  freeText: boolean,
  diagnostic: string,
): boolean {
  if (statusReason === "userunknown" || statusReason === "hostunknown") return false;
  // A vague protocol code beside a 55x reply (`550 5.5.0 Requested action not taken: mailbox unavailable`, Hotmail's
  // answer for an address it does not have) names no other cause: the refusal is of the address (as Sisimai reads
  // a user-unknown text under any status that names no block), unless the reply answered DATA.
  if (status && vagueProtocolStatus(status, smtpCode) && cmd !== "DATA") return false;
  // A bounce of no known layout with no SMTP reply at all (neither a status nor a reply code): its own words
  // about the address ("the recipient is unknown", in any language), not a filter's answer to the message.
  if (freeText && !status && smtpCode === undefined) return false;
  // The same of a notice's own reason field (`Reason: no such user`, PMDF and Messaging Server) with no SMTP reply
  // beside it: the server's own verdict on the address, not a filter's answer to the message.
  if (
    !status &&
    smtpCode === undefined &&
    !cmd &&
    /\b(?:reason|because):\s*(?:%[\w-]{1,40},\s*)?(?:undeliverable:\s*)?(?:no such|unknown|invalid|(?:user|recipient|mailbox|address) (?:unknown|not found|does not exist))/i.test(
      diagnostic,
    )
  )
    return false;
  // An addressing code (X.1.x) other than the sender's (X.1.7, X.1.8) speaks of the recipient's address.
  if (status && /^[45]\.1\.(?!7$|8$)\d+$/.test(status)) return false;
  if (cmd) return cmd !== "RCPT" && cmd !== "MAIL";
  // No command known and no addressing status (a mailbox status X.2.x, a security or policy status X.7.x, or
  // none): Sisimai's reading, a user-unknown reply is the recipient's only when it answered RCPT TO. `<addr>: User
  // unknown` looked like RCPT's reply shape, but filters answer after DATA with the address too; a provider whose
  // shape means more is read by its host (rules/rhost.ts: au, docomo). With no status at all, words that name the
  // recipient itself ("invalid recipient", "recipient unknown") are not a filter's answer to the message; under a
  // security or policy status (X.7.x) they are.
  return (
    status !== undefined || !/\b(?:invalid|unknown|bad) recipient\b|\brecipient unknown\b/i.test(diagnostic)
  );
}

const DERIVED: Partial<Record<Reason, string>> = {
  userunknown: "5.1.1",
  hostunknown: "5.1.2",
  hasmoved: "5.1.6",
  notaccept: "5.1.10",
  mailboxfull: "5.2.2",
  suspend: "5.2.1",
  expired: "4.4.7",
  systemerror: "5.3.0",
  systemfull: "4.3.1",
  networkerror: "4.4.0",
  mailererror: "5.3.0",
  emailtoolarge: "5.3.4",
  ratelimited: "4.7.0",
  rejected: "5.7.1",
  filtered: "5.2.0",
  blocked: "5.7.1",
  badreputation: "5.7.1",
  spamdetected: "5.7.1",
  policyviolation: "5.7.0",
  authfailure: "5.7.26",
  requireptr: "5.7.25",
  contenterror: "5.6.0",
  virusdetected: "5.7.1",
  securityerror: "5.7.0",
  norelaying: "5.7.1",
  failedstarttls: "5.7.10",
  notcompliantrfc: "5.6.0",
  syntaxerror: "5.5.2",
  suppressed: "5.0.0",
  delivered: "2.0.0",
};

/** The usual RFC 3463 code of a reason, in the class of the SMTP code when one is known. */
export function derivedStatus(reason: Reason, smtpCode?: number): string | undefined {
  const d = DERIVED[reason];
  if (!d) return undefined;
  if (smtpCode && smtpCode >= 400 && smtpCode < 600 && d[0] !== "2")
    return `${String(smtpCode)[0]}${d.slice(1)}`;
  return d;
}

/** Words that say the failure is final: the sending MTA gave up, or the remote called it permanent. */
const PERMANENT_WORDS =
  /permanent(?:ly)? (?:error|failure|failed|fatal|rejected|refused|undeliverable|bounced)|(?:failed|rejected|refused) permanently|\bfatal (?:error|errors)\b|(?:i've|i have|we have|has) given up|giving up (?:on|after)|gave up|will not be (?:retried|delivered|attempted again|re-?attempted)|no further (?:attempts|retries)|not be retried|unrecoverable error|dauerhaft(?:e[nr]?)? fehler|endgültig (?:fehlgeschlagen|abgelehnt|gescheitert)|erreur permanente|error permanente|errore permanente|erro permanente|permanente fout|постоянная ошибка|恒久的|永久性|kal[ıi]c[ıi] (?:bir )?hata|lỗi vĩnh viễn|sẽ không (?:thử )?gửi lại|영구적(?:인)? (?:오류|실패)|b[łl][ąa]d (?:sta[łl]y|trwa[łl]y)|will not (?:retry|try (?:again|any further))|not (?:try|retry) (?:any )?(?:further|again)|no (?:more|further) (?:delivery )?(?:attempts|retries) will be made|failed (?:after )?\d{1,4} (?:delivery )?attempts|permanenter fehler|keine weiteren (?:zustellversuche|versuche)|aucune nouvelle tentative|ne sera plus (?:retent|réessay)|no se realizar[áa]n m[áa]s intentos|no se volver[áa] a intentar|non verranno effettuati altri tentativi|n[ãa]o (?:ser[ãa]o feitas|haver[áa]) (?:mais |novas )?tentativas|geen nieuwe pogingen|повторных попыток не будет|再送(?:は|を)?行いません|再送しません|不会再次?(?:尝试|重试|投递)|不會再次?(?:嘗試|重試|投遞)|已?停止重试|已?停止重試|will not continue (?:trying|to try)|(?:is|was|will) not (?:going to )?be (?:retried|re-?sent|re-?attempted)|no (?:more|further) (?:attempts|retries|delivery attempts)|[ée]chec d[ée]finitif|erreur fatale|rechazad[oa] definitivamente|errore fatale|erro fatal|falha permanente|wird nicht (?:mehr|erneut)\s(?:versucht|zugestellt)|nie b[ęe]dzie ponawian|неустранимая ошибка|trval(?:ou|[áaée]) chyb|doru[čc]en[íi] se nebude opakovat|permanent(?:t)? (?:fel|fejl|feil)|after \d{1,4} (?:days?|hours?)(?: \(\d{1,6} hours?\))?,? (?:your |the )?(?:message|mail) (?:could not|couldn't|was not|has not been|cannot) (?:be )?(?:fully |completely )?delivered|μ[οό]νιμο σφ[αά]λμα|μ[οό]νιμη αποτυχ[ιί]α|δεν θα (?:γ[ιί]νει|επιχειρηθε[ιί]) (?:ν[εέ]α |[αά]λλη )?(?:προσπ[αά]θεια|αποστολ)|ข้อผิดพลาดถาวร|จะไม่มีการส่งซ้ำ|خطا[یي] دائم[یي]|(?:دوباره|مجدد)[^.\n]{0,40}انجام نخواهد شد|שגיאה קבועה|כשל קבוע|לא (?:יתבצעו|ייעשו) ניסיונות נוספים|trval[áa] chyba|постоянна грешка|няма да (?:бъде|бъдат) (?:правени |направени )?(?:повече |нови )?опити|trajna (?:pogre[šs]ka|gre[šs]ka|napaka)|ne[ćc]e (?:se )?(?:ponovno|ponovo) (?:slati|poslati|poku[šs]avati)|eroare permanent[ăa]|nu se va (?:mai )?(?:re)?[îi]ncerca|постійна помилка|повторних спроб не буде|pysyv[äa] virhe|ei yritet[äa] uudelleen|ikke (?:blive )?foretaget flere fors[øo]g|ingen flere fors[øo][gk]|inga fler f[öo]rs[öo]k/i;
/** Words that say the failure is transient: the sending MTA will retry, or the remote asked to try later. */
const TRANSIENT_WORDS =
  /will (?:retry|be retried|try again|continue (?:trying|to try))|still (?:trying|retrying)|(?:try|retry) again later|please try (?:again )?later|temporar(?:y|ily)|transient (?:error|failure)|\bdelayed\b|deferred|not yet been delivered|has not been delivered yet|greylist|graylist|vorübergehend|später erneut|wird erneut versucht|temporaire|plus tard|ultérieurement|nouvel essai|temporal(?:mente)?\b|más tarde|se reintentar|temporane|più tardi|tempor[aá]rio|mais tarde|tijdelijk|later opnieuw|временн|повторит|позже|一時的|再送(?:します|を試み|を行います|予定)|しばらくしてから再送|暂时|稍后重试|稍後重試|다시 시도|k[ée]s[őo]bb (?:\S{1,20} )?[úu]jra|[úu]jra megk[íi]s[ée]rl|[áa]tmeneti|lỗi tạm thời|sẽ thử (?:gửi )?lại|재시도|일시적|ponowi (?:pr[óo]b[ęe]|pr[óo]by)|spr[óo]buje (?:ponownie|jeszcze raz)|ponown(?:a|ej) pr[óo]b|tymczasow|keep trying|has been postponed|attempts will continue|will be attempted again|warning message only|no action is required|do not need to (?:resend|take any action)|noch nicht zugestellt|nouvelle tentative|n'a pas encore [ée]t[ée]|volver[áa] a intentar|todav[ií]a no|riprover[àa]|nuovo tentativo|non ancora (?:stato )?(?:consegnat|recapitat)|tentar[áa] novamente|nova tentativa|ainda n[ãa]o foi|probeert het later|nog niet (?:afgeleverd|bezorgd)|ещё не доставлено|еще не доставлено|配信が遅れ|遅延|延迟|延遲|(?:is|are) being retried|will (?:keep|continue) (?:on )?(?:trying|attempting)|will (?:attempt|try) (?:re-?)?delivery again|queued for (?:later |re-?)?delivery|(?:still|remains?) (?:queued|in (?:the|our) queue)|wird (?:weiterhin|sp[äa]ter) (?:versucht|zugestellt)|ser[áa] reintentad|sar[àa] ritentat|do[čc]asn(?:ou|[áaée]) chyb|tillf[äa]llig(?:t)? fel|midlertidig(?:e)? (?:fejl|feil)|(?:ett )?nytt f[öo]rs[öo]k|nyt fors[øo]g|προσωριν[οό] σφ[αά]λμα|θα (?:γ[ιί]νει ν[εέ]α προσπ[αά]θεια|επαναληφθε[ιί])|ชั่วคราว|จะพยายามส่ง(?:อีกครั้ง|ใหม่)|خطا[یي] موقت|שגיאה זמנית|(?:ננסה|ינסה|ננסה) שוב|(?:bude|budeme) (?:na[ďd]alej )?pok[úu][šs]a|временна грешка|ще (?:бъде )?опита(?:ме|но)? отново|privremena (?:pogre[šs]ka|gre[šs]ka|napaka)|poku[šs]at [ćc]e (?:se )?ponovno|eroare temporar[ăa]|va (?:mai )?[îi]ncerca din nou|тимчасов|повторюватим|tilap[äa]inen virhe|yritet[äa][äa]n uudelleen/i;

/**
 * Words of a final notice: the message could not be delivered, and nothing says it will be retried. Said of a
 * recipient whose reason is unknown, they make its failure permanent (read after TRANSIENT_WORDS found nothing).
 */
const FINAL_NOTICE_WORDS =
  /could not be delivered|couldn't be delivered|cannot be delivered|can't be delivered|unable to deliver|was not delivered|were not delivered|undeliverable|did not reach|did not receive (?:a copy of )?(?:this|your) message|delivery (?:to (?:the following|these) recipients? )?(?:has )?failed|failed recipients?|permanent(?:ly)?\b|fatal|nicht zugestellt werden|unzustellbar|fehlgeschlagen|n'a pas pu [êe]tre|non remis|no se (?:pudo|ha podido) entregar|no (?:pudo|puede) ser entregado|non [èe] stato (?:possibile )?(?:recapitat|consegnat)|impossibile (?:consegnare|recapitare)|n[ãa]o (?:foi poss[íi]vel entregar|p[ôo]de ser entregue)|kon niet worden (?:afgeleverd|bezorgd)|is niet afgeleverd|не может быть доставлено|не удалось доставить|配信できませんでした|送信できませんでした|无法投递|無法投遞|无法送达|無法傳送|退信/i;

/**
 * Words that say the sending MTA gave up a message after its queue lifetime: read for an `expired` failure before
 * its status class (a 4.4.7 or a 421 is the last attempt's code, not a promise to retry). A delay warning says none
 * of these ("still undelivered after 4 hours", "will keep trying", "could not be delivered for more than 6 hours").
 */
const GAVE_UP_WORDS =
  /\bgave up\b|\bgiving up\b|(?:i've|i have|we've|we have|has|have) given up|stopped trying|(?:will|shall) not (?:be )?(?:retried|re-?attempted|re-?tried)|not (?:going to )?(?:try|retry) (?:again|any further)|will not (?:retry|try again)|no (?:more|further) (?:delivery )?(?:attempts|retries)|(?:will be|has been|was) (?:deleted|removed) from (?:the )?queue|cannot send message for \d{1,4} (?:days?|hours?)|not reachable within the allowed queue period|(?:been )?in the queue too long|too long in (?:the )?queue|queue\.expired|queue lifetime (?:of \d{1,4} \w{1,10} )?(?:exceeded|expired)|exceeded (?:the |its )?(?:maximum )?queue lifetime|\bmessage expired\b|\benvelope expired\b|retry time(?:out)? (?:exceeded|not reached for any host)|(?:was|were) not delivered within \d{1,4} (?:days?|hours?)|after \d{1,4} (?:days?|hours?)(?: \(\d{1,6} hours?\))?,? (?:your |the )?(?:message|mail) (?:could not|couldn't|was not|has not been|cannot) (?:be )?(?:fully |completely )?delivered|after \d{1,4} (?:delivery )?attempts|failed \d{1,4} (?:delivery )?attempts|aufgegeben|abandonn[ée]|abandonad[oa]|abbandonat[oa]|opgegeven|zustellung (?:wurde )?eingestellt|не будет (?:повторн|доставлен)|配送を(?:中止|断念)|放弃投递|放棄投遞|(?:har|have) (?:nu )?opgivet|har (?:n[åa] )?gitt opp|har (?:nu )?gett upp|ikke (?:blive )?foretaget flere fors[øo]g|ingen flere fors[øo][gk]|inga fler f[öo]rs[öo]k|δεν θα γ[ιί]νει ν[εέ]α προσπ[αά]θεια|ยุติการส่ง|повторних спроб не буде|ei yritet[äa] uudelleen/i;

// The words as test() reads them: merged behind their common beginnings (alternation.ts), the same matches found
// in about half the time.
const PERMANENT = mergedAlternation(PERMANENT_WORDS);
const TRANSIENT = mergedAlternation(TRANSIENT_WORDS);
const FINAL_NOTICE = mergedAlternation(FINAL_NOTICE_WORDS);
const GAVE_UP = mergedAlternation(GAVE_UP_WORDS);

/**
 * More gave-up words, in Chinese notices (Coremail, NetEase, Sina): "still undelivered after many attempts", "past the
 * longest delivery time (5 days)".
 */
const GAVE_UP_WORDS_CJK =
  /多次(?:尝试|嘗試)(?:投递|投遞|发送|發送)?(?:后|後)(?:仍|依然)?未(?:成功|能(?:投递|投遞|送达|送達))|(?:已)?超(?:过|過)(?:了)?最(?:长|長)(?:的)?(?:投递|投遞|发送|發送|重试|重試)(?:时间|時間|期限)/;

/** Whether the words say the sending MTA gave up (GAVE_UP_WORDS, GAVE_UP_WORDS_CJK). */
const saysGaveUp = (text: string): boolean => GAVE_UP.test(text) || GAVE_UP_WORDS_CJK.test(text);

/**
 * Whether an `expired` failure was given up (true) or is still retried (false), from the notice's words, where they
 * say so (null): gave-up words decide before a will-retry one.
 */
export function givenUpIn(text: string): boolean | null {
  const head = text.length > 4096 ? text.slice(0, 4096) : text;
  if (saysGaveUp(head)) return true;
  if (TRANSIENT.test(head)) return false;
  return null;
}

/** Whether a bounce's text is a final notice (see FINAL_NOTICE_WORDS) that says nothing of a retry. */
export function finalNoticeIn(text: string): boolean {
  const head = text.length > 4096 ? text.slice(0, 4096) : text;
  return FINAL_NOTICE.test(head) && !TRANSIENT.test(head);
}

/** The words read for permanence (checked for linearity beside the rule tables). */
export const PERMANENCE_PATTERNS: readonly RegExp[] = [
  PERMANENT_WORDS,
  TRANSIENT_WORDS,
  FINAL_NOTICE_WORDS,
  GAVE_UP_WORDS,
  GAVE_UP_WORDS_CJK,
];

const NOT_A_FAILURE: ReadonlySet<Reason> = new Set<Reason>(["delivered", "feedback", "vacation"]);
/** Reasons that are permanent by what they say (the address or domain does not exist or has moved). */
const PERMANENT_BY_NATURE: ReadonlySet<Reason> = new Set<Reason>([
  "userunknown",
  "hostunknown",
  "hasmoved",
  "suppressed",
]);

/**
 * Whether one recipient's failure is permanent, from the evidence alone (a status code derived from the reason
 * is not evidence), first that applies:
 *   Action delayed -> transient; for `expired`, words that the message was given up ("gave up", "will not be
 *   retried", "Cannot send message for 5 days", QUEUE.Expired), then Action failed -> permanent (the class stays
 *   soft: the reason decides it); the status class (5/4); the SMTP reply class; the words ("permanent error",
 *   "I've given up" / "will retry", "temporarily", "delayed"); Action failed -> permanent; a reason that is
 *   permanent by nature (userunknown, hostunknown, hasmoved, suppressed) -> permanent; `expired` with nothing said
 *   -> transient; else unknown (null).
 */
export function permanenceOf(
  reason: Reason,
  status: string | undefined,
  smtpCode: number | undefined,
  action: string | undefined,
  diagnostic: string,
  statusComment?: string,
): { permanent: boolean | null; rule?: string } {
  if (NOT_A_FAILURE.has(reason)) return { permanent: null };
  const act = action?.toLowerCase();
  if (act === "delayed") return { permanent: false, rule: "action:delayed" };
  // A message given up after its queue lifetime: the notice's last word decides, before the status class (the last
  // attempt's 4.4.7 or 421 is no promise to retry). Issue 14 §3: "I've given up" is permanent text.
  if (reason === "expired") {
    const said = statusComment ? `${diagnostic} ${statusComment}` : diagnostic;
    if (said && saysGaveUp(said.length > 4096 ? said.slice(0, 4096) : said))
      return { permanent: true, rule: "text:given-up" };
    if (act === "failed") return { permanent: true, rule: "action:failed" };
  }
  // A failure of no known cause that the reporting MTA gave up on (Action failed, Amazon SES's `450 4.0.0`): its
  // 4.x.x is the last attempt's code, not a promise to retry, as for `expired` above (the class stays soft).
  if ((reason === "onhold" || reason === "undefined") && act === "failed" && status?.[0] === "4")
    return { permanent: true, rule: "action:failed" };
  if (status?.[0] === "5") return { permanent: true, rule: "status" };
  if (status?.[0] === "4") return { permanent: false, rule: "status" };
  if (smtpCode !== undefined && smtpCode >= 500 && smtpCode < 600) return { permanent: true, rule: "smtp" };
  if (smtpCode !== undefined && smtpCode >= 400 && smtpCode < 500) return { permanent: false, rule: "smtp" };
  const words = statusComment ? `${diagnostic} ${statusComment}` : diagnostic;
  if (words) {
    const head = words.length > 4096 ? words.slice(0, 4096) : words;
    if (PERMANENT.test(head)) return { permanent: true, rule: "text:permanent" };
    if (TRANSIENT.test(head)) return { permanent: false, rule: "text:transient" };
  }
  if (act === "failed") return { permanent: true, rule: "action:failed" };
  if (PERMANENT_BY_NATURE.has(reason)) return { permanent: true, rule: "reason" };
  // A message given up after its queue lifetime failed for a cause that was transient every time it was tried.
  if (reason === "expired") return { permanent: false, rule: "reason" };
  return { permanent: null };
}
