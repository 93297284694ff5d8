// Which DNS blocklists a block's diagnostic names: pure, rules as data (each with an example its test checks).
// For the reports' "blocklists seen": a block whose text names Spamhaus means the sending IP or domain is listed
// there, whatever the receiving server.

export interface BlocklistRule {
  /** What the report calls it. */
  id: string;
  /** Words of the diagnostic that name it (lower case, matched as substrings: no regex over untrusted text). */
  names: readonly string[];
  /** A diagnostic that names it. */
  example: string;
}

export const BLOCKLISTS: readonly BlocklistRule[] = [
  {
    id: "spamhaus",
    names: ["spamhaus"],
    example: "554 5.7.1 Client host [192.0.2.1] blocked using zen.spamhaus.org",
  },
  {
    id: "barracuda",
    names: ["barracuda"],
    example: "554 Service unavailable; Client host [192.0.2.1] blocked using Barracuda Reputation",
  },
  {
    id: "spamcop",
    names: ["spamcop"],
    example: "550 5.7.1 Blocked - see https://www.spamcop.net/bl.shtml?192.0.2.1",
  },
  {
    id: "sorbs",
    names: ["sorbs.net", "sorbs "],
    example: "554 rejected: 192.0.2.1 listed at dnsbl.sorbs.net",
  },
  {
    id: "cbl-abuseat",
    names: ["abuseat.org", "cbl."],
    example: "550 Rejected: 192.0.2.1 listed in cbl.abuseat.org",
  },
  {
    id: "uceprotect",
    names: ["uceprotect"],
    example: "550 5.7.1 Client 192.0.2.1 listed at dnsbl-1.uceprotect.net",
  },
  { id: "mailspike", names: ["mailspike"], example: "550 5.7.1 192.0.2.1 is listed in bl.mailspike.net" },
  {
    id: "invaluement",
    names: ["invaluement"],
    example: "554 5.7.1 Rejected: listed at ivmSIP (invaluement)",
  },
  { id: "spameatingmonkey", names: ["spameatingmonkey"], example: "550 listed at bl.spameatingmonkey.net" },
  { id: "psbl", names: ["psbl.surriel"], example: "550 192.0.2.1 listed in psbl.surriel.com" },
];

/** The ids of the blocklists a diagnostic names (each once, in BLOCKLISTS' order). */
export function blocklistsIn(diagnostic: string): string[] {
  const text = diagnostic.toLowerCase();
  return BLOCKLISTS.filter((b) => b.names.some((n) => text.includes(n))).map((b) => b.id);
}
