// RFC 3834 auto-replies and their non-standard kin: vacation and out-of-office replies. Never a bounce.
// Auto-Submitted: auto-generated (what DSNs carry) is NOT an auto-reply.
import { BOUNCE_SUBJECT as NOTICE_SUBJECT } from "./lhost/general.js";
import { addressOf } from "./dsn.js";
import type { ParsedMail } from "./mail.js";
import type { Reason } from "./report.js";

export interface AutoReply {
  /** The address that replied (whose owner is away). */
  recipient: string;
  reason: Reason;
  /** Which evidence said so: `autoreply.auto-submitted`, `autoreply.subject`, ... */
  rule: string;
  diagnostic?: string;
}

interface Signal {
  id: string;
  test: (mail: ParsedMail) => boolean;
  example: string;
}

const header = (mail: ParsedMail, name: string): string => mail.headers.get(name) ?? "";

/** Header evidence, strongest first. Each has an id (the rule) and an example beside it. */
const HEADER_SIGNALS: Signal[] = [
  {
    id: "autoreply.auto-submitted",
    example: "Auto-Submitted: auto-replied",
    test: (m) => /^\s*auto-replied/i.test(header(m, "auto-submitted")),
  },
  {
    id: "autoreply.x-autoreply",
    example: "X-Autoreply: yes",
    test: (m) =>
      /^(?:yes|true|1)?$/i.test(header(m, "x-autoreply").trim()) &&
      m.headers.get("x-autoreply") !== undefined,
  },
  {
    id: "autoreply.x-autorespond",
    example: "X-Autorespond: vacation",
    test: (m) =>
      m.headers.get("x-autorespond") !== undefined || m.headers.get("x-autoresponder") !== undefined,
  },
  {
    id: "autoreply.precedence",
    example: "Precedence: auto_reply",
    test: (m) =>
      /^\s*auto[_-]reply/i.test(header(m, "precedence")) ||
      /^\s*auto[_-]reply/i.test(header(m, "x-precedence")),
  },
  {
    id: "autoreply.x-mailer",
    example: "X-Mailer: vacation",
    test: (m) => /^\s*(vacation|autoresponder)\b/i.test(header(m, "x-mailer")),
  },
  {
    id: "autoreply.x-post-messageclass",
    example: "X-POST-MessageClass: 9; Autoresponder",
    test: (m) => /autoresponder/i.test(header(m, "x-post-messageclass")),
  },
  {
    id: "autoreply.x-auto-response",
    example: "X-Auto-Response: out-of-office",
    test: (m) => /out[- ]of[- ]office|vacation|auto/i.test(header(m, "x-auto-response")),
  },
];

/** Subjects of vacation / out-of-office replies in the common languages. */
export const VACATION_SUBJECT =
  /^\s*(?:\[[^\]]*\]\s*)?(?:auto(?:matic|matische|matisk|matico|mated)?[ _-]?(?:reply|response|respons|answer|antwort|svar|risposta|respuesta)|auto[- ]?reply|autoreply|autoresponder|out[- ]of[- ](?:the[- ])?office|ooo\b|on vacation|vacation(?: reply| notice| message)?\b|away from (?:the |my )?office|i am (?:currently )?(?:away|out)|abwesenheit|abwesenheitsnotiz|automatische antwort|r[ée]ponse automatique|absence du bureau|absent(?:e)? du bureau|respuesta autom[aá]tica|fuera de la oficina|risposta automatica|fuori (?:sede|ufficio)|abwesend|en vacances|en cong[ée]|de vacaciones|automatisch antwoord|afwezig|resposta autom[aá]tica|ausente|automatisk svar|autosvar|fr[aå]nvarande|automaattinen vastaus|odpowied[zź] automatyczna|nieobecno[sś][cć]|automatick[aá] odpov[eě][dď]|автоответ|автоматический ответ|不在|自動応答|自動返信|自动回复|自動回覆|부재|자동 ?응답)/i;

/** Subjects or texts that say the "auto-reply" is in fact a bounce (some MTAs mark bounces auto-replied). */
const BOUNCE_SUBJECT =
  /undeliver|undelivered|delivery (?:status|failure|has failed|notification)|returned mail|mail delivery|failure notice|bounce|rejected|non[- ]?delivery|could not be delivered|nicht zustellbar|unzustellbar|message not delivered|permanent error|(?:authori[sz]ation|permission|posting) denied|not distributed|could not be forwarded|forwarding (?:has )?failed/i;

/** Auto-replies that in fact say the address is gone (no longer in use): a different reason than vacation. */
const GONE_TEXT: { id: string; reason: Reason; pattern: RegExp; example: string }[] = [
  {
    id: "autoreply.no-longer-in-use",
    reason: "suspend",
    pattern:
      /\b(?:inbox|mailbox|e-?mail(?: address| account)?|address|account)\b[^\n]{0,80}?\bis no longer (?:in use|active|monitored|being monitored)\b/i,
    example: "This email inbox kijitora@example.com is no longer in use.",
  },
];

/** Is this mail an auto-reply? Call only for mails that are not DSNs or feedback reports. */
export function readAutoReply(mail: ParsedMail): AutoReply | undefined {
  const subject = header(mail, "subject");
  let rule = HEADER_SIGNALS.find((s) => s.test(mail))?.id;
  if (!rule && VACATION_SUBJECT.test(subject)) rule = "autoreply.subject";
  if (!rule) return undefined;
  if (BOUNCE_SUBJECT.test(subject)) return undefined;
  const from = header(mail, "from");
  if (/mailer-daemon|postmaster@/i.test(from) && !/^autoreply\.(auto-submitted|subject)$/.test(rule))
    return undefined;
  // The postmaster's notice marked auto-replied (RFC 3834), under a subject of failure in another language
  if (/postmaster@/i.test(from) && NOTICE_SUBJECT.test(subject) && !VACATION_SUBJECT.test(subject))
    return undefined;
  if (/mailer-daemon/i.test(from)) return undefined;
  const recipient =
    addressOf(header(mail, "reply-to") && !addressOf(from) ? header(mail, "reply-to") : from) ??
    addressOf(header(mail, "sender")) ??
    addressOf(header(mail, "return-path"));
  if (!recipient) return undefined;
  const text = mail.text.slice(0, 4000);
  const diagnostic = text.replace(/\s+/g, " ").trim().slice(0, 500) || undefined;
  const gone = GONE_TEXT.find((g) => g.pattern.test(text));
  if (gone) return { recipient, reason: gone.reason, rule: gone.id, ...(diagnostic ? { diagnostic } : {}) };
  return { recipient, reason: "vacation", rule, ...(diagnostic ? { diagnostic } : {}) };
}
