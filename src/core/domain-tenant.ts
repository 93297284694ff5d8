// Whose report is it: the tenant that owns a reported domain (REBOUND_DOMAIN_TENANTS, `domain=tenant` pairs), by
// the domain itself, then its parent domains (`mail.example.com` is `example.com`'s unless named on its own).
// Pure: the map comes from the config, in ASCII lower case as the config stores it.
import { domainToASCII } from "node:url";

/** The tenant of `domain` (or of its nearest parent named in `map`); undefined when none owns it. */
export function tenantOfDomain(
  domain: string | null | undefined,
  map: ReadonlyMap<string, string>,
): string | undefined {
  if (!domain || map.size === 0) return undefined;
  let d = domainToASCII(domain.trim().replace(/\.$/, "").toLowerCase());
  while (d) {
    const t = map.get(d);
    if (t !== undefined) return t;
    const dot = d.indexOf(".");
    if (dot < 0) return undefined;
    d = d.slice(dot + 1);
  }
  return undefined;
}
