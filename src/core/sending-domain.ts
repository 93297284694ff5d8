// The domain a returned mail was sent from, for incidents scoped by sending domain (docs/monitoring.md): the
// returned original's From (the domain receivers authenticate with DMARC, and the one domain blocklists list),
// else its Return-Path or an ARF report's Original-Mail-From, else the return path the report came back to (the
// envelope recipient: the send's MAIL FROM, signed or not). Pure; linear string work on untrusted text (no regex
// but a per-label test on at most 63 characters).
import { domainToASCII } from "node:url";
import type { Report } from "./report.js";

const MAX_VALUE = 2000;
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** The domain of the (last) address in a header value (`"Name" <a@b.example>`, `a@b.example`); undefined if none. */
export function domainOfAddress(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const v = value.slice(0, MAX_VALUE);
  // The address in angle brackets when there is one (the display name may hold an @), else the whole value.
  const open = v.lastIndexOf("<");
  const close = open >= 0 ? v.indexOf(">", open) : -1;
  const addr = open >= 0 && close > open ? v.slice(open + 1, close) : v;
  const at = addr.lastIndexOf("@");
  if (at < 0) return undefined;
  let end = at + 1;
  while (end < addr.length && !" \t\r\n>,;\"'()".includes(addr[end]!)) end++;
  return asDomain(addr.slice(at + 1, end));
}

/** A host name in its lower-case ASCII form (an IDN's A-label), without a trailing dot; undefined if not one. */
export function asDomain(raw: string): string | undefined {
  const s = raw.trim().replace(/\.$/, "");
  if (!s || s.length > 253 || s.startsWith("[")) return undefined;
  const ascii = domainToASCII(s.toLowerCase());
  if (!ascii || ascii.length > 253) return undefined;
  const labels = ascii.split(".");
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return undefined;
  return ascii;
}

/** The sending domain of a report: see the head of this file; null when nothing names one. */
export function sendingDomainOf(
  report: Pick<Report, "original" | "arf">,
  rcptTo: readonly string[],
): string | null {
  return (
    domainOfAddress(report.original.from) ??
    domainOfAddress(report.original.returnPath) ??
    domainOfAddress(report.arf?.originalMailFrom) ??
    domainOfAddress(rcptTo[0]) ??
    null
  );
}
