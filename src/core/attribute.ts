// Who a report speaks of, for whom: each recipient of a Report tied to a tenant, a stream and a normalised
// address, with how that was established (a valid VERP signature, an invalid one, none). Pure.
//
// Signed return paths are looked for in the envelope recipients (a bounce sent to a VERP address), in the
// returned original's Return-Path (complaints arrive at a feedback-loop address; any bounce whose original
// carries one) and in an ARF report's Original-Mail-From.
import { normalizeAddress } from "./address.js";
import type { Verification } from "./policy.js";
import type { Recipient, Report } from "./report.js";
import { decodeVerp, type VerpKey } from "./verp.js";

export interface Attributed {
  /** Normalised address (the key of events and suppressions). */
  address: string;
  /** The address as the report (or the return path) gave it. */
  addressOriginal: string;
  domain: string;
  tenant: string;
  stream: string;
  verification: Verification;
  verpKeyId: string | null;
  /** The report's recipient (or one made from the VERP alone, when the report names nobody usable). */
  recipient: Recipient;
}

export interface AttributionDefaults {
  tenant: string;
  stream: string;
  caseSensitiveLocalPart?: boolean;
}

export interface Attribution {
  recipients: Attributed[];
  /** Report recipients that could not be stored (an invalid address), with why. */
  skipped: { recipient: string; error: string }[];
  /** What the return paths said: valid identities, and whether an invalid one was seen. */
  verp: { valid: number; invalid: number };
}

interface Identity {
  recipient: string;
  tenant: string | null;
  stream: string;
  keyId: string;
}

/** Addresses in a header value (`"Name" <a@b>, c@d`). */
function addressesIn(value: string | undefined): string[] {
  if (!value) return [];
  const angled = [...value.matchAll(/<([^<>\s]+@[^<>\s]+)>/g)].map((m) => m[1] ?? "");
  if (angled.length) return angled;
  return [...value.matchAll(/[^\s<>,;"]+@[^\s<>,;"]+/g)].map((m) => m[0]);
}

/** A recipient made from the return path when the report names nobody usable: what the mail kind implies. */
function fromVerp(report: Report, address: string): Recipient {
  switch (report.kind) {
    case "complaint":
      return {
        recipient: address,
        reason: "feedback",
        class: "complaint",
        permanent: null,
        rule: "verp.recipient",
        parser: "header",
        feedbackType: report.arf?.feedbackType,
      };
    case "auto_reply":
      return {
        recipient: address,
        reason: "vacation",
        class: "auto_reply",
        permanent: null,
        rule: "verp.recipient",
        parser: "header",
      };
    case "delivery":
      return {
        recipient: address,
        reason: "delivered",
        class: "delivered",
        permanent: null,
        rule: "verp.recipient",
        parser: "header",
      };
    default:
      return {
        recipient: address,
        reason: "undefined",
        class: "undetermined",
        permanent: null,
        rule: "verp.recipient",
        parser: "header",
      };
  }
}

export function attribute(
  report: Report,
  rcptTo: readonly string[],
  keys: readonly VerpKey[],
  d: AttributionDefaults,
): Attribution {
  const norm = (s: string | undefined) => {
    if (!s) return undefined;
    const n = normalizeAddress(s, { caseSensitiveLocalPart: d.caseSensitiveLocalPart });
    return n.ok ? n : undefined;
  };
  const candidates = [
    ...report.recipients.flatMap((r) => [r.recipient, r.originalRecipient ?? ""]),
    ...(report.arf?.originalRcptTo ?? []),
    ...addressesIn(report.original.to),
  ].filter(Boolean);
  const paths = [...rcptTo, report.original.returnPath ?? "", report.arf?.originalMailFrom ?? ""].filter(
    Boolean,
  );

  const valid: Identity[] = [];
  let invalid = 0;
  for (const p of paths) {
    const v = decodeVerp(p, keys, { candidates });
    if (v.ok) {
      const id: Identity = {
        recipient: norm(v.recipient)?.address ?? v.recipient,
        tenant: v.tenant,
        stream: v.stream,
        keyId: v.keyId,
      };
      if (
        !valid.some((x) => x.recipient === id.recipient && x.tenant === id.tenant && x.stream === id.stream)
      )
        valid.push(id);
    } else if (v.reason !== "not_verp") invalid++;
  }
  const only = valid.length === 1 ? valid[0] : undefined;

  const out: Attributed[] = [];
  const skipped: Attribution["skipped"] = [];
  const verified = (id: Identity, r: Recipient, original: string): Attributed => {
    const n = norm(id.recipient);
    return {
      address: n?.address ?? id.recipient,
      addressOriginal: original,
      domain: n?.domain ?? id.recipient.slice(id.recipient.lastIndexOf("@") + 1),
      tenant: id.tenant ?? d.tenant,
      stream: id.stream,
      verification: "verified",
      verpKeyId: id.keyId,
      recipient: r,
    };
  };

  for (const r of report.recipients) {
    const n = norm(r.recipient);
    const orig = norm(r.originalRecipient);
    const match = valid.find((v) => v.recipient === n?.address || (orig && v.recipient === orig.address));
    if (match) {
      out.push(verified(match, r, r.recipient));
    } else if (only && report.recipients.length === 1) {
      // The signature identifies the recipient the sender mailed, whatever the report calls it (a forward, a
      // redacted complaint, an unreadable address).
      out.push(verified(only, r, r.recipient || only.recipient));
    } else if (!n) {
      skipped.push({ recipient: r.recipient, error: "not a valid address" });
    } else {
      // Not bound by any valid signature: the tenant and stream of a valid one in the same mail (signed), else
      // the defaults; never trusted to act unless no VERP was there at all and the policy allows plain addresses.
      out.push({
        address: n.address,
        addressOriginal: r.recipient,
        domain: n.domain,
        tenant: valid[0]?.tenant ?? d.tenant,
        stream: valid[0]?.stream ?? d.stream,
        verification: valid.length || invalid ? "invalid" : "absent",
        verpKeyId: null,
        recipient: r,
      });
    }
  }
  if (!report.recipients.length)
    for (const v of valid) out.push(verified(v, fromVerp(report, v.recipient), v.recipient));
  return { recipients: out, skipped, verp: { valid: valid.length, invalid } };
}
