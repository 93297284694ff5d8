// RFC 5965 / RFC 6591 feedback reports, and the non-standard complaint formats providers still send
// (Microsoft JMRP with X-HmXmrOriginalRecipient, Apple Mail's one-click unsubscribe, ARF without report-type).
import { addressOf } from "./dsn.js";
import type { Headers, ParsedMail } from "./mail.js";
import type { ArfFields, AuthFailureFields } from "./report.js";

export interface Complaint {
  arf: ArfFields;
  /** The complaining recipients (Original-Rcpt-To, else the original's To, else a VERP address). */
  recipients: string[];
  /** Where the recipients came from: `arf.original-rcpt-to`, `arf.original-to`, `arf.verp`, ... */
  rule: string;
  /** The report's own words (the human part). */
  diagnostic?: string;
}

/** The address used when a complaint names no recipient at all (Sisimai's convention; the `.invalid` TLD never resolves). */
export const UNDISCLOSED_RECIPIENT = "undisclosed-recipient-in-headers@libsisimai.org.invalid";

const FEEDBACK_TYPE = /^(abuse|fraud|virus|other|not-spam|auth-failure|opt-out|dmarc)$/;

/** Parse the fields of a message/feedback-report part. */
export function parseFeedbackReport(text: string): ArfFields {
  const arf: ArfFields = {};
  const rcpts: string[] = [];
  const domains: string[] = [];
  const uris: string[] = [];
  let last: string | undefined;
  let auth: AuthFailureFields | undefined;
  const fields: [string, string][] = [];
  for (const line of text.split("\n", 2000)) {
    if (/^[ \t]/.test(line) && fields.length > 0) {
      fields[fields.length - 1]![1] += " " + line.trim();
      continue;
    }
    const m = /^([A-Za-z][A-Za-z0-9-]*)[ \t]*:(.*)$/.exec(line);
    if (!m) continue;
    last = m[1]!.toLowerCase();
    fields.push([last, m[2]!.trim()]);
  }
  for (const [name, value] of fields) {
    switch (name) {
      case "feedback-type":
        arf.feedbackType ??= value.toLowerCase();
        break;
      case "user-agent":
        arf.userAgent ??= value;
        break;
      case "version":
        arf.version ??= value;
        break;
      case "original-mail-from": {
        const a = addressOf(value);
        if (a) arf.originalMailFrom ??= a;
        break;
      }
      case "original-rcpt-to": {
        const a = addressOf(value);
        if (a && !rcpts.includes(a)) rcpts.push(a);
        break;
      }
      case "arrival-date":
      case "received-date":
        arf.arrivalDate ??= value;
        break;
      case "source-ip":
        arf.sourceIp ??= value;
        break;
      case "reported-domain":
        domains.push(value);
        break;
      case "reported-uri":
        uris.push(value);
        break;
      case "authentication-results":
        arf.authenticationResults ??= value;
        break;
      case "auth-failure":
        (auth ??= {}).failure ??= value.toLowerCase();
        break;
      case "delivery-result":
        (auth ??= {}).deliveryResult ??= value.toLowerCase();
        break;
      case "identity-alignment":
        (auth ??= {}).identityAlignment ??= value.toLowerCase();
        break;
      case "dkim-domain":
        (auth ??= {}).dkimDomain ??= value.toLowerCase();
        break;
      case "dkim-identity":
        (auth ??= {}).dkimIdentity ??= value;
        break;
      case "dkim-selector":
        (auth ??= {}).dkimSelector ??= value;
        break;
      case "spf-dns":
        (auth ??= {}).spfDns ??= value;
        break;
      case "incidents": {
        const n = Number(value);
        if (Number.isFinite(n)) arf.incidents = n;
        break;
      }
    }
  }
  if (rcpts.length) arf.originalRcptTo = rcpts;
  if (domains.length) arf.reportedDomain = domains;
  if (uris.length) arf.reportedUri = uris;
  if (auth || arf.feedbackType === "auth-failure" || arf.feedbackType === "dmarc") {
    auth ??= {};
    for (const method of ["dmarc", "spf", "dkim"] as const) {
      const result = resultOf(arf.authenticationResults, method);
      if (result) auth[method] = result;
    }
    arf.authentication = auth;
  }
  return arf;
}

/** Is this mail a complaint (standard ARF or a known non-standard format)? Returns its fields and recipients. */
export function readComplaint(mail: ParsedMail): Complaint | undefined {
  if (mail.reportType === "feedback-report" && mail.statusText !== undefined) {
    const arf = parseFeedbackReport(mail.statusText);
    arf.feedbackType = normaliseFeedbackType(arf.feedbackType);
    return withRecipients(mail, arf, "arf");
  }
  // ARF sent without the multipart/report wrapper (the fields in the text).
  if (
    mail.statusText === undefined &&
    /feedback-type/i.test(mail.text.slice(0, 8192)) &&
    /^feedback-type:\s*[a-z-]+\s*$/im.test(mail.text) &&
    /^(user-agent|version|original-rcpt-to|arrival-date):/im.test(mail.text)
  ) {
    const arf = parseFeedbackReport(mail.text);
    arf.feedbackType = normaliseFeedbackType(arf.feedbackType);
    return withRecipients(mail, arf, "arf.inline");
  }
  // Microsoft JMRP / Hotmail: the complaining address in X-HmXmrOriginalRecipient of the original.
  const hm =
    mail.originalHeaders?.get("x-hmxmroriginalrecipient") ?? mail.headers.get("x-hmxmroriginalrecipient");
  if (hm) {
    const a = addressOf(hm);
    if (a) return { arf: { feedbackType: "abuse" }, recipients: [a], rule: "arf.microsoft-jmrp" };
  }
  // Apple Mail one-click unsubscribe: an opt-out from the recipient itself.
  if (/^true$/i.test(mail.headers.get("x-apple-unsubscribe") ?? "")) {
    const a = addressOf(mail.headers.get("from"));
    if (a) return { arf: { feedbackType: "opt-out" }, recipients: [a], rule: "arf.apple-unsubscribe" };
  }
  return undefined;
}

function normaliseFeedbackType(t: string | undefined): string {
  const v = (t ?? "").trim().toLowerCase();
  if (FEEDBACK_TYPE.test(v)) return v === "dmarc" ? "auth-failure" : v;
  if (/^(complaint|spam|abuse)/.test(v)) return "abuse";
  return v || "abuse";
}

function withRecipients(mail: ParsedMail, arf: ArfFields, rulePrefix: string): Complaint {
  const human = mail.text.trim().slice(0, 2000) || undefined;
  const base = { arf, ...(human ? { diagnostic: human.replace(/\s+/g, " ") } : {}) };
  if (arf.originalRcptTo?.length)
    return { ...base, recipients: arf.originalRcptTo, rule: `${rulePrefix}.original-rcpt-to` };
  const fromOriginal = recipientsOfOriginal(mail.originalHeaders);
  if (fromOriginal.length) return { ...base, recipients: fromOriginal, rule: `${rulePrefix}.original-to` };
  const verp = verpRecipient(mail.headers);
  if (verp) return { ...base, recipients: [verp], rule: `${rulePrefix}.verp` };
  return { ...base, recipients: [UNDISCLOSED_RECIPIENT], rule: `${rulePrefix}.no-recipient` };
}

/**
 * A local part a feedback loop writes in place of the complainant's (RFC 6590 redaction: `redacted@yandex.ru`,
 * `xxxxxxxx@example.com`, `[redacted]@...`): the report hides the recipient, so the address names nobody.
 */
const REDACTED_LOCAL_PART = /^(?:\[?redacted\]?|x{4,64}|\*{3,64}|\[?removed\]?|\[?hidden\]?)$/i;

function recipientsOfOriginal(h: Headers | undefined): string[] {
  if (!h) return [];
  for (const name of ["x-hmxmroriginalrecipient", "to", "x-original-to", "delivered-to", "x-apparently-to"]) {
    const v = h.get(name);
    if (!v) continue;
    const found = [...v.matchAll(/(?<![^\s"'(),:;<>@])[^\s"'(),:;<>@]+@[^\s"'(),:;<>]+/g)]
      .map((m) => m[0].replace(/\.$/, ""))
      .filter((a) => !REDACTED_LOCAL_PART.test(a.slice(0, a.indexOf("@"))));
    if (found.length) return [...new Set(found)].slice(0, 100);
  }
  return [];
}

/** A VERP return path like `bounce+alice=example.com@bounces.example.org` -> `alice@example.com`. */
export function verpRecipient(h: Headers): string | undefined {
  for (const name of ["to", "delivered-to", "x-original-to"]) {
    const a = addressOf(h.get(name));
    const r = a ? verpOf(a) : undefined;
    if (r) return r;
  }
  return undefined;
}

/**
 * `prefix+tag-user=domain.tld@host` -> `user@domain.tld`: the prefix ends at the first `+`, `-` or `=` (a `+` or
 * `-`), the user runs from the last `+` or `-` before the last `=` (or from the prefix's end), the domain from the
 * last `=` to the `@` (a dot, then two letters or more). String scans: a pattern with an optional middle part
 * backtracked over long local parts.
 */
function verpOf(address: string): string | undefined {
  const at = address.indexOf("@");
  if (at < 0) return undefined;
  const local = address.slice(0, at);
  const eq = local.lastIndexOf("=");
  const domain = local.slice(eq + 1);
  const dot = domain.lastIndexOf(".");
  if (eq < 0 || dot < 1 || !/^[a-z]{2,}$/i.test(domain.slice(dot + 1))) return undefined;
  const first = local.search(/[+=-]/);
  if (first < 1 || local[first] === "=" || first >= eq) return undefined;
  let from = first;
  for (let i = eq - 2; i > first; i--) {
    if (local[i] === "+" || local[i] === "-") {
      from = i;
      break;
    }
  }
  const user = local.slice(from + 1, eq);
  if (!user || user.includes("+") || user.includes("=")) return undefined;
  return `${user}@${domain}`.toLowerCase();
}

const RESULTS: Record<"dmarc" | "spf" | "dkim", RegExp> = {
  dmarc: /(?:^|[\s;])dmarc=([a-z]+)/i,
  spf: /(?:^|[\s;])spf=([a-z]+)/i,
  dkim: /(?:^|[\s;])dkim=([a-z]+)/i,
};

/** One method's result in an Authentication-Results value (RFC 8601): `dmarc=fail` -> `fail`. */
function resultOf(value: string | undefined, method: "dmarc" | "spf" | "dkim"): string | undefined {
  if (!value) return undefined;
  return RESULTS[method].exec(value.slice(0, 4096))?.[1]?.toLowerCase();
}

/** An authentication failure report (RFC 6591, DMARC failure reports): a signal on the sender, not a complaint. */
export const isAuthFailure = (feedbackType: string | undefined): boolean => feedbackType === "auth-failure";
