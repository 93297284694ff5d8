// Amazon SES notifications delivered by mail (SNS e-mail subscriptions): a JSON document, sometimes wrapped in
// the SNS envelope (`"Type" : "Notification"`, the SES event as a JSON string in `Message`).
// Example: {"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General",
//   "bouncedRecipients":[{"emailAddress":"x@y","action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 ..."}]}}
import type { ParsedMail } from "../mail.js";
import type { Reason } from "../report.js";
import { fromOf } from "./engine.js";
import { findSmtpCode, squash } from "./text.js";
import type { ExtractedRecipient, LhostParser } from "./types.js";

const MAX_JSON = 256 * 1024;

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" && v ? v : undefined);

/** bounceSubType values that state the reason by themselves. */
const SUBTYPE_REASON: Record<string, Reason> = {
  NoEmail: "userunknown",
  Suppressed: "suppressed",
  OnAccountSuppressionList: "suppressed",
  MailboxFull: "mailboxfull",
  MessageTooLarge: "emailtoolarge",
  ContentRejected: "contenterror",
  AttachmentRejected: "contenterror",
};

function sesEvent(text: string): Json | undefined {
  const i = text.indexOf("{");
  if (i < 0) return undefined;
  const j = text.lastIndexOf("}");
  if (j <= i || j - i > MAX_JSON) return undefined;
  const body = text.slice(i, j + 1);
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    try {
      doc = JSON.parse(body.replace(/\r?\n|\r/g, "")); // hard-wrapped lines
    } catch {
      return undefined;
    }
  }
  if (!isObj(doc)) return undefined;
  if (typeof doc.Message === "string") {
    try {
      const inner: unknown = JSON.parse(doc.Message);
      if (isObj(inner)) doc = inner;
    } catch {
      return undefined;
    }
  }
  return isObj(doc) ? doc : undefined;
}

function bounces(ev: Json): ExtractedRecipient[] {
  const b = isObj(ev.bounce) ? ev.bounce : {};
  const list = Array.isArray(b.bouncedRecipients) ? b.bouncedRecipients : [];
  const subtype = str(b.bounceSubType) ?? "";
  const fixed = SUBTYPE_REASON[subtype];
  const out: ExtractedRecipient[] = [];
  for (const r of list) {
    if (!isObj(r)) continue;
    const addr = str(r.emailAddress);
    if (!addr) continue;
    const diag = squash((str(r.diagnosticCode) ?? "").replace(/^smtp;\s*/i, ""));
    const e: ExtractedRecipient = { recipient: addr.toLowerCase(), action: str(r.action) ?? "failed" };
    if (diag) e.diagnostic = diag;
    const status = str(r.status);
    if (status && /^[245]\.\d{1,3}\.\d{1,3}$/.test(status)) e.status = status;
    const code = findSmtpCode(diag);
    if (code) e.smtpCode = code;
    const mta = str(b.reportingMTA);
    if (mta) e.remoteMta = mta.replace(/^dns;\s*/i, "");
    if (fixed) {
      e.reason = fixed;
      e.rule = `amazonses.subtype-${subtype}`;
    }
    out.push(e);
  }
  return out;
}

function complaints(ev: Json): ExtractedRecipient[] {
  const c = isObj(ev.complaint) ? ev.complaint : {};
  const list = Array.isArray(c.complainedRecipients) ? c.complainedRecipients : [];
  const type = str(c.complaintFeedbackType) ?? "abuse";
  return list
    .filter(isObj)
    .map((r) => str(r.emailAddress))
    .filter((a): a is string => !!a)
    .map((a) => ({
      recipient: a.toLowerCase(),
      reason: "feedback",
      rule: "amazonses.complaint",
      diagnostic: type,
    }));
}

function deliveries(ev: Json): ExtractedRecipient[] {
  const d = isObj(ev.delivery) ? ev.delivery : {};
  const list = Array.isArray(d.recipients) ? d.recipients : [];
  const resp = str(d.smtpResponse);
  return list
    .map((a) => str(a))
    .filter((a): a is string => !!a)
    .map((a) => {
      const e: ExtractedRecipient = {
        recipient: a.toLowerCase(),
        reason: "delivered",
        rule: "amazonses.delivery",
        action: "delivered",
      };
      if (resp) e.diagnostic = resp;
      const code = resp ? findSmtpCode(resp) : undefined;
      if (code) e.smtpCode = code;
      return e;
    });
}

export const amazonSesJson: LhostParser = {
  id: "amazonses",
  detect: (m: ParsedMail) =>
    /amazonaws\.com|amazonses\.com/i.test(fromOf(m)) &&
    /notificationType|"Type"\s*:\s*"Notification"/.test((m.text ?? "").slice(0, 4096)),
  extract: (m: ParsedMail) => {
    const ev = sesEvent(m.text ?? "");
    if (!ev) return null;
    const type = str(ev.notificationType) ?? str(ev.eventType);
    const out =
      type === "Bounce"
        ? bounces(ev)
        : type === "Complaint"
          ? complaints(ev)
          : type === "Delivery"
            ? deliveries(ev)
            : [];
    return out.length > 0 ? out : null;
  },
};
