// The mailbox provider of recipient domains the table does not know, from their MX records: looked up by the
// worker (never on the SMTP path), each lookup bounded by a timeout, the answers cached.
//
// - A known consumer domain (src/core/provider.ts) or a reserved one (example.com, *.test, ...): no lookup.
// - An answer (MX hosts, or none: NXDOMAIN, no MX) is kept for `ttlMs`.
// - A failure (timeout, SERVFAIL, refused) gives `other` and is kept only for `retryMs`: the domain is looked up
//   again after that, so a DNS server that hangs costs one timeout per domain per `retryMs`, not one per event.
// - At most `maxEntries` domains are kept (the oldest answer goes first); lookups of one domain in flight at
//   once are one lookup.
import { Resolver } from "node:dns/promises";
import type { Config } from "../config.js";
import { isReservedDomain, knownProvider, providerOfMx, type Provider } from "../core/provider.js";

export interface ProviderResolverOptions {
  /** DNS servers (`ip` or `ip:port`); default: the system's. */
  servers?: readonly string[];
  timeoutMs?: number;
  /** How long an answer is kept (default 1 day). */
  ttlMs?: number;
  /** How long a failed lookup's `other` is kept before the domain is looked up again (default 5 minutes). */
  retryMs?: number;
  maxEntries?: number;
  /** Milliseconds now (for the cache's ages). */
  now?: () => number;
}

interface Entry {
  provider: Provider;
  until: number;
}

export interface ProviderLookup {
  /** The providers of the domains (lower-case), each looked up when not known or cached. Never rejects. */
  resolveAll(domains: Iterable<string>): Promise<Map<string, Provider>>;
}

export class ProviderResolver implements ProviderLookup {
  private readonly resolver: Resolver;
  private readonly cache = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<Provider>>();
  private readonly timeoutMs: number;
  private readonly ttlMs: number;
  private readonly retryMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  /** Lookups made (not answered from the table or the cache), and how many failed: for tests and metrics. */
  readonly stats = { lookups: 0, failures: 0 };

  constructor(opts: ProviderResolverOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.ttlMs = opts.ttlMs ?? 86_400_000;
    this.retryMs = opts.retryMs ?? 300_000;
    this.maxEntries = opts.maxEntries ?? 100_000;
    this.now = opts.now ?? Date.now;
    // One try: the timeout bounds the whole lookup (our own timer below too, whatever c-ares does).
    this.resolver = new Resolver({ timeout: this.timeoutMs, tries: 1 });
    if (opts.servers?.length) this.resolver.setServers([...opts.servers]);
  }

  /** The provider a domain has without waiting: the table's, the reserved domains', or a cached answer. */
  peek(domain: string): Provider | undefined {
    const d = domain.toLowerCase();
    const known = knownProvider(d) ?? (isReservedDomain(d) ? "other" : undefined);
    if (known) return known;
    const hit = this.cache.get(d);
    if (hit && hit.until > this.now()) return hit.provider;
    return undefined;
  }

  async resolve(domain: string): Promise<Provider> {
    const d = domain.toLowerCase();
    const ready = this.peek(d);
    if (ready) return ready;
    let pending = this.inFlight.get(d);
    if (!pending) {
      pending = this.lookup(d).finally(() => this.inFlight.delete(d));
      this.inFlight.set(d, pending);
    }
    return pending;
  }

  async resolveAll(domains: Iterable<string>): Promise<Map<string, Provider>> {
    const unique = [...new Set([...domains].map((d) => d.toLowerCase()))];
    const answers = await Promise.all(unique.map((d) => this.resolve(d)));
    return new Map(unique.map((d, i) => [d, answers[i]!]));
  }

  /** Cancels the lookups in flight (they answer `other`). */
  close(): void {
    this.resolver.cancel();
  }

  private async lookup(domain: string): Promise<Provider> {
    this.stats.lookups++;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timeout")), this.timeoutMs + 100);
    });
    try {
      const records = await Promise.race([this.resolver.resolveMx(domain), timeout]);
      records.sort((a, b) => a.priority - b.priority);
      return this.keep(domain, providerOfMx(records.map((r) => r.exchange)).provider, this.ttlMs);
    } catch (err) {
      const code = (err as { code?: string }).code;
      // The domain has no MX (or does not exist): an answer, kept as long as any.
      if (code === "ENOTFOUND" || code === "ENODATA") return this.keep(domain, "other", this.ttlMs);
      this.stats.failures++;
      return this.keep(domain, "other", this.retryMs);
    } finally {
      clearTimeout(timer);
    }
  }

  private keep(domain: string, provider: Provider, forMs: number): Provider {
    this.cache.delete(domain);
    this.cache.set(domain, { provider, until: this.now() + forMs });
    if (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    return provider;
  }
}

/** The resolver the configuration asks for (REBOUND_PROVIDER_DNS), or none (`off`). */
export function providerResolverOf(
  config: Pick<Config, "providerDns" | "providerDnsTimeoutMs">,
): ProviderResolver | undefined {
  const dns = config.providerDns.trim();
  if (dns === "off") return undefined;
  return new ProviderResolver({
    timeoutMs: config.providerDnsTimeoutMs,
    servers:
      dns === "system"
        ? undefined
        : dns
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean),
  });
}
