// Who the mailbox provider of a recipient domain is: a table of the big consumer domains, and for every other
// domain the hosts of its MX records (a Google Workspace or Microsoft 365 tenant is google or microsoft). Pure:
// the MX hosts are looked up at the edge (src/monitor/provider-resolver.ts) and passed in.
//
// The providers are a closed list (PROVIDERS), so that a metric labelled by provider stays bounded: a domain no
// rule claims is `other`. Google's consumer mail (gmail.com) and Workspace share one name, `google`: the same
// filters judge both.

export const PROVIDERS = [
  "google",
  "microsoft",
  "yahoo",
  "apple",
  "gmx-webde",
  "orange",
  "yandex",
  "mailru",
  "comcast",
  "proton",
  "zoho",
  "fastmail",
  "other",
] as const;
export type Provider = (typeof PROVIDERS)[number];

const isProvider = (p: string): p is Provider => (PROVIDERS as readonly string[]).includes(p);
export { isProvider };

/** Consumer domains whose provider is known without a lookup. */
const CONSUMER_DOMAINS: Record<Exclude<Provider, "other">, readonly string[]> = {
  google: ["gmail.com", "googlemail.com"],
  microsoft: [
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "hotmail.co.uk",
    "hotmail.fr",
    "hotmail.de",
    "hotmail.it",
    "hotmail.es",
    "live.fr",
    "live.de",
    "live.co.uk",
    "outlook.fr",
    "outlook.de",
  ],
  yahoo: [
    "yahoo.com",
    "ymail.com",
    "rocketmail.com",
    "aol.com",
    "yahoo.co.uk",
    "yahoo.fr",
    "yahoo.de",
    "yahoo.co.jp",
    "aim.com",
  ],
  apple: ["icloud.com", "me.com", "mac.com"],
  "gmx-webde": ["gmx.de", "gmx.net", "gmx.com", "gmx.at", "gmx.ch", "web.de"],
  orange: ["orange.fr", "wanadoo.fr"],
  yandex: ["yandex.ru", "yandex.com", "ya.ru"],
  mailru: ["mail.ru", "bk.ru", "inbox.ru", "list.ru"],
  comcast: ["comcast.net"],
  proton: ["protonmail.com", "proton.me", "pm.me"],
  zoho: ["zohomail.com"],
  fastmail: ["fastmail.com", "fastmail.fm"],
};

const BY_DOMAIN = new Map<string, Provider>(
  Object.entries(CONSUMER_DOMAINS).flatMap(([p, ds]) => ds.map((d) => [d, p as Provider] as const)),
);

/** A rule naming the provider behind MX hosts: a host equal to a suffix or ending in `.suffix`. */
export interface MxRule {
  id: string;
  provider: Exclude<Provider, "other">;
  suffixes: readonly string[];
  /** An MX host the rule claims. */
  example: string;
}

export const MX_RULES: readonly MxRule[] = [
  {
    id: "mx.google",
    provider: "google",
    suffixes: ["google.com", "googlemail.com", "smtp.goog"],
    example: "aspmx.l.google.com",
  },
  {
    id: "mx.microsoft",
    provider: "microsoft",
    suffixes: ["mail.protection.outlook.com", "olc.protection.outlook.com", "outlook.com"],
    example: "contoso-com.mail.protection.outlook.com",
  },
  { id: "mx.yahoo", provider: "yahoo", suffixes: ["yahoodns.net"], example: "mta5.am0.yahoodns.net" },
  { id: "mx.apple", provider: "apple", suffixes: ["mail.icloud.com"], example: "mx01.mail.icloud.com" },
  {
    id: "mx.gmx-webde",
    provider: "gmx-webde",
    suffixes: ["gmx.net", "web.de"],
    example: "mx00.emig.gmx.net",
  },
  { id: "mx.orange", provider: "orange", suffixes: ["orange.fr"], example: "smtp-in.orange.fr" },
  { id: "mx.yandex", provider: "yandex", suffixes: ["yandex.net", "yandex.ru"], example: "mx.yandex.net" },
  { id: "mx.mailru", provider: "mailru", suffixes: ["mail.ru"], example: "mxs.mail.ru" },
  { id: "mx.comcast", provider: "comcast", suffixes: ["comcast.net"], example: "mx1a1.comcast.net" },
  { id: "mx.proton", provider: "proton", suffixes: ["protonmail.ch"], example: "mail.protonmail.ch" },
  { id: "mx.zoho", provider: "zoho", suffixes: ["zoho.com", "zoho.eu"], example: "mx.zoho.com" },
  {
    id: "mx.fastmail",
    provider: "fastmail",
    suffixes: ["messagingengine.com"],
    example: "in1-smtp.messagingengine.com",
  },
];

const lower = (s: string) => s.trim().toLowerCase().replace(/\.$/, "");

/** A consumer domain's provider, or undefined when the table does not know the domain. */
export function knownProvider(recipientDomain: string): Provider | undefined {
  return BY_DOMAIN.get(lower(recipientDomain));
}

/**
 * Domains that never have a real MX (RFC 2606, RFC 6761): `other` without a lookup.
 */
export function isReservedDomain(recipientDomain: string): boolean {
  const d = lower(recipientDomain);
  if (["example.com", "example.net", "example.org", "localhost"].includes(d)) return true;
  const tld = d.slice(d.lastIndexOf(".") + 1);
  return (
    ["test", "example", "invalid", "localhost", "local"].includes(tld) ||
    d.endsWith(".example.com") ||
    d.endsWith(".example.net") ||
    d.endsWith(".example.org")
  );
}

/**
 * The provider behind a domain's MX hosts (given lowest preference first: the host mail goes to), with the id
 * of the rule that named it; `other` when no rule claims the first host that any rule claims.
 */
export function providerOfMx(hosts: readonly string[]): { provider: Provider; rule: string | null } {
  for (const h of hosts) {
    const host = lower(h);
    for (const r of MX_RULES)
      if (r.suffixes.some((s) => host === s || host.endsWith(`.${s}`)))
        return { provider: r.provider, rule: r.id };
  }
  return { provider: "other", rule: null };
}

/** The provider the table alone gives: a known consumer domain's, otherwise `other`. */
export function providerOf(recipientDomain: string): Provider {
  return knownProvider(recipientDomain) ?? "other";
}
