// classify(raw): Report — from a raw mail to one explained reason per recipient. Pure: no I/O, no clock, no logger.
//
//   parse -> complaint? -> auto-reply? -> delivery-status -> non-standard (lhost) extractors -> reason per
//   recipient -> class
//
// Each step is a named function; the first that recognises the mail returns. Nothing throws out of classify():
// an internal error yields kind `unparsable` with the error.
import { readAbuseDeskComplaint } from "./abuse-desk.js";
import { readAggregateReport, type AggregateResult } from "./aggregate-reports.js";
import { readComplaint, type Complaint } from "./arf.js";
import { readAutoReply, type AutoReply } from "./autoreply.js";
import {
  addressOf,
  parseDeliveryStatus,
  STANDARD_RECIPIENT_FIELDS,
  type DeliveryStatus,
  type DsnRecipientBlock,
} from "./dsn.js";
import { lhostParsers } from "./lhost/index.js";
import { headerAddress } from "./lhost/text.js";
import type { ExtractedRecipient } from "./lhost/types.js";
import type { MailPart, ParsedMail } from "./mail.js";
import { enclosedMessages, isCalendarMail, onlySelfAddressed } from "./lookalike.js";
import { readRefusalMdn, type RefusalMdn } from "./mdn.js";
import { enclosedMessage, mailOf, parseMail } from "./mime.js";
import { readOriginal } from "./original.js";
import {
  commandInText,
  decideReason,
  finalNoticeIn,
  givenUpIn,
  permanenceOf,
  subjectReasonOf,
  type Evidence,
} from "./reason.js";
import { classOf, type MailKind, type Recipient, type Report } from "./report.js";

/** Bumped whenever rules or parsers change what classify() says; stored with every event. */
export const CLASSIFIER_VERSION = "1.14.0";

/** Most recipients reported for one mail. */
const MAX_RECIPIENTS = 1000;

export function classify(raw: Buffer | string): Report {
  let mail: ParsedMail;
  try {
    mail = parseMail(raw);
  } catch (err) {
    return unparsable(err);
  }
  try {
    return classifyMail(mail);
  } catch (err) {
    return unparsable(err, mail);
  }
}

/** The steps, on a parsed mail. */
export function classifyMail(mail: ParsedMail): Report {
  const report = classifyOne(mail);
  if (report.kind !== "not_a_report") return report;
  // A bounce forwarded by a gateway: the report is the enclosed message.
  const inner = enclosedMessage(mail);
  if (inner && isReportLike(inner)) {
    const enclosed = classifyOne(mailOf(inner));
    if (enclosed.kind === "bounce" || enclosed.kind === "delivery") {
      const { original: _outerOriginal, ...outer } = reportBase(mail);
      const batch = batchedAfter(mail, inner, enclosed.recipients);
      if (batch)
        return {
          ...enclosed,
          ...outer,
          kind: kindOf(batch),
          recipients: batch,
          source: enclosed.source ?? "forwarded",
        };
      return { ...enclosed, ...outer, source: enclosed.source ?? "forwarded" };
    }
  }
  return report;
}

/**
 * A gateway's batch of notices (a multipart/digest of DSNs, one enclosed message each): the recipients of every
 * enclosed notice after the first, appended in order to the first's. Undefined when the first is alone.
 */
function batchedAfter(
  mail: ParsedMail,
  first: MailPart,
  firstRecipients: Recipient[],
): Recipient[] | undefined {
  const all = enclosedMessages(mail);
  if (all.length < 2 || all[0] !== first) return undefined;
  const out = [...firstRecipients];
  const seen = new Set(out.map((r) => r.recipient.toLowerCase()));
  for (const p of all.slice(1)) {
    if (!isReportLike(p)) continue;
    const next = classifyOne(mailOf(p));
    if (next.kind !== "bounce" && next.kind !== "delivery") continue;
    for (const r of next.recipients) {
      const key = r.recipient.toLowerCase();
      if (seen.has(key) || out.length >= MAX_RECIPIENTS) continue;
      seen.add(key);
      out.push(r);
    }
  }
  return out.length > firstRecipients.length ? out : undefined;
}

function isReportLike(p: MailPart): boolean {
  return (
    p.contentType === "multipart/report" || /mailer-daemon|postmaster/i.test(p.headers.get("from") ?? "")
  );
}

function classifyOne(mail: ParsedMail): Report {
  const base = reportBase(mail);

  if (mail.reportType !== "delivery-status" && mail.reportType !== "feedback-report") {
    const aggregate = readAggregateReport(mail);
    if (aggregate) return aggregateReport(base, aggregate);
  }

  const complaint = readComplaint(mail) ?? readAbuseDeskComplaint(mail);
  if (complaint) return complaintReport(base, complaint);

  const refusal = readRefusalMdn(mail);
  if (refusal) return refusalReport(base, refusal);

  const dsn = readDeliveryStatus(mail);
  if (!dsn) {
    const auto = readAutoReply(mail);
    if (auto) return autoReplyReport(base, auto);
  }

  // A person's reply that quotes a bounce (`Re: Undelivered Mail Returned to Sender`, `> 550 5.1.1 ...`): the
  // bounce it quotes was reported when it came; the reply itself reports nothing.
  if (!dsn && isPersonsReplyQuoting(mail)) return completed(base, "not_a_report", []);
  // A list's or a newsletter's article that quotes a bounce (`Final-Recipient: ...`, `----- The following addresses
  // had permanent fatal errors -----`) to explain it: no report of its own.
  if (!dsn && isListArticle(mail)) return completed(base, "not_a_report", []);

  // A meeting invitation, whatever its summary says of bounces.
  if (!dsn && isCalendarMail(mail)) return completed(base, "not_a_report", []);

  const lhost = runExtractors(mail, dsn);
  const said = subjectReasonOf(base.subject);
  const recipients = dsn
    ? fromDeliveryStatus(dsn, lhost, mail.text, said, noticeHostOf(mail))
    : fromExtractors(lhost, mail.text, said);
  if (recipients.length === 0) return completed(base, "not_a_report", []);
  // A look-alike that names only its own addressee as failed, with nothing returned: no bounce.
  if (
    !dsn &&
    onlySelfAddressed(
      mail,
      recipients.map((r) => r.recipient),
    )
  )
    return completed(base, "not_a_report", []);

  const report = completed(base, kindOf(recipients), recipients);
  if (dsn && hasFields(dsn.messageFields)) report.reportFields = dsn.messageFields;
  const source = lhost?.id ?? (dsn ? "rfc3464" : undefined);
  if (source) report.source = source;
  return report;
}

/** A reply's subject prefix, in the usual languages (`Re:`, `AW:`, `SV:`, `Antw:`, `Odp:`, `R:`, `回复:`). */
const REPLY_SUBJECT =
  /^\s*(?:re|aw|sv|vs|antw|odp|rif|res|r|ответ|回复|回覆|답장)(?:\s*\[\d{1,3}\])?\s*[:：]/i;
/** A mail system's own sender (a daemon, the postmaster, a list manager): its mail is no person's reply. */
const SYSTEM_SENDER =
  /mailer-daemon|postmaster|post_master|mail ?delivery|mail system|mailer|daemon|listserv|majordomo|mailman|bounce|no-?reply/i;

/**
 * A person's reply that quotes a mail (a bounce, typically): a reply subject with In-Reply-To or References, from no
 * mail system, whose text quotes at least three lines (`> ...`) below words of its own.
 */
function isPersonsReplyQuoting(mail: ParsedMail): boolean {
  const h = mail.headers;
  if (!REPLY_SUBJECT.test(h.get("subject") ?? "")) return false;
  if (h.get("in-reply-to") === undefined && h.get("references") === undefined) return false;
  if (SYSTEM_SENDER.test(h.get("from") ?? "")) return false;
  const text = mail.text ?? "";
  let quoted = 0;
  for (let i = text.indexOf("\n>"); i >= 0 && quoted < 3; i = text.indexOf("\n>", i + 2)) quoted++;
  if (quoted < 3) return false;
  // words of its own above the quote
  const firstQuote = text.indexOf("\n>");
  return /\S/.test(text.slice(0, firstQuote)) && !text.trimStart().startsWith(">");
}

/**
 * A mailing list's or a newsletter's mail (RFC 2369 List-Unsubscribe) from no mail system, with no report part and
 * no returned original: whatever bounce it quotes, it is an article.
 */
function isListArticle(mail: ParsedMail): boolean {
  const h = mail.headers;
  return (
    h.get("list-unsubscribe") !== undefined &&
    mail.statusText === undefined &&
    mail.originalHeaders === undefined &&
    !DAEMON_MAILBOX.test(headerAddress(h.get("from")) ?? "")
  );
}

/** The sender address of a mail system's own notices (its local part: the daemon, the postmaster). */
const DAEMON_MAILBOX = /^(?:mailer-daemon|postmaster|mail-?daemon|mailer|mdaemon|mail-?delivery)@/i;

/** The host of the notice's From when that is a mail system's own address (`MAILER-DAEMON@messagelabs.com`). */
function noticeHostOf(mail: ParsedMail): string | undefined {
  const from = headerAddress(mail.headers.get("from")) ?? "";
  if (!DAEMON_MAILBOX.test(from)) return undefined;
  const host = from.slice(from.lastIndexOf("@") + 1);
  return host || undefined;
}

type Base = Omit<Report, "kind" | "recipients">;

/**
 * `base` made a report, in place: a base is built for one report only, and copying it with a spread (its shape
 * differs from mail to mail) was among the costliest lines of classify().
 */
function completed(base: Base, kind: MailKind, recipients: Recipient[]): Report {
  const report = base as Report;
  report.kind = kind;
  report.recipients = recipients;
  return report;
}

function hasFields(fields: Record<string, string>): boolean {
  for (const _ in fields) return true;
  return false;
}

/** A report whose recipients all say delivered (or all complain, or all are away) is that kind; else a bounce. */
function kindOf(recipients: Recipient[]): MailKind {
  if (recipients.every((r) => r.reason === "delivered")) return "delivery";
  if (recipients.every((r) => r.reason === "feedback")) return "complaint";
  if (recipients.every((r) => r.reason === "vacation")) return "auto_reply";
  return "bounce";
}

function reportBase(mail: ParsedMail): Base {
  const h = mail.headers;
  const base: Base = { original: readOriginal(mail.originalHeaders) };
  const messageId = h.get("message-id");
  if (messageId) base.messageId = messageId;
  const from = h.get("from");
  if (from) base.from = from;
  const subject = h.get("subject");
  if (subject) base.subject = subject;
  const date = h.get("date");
  if (date) base.date = date;
  return base;
}

function unparsable(err: unknown, mail?: ParsedMail): Report {
  const base = mail ? safeBase(mail) : { original: { headers: {} } };
  return {
    ...base,
    kind: "unparsable",
    recipients: [],
    error: err instanceof Error ? err.message : String(err),
  };
}

function safeBase(mail: ParsedMail): Base {
  try {
    return reportBase(mail);
  } catch {
    return { original: { headers: {} } };
  }
}

// --- complaints -------------------------------------------------------------------------------------------

function complaintReport(base: Base, c: Complaint): Report {
  const auth = authFields(c.arf);
  const recipients: Recipient[] = c.recipients.slice(0, MAX_RECIPIENTS).map((address) => ({
    recipient: lowerDomain(address),
    reason: "feedback",
    class: "complaint",
    permanent: null,
    ...(c.arf.feedbackType ? { feedbackType: c.arf.feedbackType } : {}),
    ...(c.diagnostic ? { diagnostic: c.diagnostic.slice(0, 1000) } : {}),
    rule: c.rule,
    parser: "arf",
    ...(auth ? { fields: { ...auth } } : {}),
  }));
  const report = completed(base, "complaint", recipients);
  report.arf = c.arf;
  report.source = c.rule.split(".").slice(0, 2).join(".");
  return report;
}

/**
 * An authentication failure report's details as per-recipient fields (RFC 6591 names, lower-cased): what failed,
 * for which sending domain and IP. The policy records these reports and never suppresses on them.
 */
function authFields(arf: Complaint["arf"]): Record<string, string> | undefined {
  const a = arf.authentication;
  if (!a) return undefined;
  const out: Record<string, string> = {};
  const put = (k: string, v: string | undefined) => {
    if (v) out[k] = v;
  };
  put("auth-failure", a.failure);
  put("delivery-result", a.deliveryResult);
  put("identity-alignment", a.identityAlignment);
  put("dkim-domain", a.dkimDomain);
  put("dkim-identity", a.dkimIdentity);
  put("dkim-selector", a.dkimSelector);
  put("spf-dns", a.spfDns);
  put("dmarc", a.dmarc);
  put("spf", a.spf);
  put("dkim", a.dkim);
  put("source-ip", arf.sourceIp);
  put("reported-domain", arf.reportedDomain?.join(", "));
  put("original-mail-from", arf.originalMailFrom);
  return out;
}

// --- refusals sent as MDNs (Sieve reject) ---------------------------------------------------------------------

/** The recipient's own filter refused the message (filtered) and deleted it: no MTA will try it again (permanent). */
function refusalReport(base: Base, m: RefusalMdn): Report {
  const recipient: Recipient = {
    recipient: lowerDomain(m.recipient),
    reason: "filtered",
    class: classOf("filtered", undefined, undefined, true),
    permanent: true,
    rule: "mdn.disposition:automatic-deleted",
    parser: "dsn",
  };
  if (m.diagnostic) recipient.diagnostic = m.diagnostic;
  const report = completed(base, "bounce", [recipient]);
  report.source = "rfc5429";
  return report;
}

// --- DMARC aggregate and SMTP TLS reports -----------------------------------------------------------------

/** A DMARC aggregate or TLS report: no recipient (it speaks of the sender's traffic), its data or why it was refused. */
function aggregateReport(base: Base, a: AggregateResult): Report {
  const report = completed(base, a.kind, []);
  report.source = a.rule;
  if ("error" in a) report.error = a.error;
  else if ("dmarc" in a) report.dmarc = a.dmarc;
  else report.tlsReport = a.tlsReport;
  return report;
}

// --- auto-replies -----------------------------------------------------------------------------------------

function autoReplyReport(base: Base, a: AutoReply): Report {
  const recipient: Recipient = {
    recipient: lowerDomain(a.recipient),
    reason: a.reason,
    class: classOf(a.reason),
    permanent: permanenceOf(a.reason, undefined, undefined, undefined, "").permanent,
    rule: a.rule,
    parser: "autoreply",
    ...(a.diagnostic ? { diagnostic: a.diagnostic } : {}),
  };
  const report = completed(base, "auto_reply", [recipient]);
  report.source = "rfc3834";
  return report;
}

// --- delivery-status --------------------------------------------------------------------------------------

/** The delivery-status part, when it names at least one recipient. */
function readDeliveryStatus(mail: ParsedMail): DeliveryStatus | undefined {
  if (
    mail.statusText === undefined ||
    mail.reportType === "feedback-report" ||
    mail.reportType === "disposition-notification"
  )
    return undefined;
  const dsn = parseDeliveryStatus(mail.statusText);
  if (dsn.recipients.some((r) => r.recipient)) return dsn;
  // One per-recipient block with no recipient field at all (`Action: failed`, `Status: 5.1.1` only): the recipient
  // is the returned original's one To address, when the original names one and is no bounce itself.
  const only = dsn.recipients.length === 1 ? dsn.recipients[0] : undefined;
  if (!only?.action || !/^(?:failed|delayed)$/i.test(only.action)) return undefined;
  // (a recipient field that names no address, `Final-Recipient: rfc822;/var/spool/...`, is left to the extractors)
  const f = only.fields;
  if (f["final-recipient"] ?? f["original-recipient"] ?? f["x-actual-recipient"]) return undefined;
  if (mail.headers.get("x-failed-recipients") !== undefined) return undefined;
  const to = mail.originalHeaders?.get("to");
  const from = mail.originalHeaders?.get("from") ?? "";
  if (!to || to.split("@").length !== 2 || /mailer-daemon|postmaster/i.test(from)) return undefined;
  const address = headerAddress(to);
  if (!address) return undefined;
  only.recipient = address;
  return dsn;
}

function fromDeliveryStatus(
  dsn: DeliveryStatus,
  lhost: Extracted | undefined,
  text: string,
  subjectReason?: string,
  noticeHost?: string,
): Recipient[] {
  const out: Recipient[] = [];
  const seen = new Set<string>();
  // The notice's own words that the message was given up: read once, when a failed recipient's decision is not
  // permanent (the one case they change, reason.ts `gaveUp`)
  let gaveUp: boolean | undefined;
  const givenUp = (): boolean => (gaveUp ??= givenUpIn(text) === true);
  for (const block of dsn.recipients) {
    if (!block.recipient || out.length >= MAX_RECIPIENTS) continue;
    const key = block.recipient.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    const extra =
      lhost?.recipients.find((x) => x.recipient.toLowerCase() === key) ??
      (dsn.recipients.length === 1 && lhost?.recipients.length === 1 ? lhost.recipients[0] : undefined);
    out.push(
      dsnRecipient(
        block,
        dsn,
        extra,
        extra?.command ?? commandNear(text, block.recipient),
        subjectReason,
        givenUp,
        noticeHost,
      ),
    );
  }
  return out;
}

function dsnRecipient(
  block: DsnRecipientBlock,
  dsn: DeliveryStatus,
  extra: ExtractedRecipient | undefined,
  command: string | undefined,
  subjectReason?: string,
  givenUp?: () => boolean,
  noticeHost?: string,
): Recipient {
  const diagnostic = block.diagnostic ?? extra?.diagnostic;
  // Filled field by field rather than from conditional spreads: each spread is a temporary object.
  const evidence: Evidence = {};
  if (block.status) {
    evidence.status = block.status;
    evidence.statusSource = "dsn";
    if (block.statusComment) evidence.statusComment = block.statusComment;
  } else if (extra?.status) {
    evidence.status = extra.status;
    evidence.statusSource = "lhost";
  }
  if (diagnostic) evidence.diagnostic = diagnostic;
  if (block.diagnostic && block.diagnosticType) evidence.diagnosticType = block.diagnosticType;
  const action = block.action || extra?.action;
  if (action) evidence.action = action;
  if (extra?.smtpCode && !block.diagnostic) evidence.smtpCode = extra.smtpCode;
  if (extra?.reason) {
    evidence.reason = extra.reason;
    evidence.rule = `lhost:${extra.rule ?? "extractor"}`;
  }
  if (command) evidence.command = command;
  // The human text's words around the recipient, for a report that gives no diagnostic of its own
  if (!diagnostic && extra?.context) evidence.context = extra.context;
  const remoteMta = block.remoteMta ?? extra?.remoteMta;
  if (remoteMta) evidence.remoteMta = remoteMta;
  if (dsn.reportingMta) evidence.reportingMta = dsn.reportingMta;
  if (noticeHost) evidence.noticeHost = noticeHost;
  const domain = domainOf(block.recipient!);
  if (domain) evidence.recipientDomain = domain;
  if (subjectReason) evidence.subjectReason = subjectReason;
  let d = decideReason(evidence);
  // A failed recipient given up by the notice's words: decided again with them, read only when they can change the
  // decision (a failure not permanent by its evidence).
  if (d.permanent === false && block.action?.toLowerCase() === "failed" && givenUp?.()) {
    evidence.gaveUp = true;
    d = decideReason(evidence);
  }
  let fields: Record<string, string> | undefined;
  for (const k in block.fields) if (!STANDARD_RECIPIENT_FIELDS.has(k)) (fields ??= {})[k] = block.fields[k]!;
  const r: Recipient = {
    recipient: lowerDomain(block.recipient!),
    reason: d.reason,
    class: classOf(d.reason, d.status, d.smtpCode, d.permanent),
    permanent: d.permanent,
    rule: d.rule,
    parser: "dsn",
  };
  if (block.originalRecipient && block.originalRecipient.toLowerCase() !== block.recipient!.toLowerCase())
    r.originalRecipient = block.originalRecipient;
  if (d.status) r.status = d.status;
  if (d.smtpCode !== undefined) r.smtpCode = d.smtpCode;
  if (block.action) r.action = block.action;
  if (diagnostic) r.diagnostic = diagnostic;
  const remote = block.remoteMta ?? extra?.remoteMta;
  if (remote) r.remoteMta = remote;
  if (dsn.reportingMta) r.reportingMta = dsn.reportingMta;
  if (command) r.command = command;
  if (block.lastAttemptDate) r.lastAttemptDate = block.lastAttemptDate;
  if (block.willRetryUntil) r.willRetryUntil = block.willRetryUntil;
  if (fields) r.fields = fields;
  return r;
}

/**
 * The SMTP command a recipient's failure answered, from the bounce's human text: the last `>>> CMD` transcript
 * line before the address, else an `in reply to ... command` just after it.
 */
function commandNear(text: string, recipient: string): string | undefined {
  if (!text) return undefined;
  // A transcript line that names the recipient itself (`>>> RCPT TO:<addr>`), wherever the address came first
  // (Sendmail-style notices list the addresses above the transcript).
  const rcpt = lowerHead(text).indexOf(`rcpt to:<${recipient.toLowerCase()}>`);
  if (rcpt > 0 && /^[\t ]*>>> ?$/m.test(lowerHead(text).slice(Math.max(0, rcpt - 8), rcpt))) return "RCPT";
  let at = text.indexOf(recipient);
  if (at < 0) at = lowerHead(text).indexOf(recipient.toLowerCase());
  if (at < 0) return undefined;
  const before = text.slice(Math.max(0, at - 600), at);
  const transcript = before.includes(">>>")
    ? [...before.matchAll(/^[\t ]*>>>\s*(RCPT TO|MAIL FROM|DATA)\b/gim)].pop()
    : undefined;
  if (transcript) return commandInText(transcript[0]);
  const after = text.slice(at, at + 400);
  const replied = commandInText(after.match(/^[^]*?in reply to[^]*?command/i)?.[0]);
  if (replied) return replied;
  // Exim: `SMTP error from remote mail server after EHLO host:` (or RCPT TO, MAIL FROM, end of data)
  const exim = EXIM_AFTER.exec(after)?.[1]?.toUpperCase();
  if (!exim) return undefined;
  return exim.startsWith("RCPT")
    ? "RCPT"
    : exim.startsWith("MAIL")
      ? "MAIL"
      : exim.endsWith("DATA")
        ? "DATA"
        : "HELO";
}

const EXIM_AFTER =
  /SMTP error from remote (?:mail server|mailer) after (RCPT TO|MAIL FROM|EHLO|HELO|end of data|DATA)\b/i;

let lastText = "";
let lastLower = "";

/** The first 64 KiB of the text, lower-cased once for all the recipients of a mail. */
function lowerHead(text: string): string {
  if (text !== lastText) {
    lastText = text;
    lastLower = text.slice(0, 65536).toLowerCase();
  }
  return lastLower;
}

// --- non-standard bounces ---------------------------------------------------------------------------------

interface Extracted {
  id: string;
  recipients: ExtractedRecipient[];
  /** Each recipient's address (its recipient field read by addressOf), in the same order. */
  addresses: string[];
}

/** The first extractor that recognises the mail and finds recipients. */
function runExtractors(mail: ParsedMail, dsn: DeliveryStatus | undefined): Extracted | undefined {
  // A complete delivery-status (every recipient with its diagnostic) needs no help.
  // (A family whose own words decide beside it is still read: `overDsn`.)
  const complete = dsn !== undefined && dsn.recipients.every((b) => !b.recipient || b.diagnostic);
  for (const p of lhostParsers) {
    if (complete && !p.overDsn) continue;
    let found: ExtractedRecipient[] | null = null;
    try {
      if (!p.detect(mail)) continue;
      found = p.extract(mail);
    } catch {
      continue;
    }
    const recipients: ExtractedRecipient[] = [];
    const addresses: string[] = [];
    for (const r of found ?? []) {
      const address = addressOf(r.recipient);
      if (!address) continue;
      recipients.push(r);
      addresses.push(address);
    }
    if (recipients.length) return { id: p.id, recipients, addresses };
  }
  return undefined;
}

/** The evidence that settles an expiry's permanence by itself: its Action, or its own gave-up words. */
const SETTLED_EXPIRY: ReadonlySet<string> = new Set(["action:delayed", "action:failed", "text:given-up"]);

function fromExtractors(lhost: Extracted | undefined, text: string, subjectReason?: string): Recipient[] {
  if (!lhost) return [];
  // The bounce's own words on permanence ("this is a permanent error", "will retry"), for recipients whose
  // evidence says nothing of it: read once, when first needed.
  let textPermanence: boolean | null | undefined;
  let finalNotice: boolean | undefined;
  let givenUp: boolean | null | undefined;
  const out: Recipient[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < lhost.recipients.length; i++) {
    const x = lhost.recipients[i]!;
    const address = lhost.addresses[i]!;
    const key = address.toLowerCase();
    if (seen.has(key) || out.length >= MAX_RECIPIENTS) continue;
    seen.add(key);
    // Filled field by field rather than from conditional spreads: each spread is a temporary object.
    const evidence: Evidence = {};
    if (x.status) {
      evidence.status = x.status;
      evidence.statusSource = "lhost";
    }
    if (x.smtpCode !== undefined) evidence.smtpCode = x.smtpCode;
    if (x.diagnostic) evidence.diagnostic = x.diagnostic;
    if (x.action) evidence.action = x.action;
    if (x.command) evidence.command = x.command;
    if (lhost.id === "general") evidence.freeText = true;
    if (x.remoteMta) evidence.remoteMta = x.remoteMta;
    const domain = domainOf(address);
    if (domain) evidence.recipientDomain = domain;
    if (subjectReason) evidence.subjectReason = subjectReason;
    if (x.reason) {
      evidence.reason = x.reason;
      evidence.rule = `lhost:${x.rule ?? lhost.id}`;
    }
    if (x.context) evidence.context = x.context;
    const d = decideReason(evidence);
    let permanent = d.permanent;
    // The bounce's own words on permanence, where the evidence says nothing of it or only the reason's nature does
    // ("expired" is transient by nature, but "I've given up" is the sending MTA's last word).
    if (
      (permanent === null || d.permanentRule === "reason") &&
      d.reason !== "delivered" &&
      d.reason !== "feedback"
    ) {
      textPermanence ??= permanenceOf(
        "undefined",
        undefined,
        undefined,
        undefined,
        text.slice(0, 4096),
      ).permanent;
      if (textPermanence !== null) permanent = textPermanence;
      // A final notice ("could not be delivered") with no reason known and no word of a retry: permanent.
      else if (permanent === null && (d.reason === "undefined" || d.reason === "onhold"))
        if ((finalNotice ??= finalNoticeIn(text))) permanent = true;
    }
    // A message given up after its queue lifetime: the notice's own last word ("Giving up.", "Message will be deleted
    // from queue", "will keep trying"), where the recipient's evidence did not settle it by an Action or its words.
    if (d.reason === "expired" && !SETTLED_EXPIRY.has(d.permanentRule ?? "")) {
      givenUp ??= givenUpIn(text);
      if (givenUp !== null) permanent = givenUp;
    }
    const r: Recipient = {
      recipient: lowerDomain(address),
      reason: d.reason,
      class: classOf(d.reason, d.status, d.smtpCode, permanent),
      permanent,
      rule: d.rule,
      parser: "text",
    };
    if (d.status) r.status = d.status;
    if (d.smtpCode !== undefined) r.smtpCode = d.smtpCode;
    if (x.action) r.action = x.action;
    if (x.diagnostic) r.diagnostic = x.diagnostic;
    if (x.remoteMta) r.remoteMta = x.remoteMta;
    if (x.command) r.command = x.command;
    if (x.originalRecipient && x.originalRecipient.toLowerCase() !== key)
      r.originalRecipient = x.originalRecipient;
    out.push(r);
  }
  return out;
}

/** The domain of an address (`a@b.example` -> `b.example`), where it has one. */
function domainOf(address: string): string | undefined {
  const at = address.lastIndexOf("@");
  return at < 0 || at === address.length - 1 ? undefined : address.slice(at + 1).replace(/>$/, "");
}

function lowerDomain(address: string): string {
  const at = address.lastIndexOf("@");
  return at < 0 ? address : address.slice(0, at) + address.slice(at).toLowerCase();
}
