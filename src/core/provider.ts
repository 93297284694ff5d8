// The receiving provider of a recipient domain, for counting blocks per provider. Pure; a small table.

const PROVIDERS: Record<string, readonly string[]> = {
  google: ["gmail.com", "googlemail.com"],
  microsoft: [
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "hotmail.co.uk",
    "hotmail.fr",
    "live.fr",
    "outlook.fr",
  ],
  yahoo: ["yahoo.com", "ymail.com", "rocketmail.com", "aol.com", "yahoo.co.uk", "yahoo.fr", "yahoo.co.jp"],
  apple: ["icloud.com", "me.com", "mac.com"],
  gmx: ["gmx.de", "gmx.net", "gmx.com", "web.de"],
  yandex: ["yandex.ru", "yandex.com", "ya.ru"],
  mailru: ["mail.ru", "bk.ru", "inbox.ru", "list.ru"],
  orange: ["orange.fr", "wanadoo.fr"],
  comcast: ["comcast.net"],
  proton: ["protonmail.com", "proton.me", "pm.me"],
};

const BY_DOMAIN = new Map(Object.entries(PROVIDERS).flatMap(([p, ds]) => ds.map((d) => [d, p] as const)));

/** `google`, `microsoft`, ... for the big mailbox providers; otherwise the recipient domain itself. */
export function providerOf(recipientDomain: string): string {
  const d = recipientDomain.toLowerCase();
  return BY_DOMAIN.get(d) ?? d;
}
