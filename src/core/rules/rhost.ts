// Replies read by who sent them: a few providers answer with words that mean one thing from them and another from
// anyone else (MessageLabs' "No such user" is its directory's answer, never a filter's; au's anonymous
// "550 : User unknown" is its filter's). Each rule applies only when the remote MTA (or, for a provider that
// relays, the reporting MTA) is that provider's host. Pure data; `../reason.ts` consults them first.
import type { Reason } from "../report.js";

export interface RemoteHostRule {
  /** `<provider>.<name>`; the classification's rule becomes `rhost:<id>`. */
  id: string;
  /** The remote or reporting MTA's host name this rule is for (tested on the lower-cased host, anchored at its end). */
  host: RegExp;
  reason: Reason;
  pattern: RegExp;
  /** A real-looking reply this rule matches. */
  example: string;
  /** A host the example comes from. */
  exampleHost: string;
}

const MESSAGELABS = /(?:^|\.)messagelabs\.com$/;
const AU_KDDI = /(?:^|\.)(?:au\.com|ezweb\.ne\.jp)$/;

export const remoteHostRules: readonly RemoteHostRule[] = [
  {
    id: "messagelabs.recipient-unknown",
    host: MESSAGELABS,
    reason: "userunknown",
    pattern: /no such user|invalid recipient|recipient mailbox is not allowed/i,
    example: "550 kijitora@example.org... No such user",
    exampleHost: "server-12.bemta-3.messagelabs.com",
  },
  {
    id: "kddi.anonymous-user-unknown",
    host: AU_KDDI,
    reason: "filtered",
    pattern: /\b550 : user unknown\b/i,
    example: "550 : User unknown",
    exampleHost: "lsean.ezweb.ne.jp",
  },
  {
    id: "kddi.user-unknown",
    host: AU_KDDI,
    reason: "userunknown",
    pattern: />: user unknown\b/i,
    example: "550 <kijitora@ezweb.ne.jp>: User unknown",
    exampleHost: "msmx.au.com",
  },
];

/** The first rule for one of these hosts whose pattern the reply matches. */
export function matchRemoteHost(
  hosts: readonly (string | undefined)[],
  text: string,
): RemoteHostRule | undefined {
  const names = hosts.map((h) => hostName(h)).filter((h): h is string => h !== undefined);
  if (names.length === 0 || !text) return undefined;
  const head = text.length > 4096 ? text.slice(0, 4096) : text;
  for (const rule of remoteHostRules)
    if (names.some((n) => rule.host.test(n)) && rule.pattern.test(head)) return rule;
  return undefined;
}

/** `dns; mx.example.org [192.0.2.1]` / `mx.example.org` -> `mx.example.org` (lower-cased, no trailing dot). */
function hostName(h: string | undefined): string | undefined {
  if (!h) return undefined;
  const m = /(?:^|[\s;])([a-z0-9][a-z0-9.-]{0,252}[a-z0-9])\.?(?=$|[\s[(\]])/i.exec(h.slice(0, 300));
  return m ? m[1]!.toLowerCase() : undefined;
}
