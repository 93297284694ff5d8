// What an RFC 6591 authentication failure report (ARF `Feedback-Type: auth-failure`, RFC 7489 §7.3 DMARC failure
// reports) says for the authentication signal: the sending domain and IP it is about, what failed, and its
// RFC 6591 fields. Pure: a Report in, a record or undefined out.
import type { Report } from "./report.js";

export interface AuthFailureRecord {
  domain: string;
  sourceIp: string | null;
  failure: string | null;
  incidents: number;
  details: Record<string, string>;
}

/** Feedback types that are authentication signals, not complaints. */
const AUTH_FEEDBACK_TYPES = new Set(["auth-failure", "dmarc"]);

export function authFailureOf(report: Report): AuthFailureRecord | undefined {
  const arf = report.arf;
  if (report.kind !== "complaint" || !arf || !AUTH_FEEDBACK_TYPES.has(arf.feedbackType ?? ""))
    return undefined;
  const a = arf.authentication ?? {};
  const domain =
    arf.reportedDomain?.[0] ??
    a.dkimDomain ??
    domainOf(report.original.from) ??
    domainOf(arf.originalMailFrom) ??
    "";
  const details: Record<string, string> = {};
  const put = (k: string, v: string | undefined) => {
    if (v) details[k] = v.slice(0, 500);
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
  put("original-mail-from", arf.originalMailFrom);
  put("reported-domain", arf.reportedDomain?.join(", "));
  const incidents = arf.incidents !== undefined && Number.isSafeInteger(arf.incidents) && arf.incidents > 0;
  return {
    domain: domain.trim().toLowerCase().slice(0, 253),
    sourceIp: arf.sourceIp?.trim().toLowerCase().slice(0, 45) || null,
    failure: a.failure?.slice(0, 40) ?? null,
    incidents: incidents ? Math.min(arf.incidents!, 1_000_000) : 1,
    details,
  };
}

/** The domain of an address, or of the address in a From header (`Name <a@b.example>`). */
function domainOf(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const m = /@([\w.-]{1,253})>?\s*$/.exec(v.trim());
  return m?.[1];
}
