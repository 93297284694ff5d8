// Where webhooks may go. Tenants choose their endpoint URLs, so without a check a tenant could make Rebound POST
// to the loopback Redis or PostgreSQL, to cloud metadata (169.254.169.254) or to anything on the private network
// (server-side request forgery). Only public unicast addresses are allowed, plus the networks the operator allows
// in REBOUND_WEBHOOK_ALLOWED_NETWORKS for internal receivers. Delivery checks the address actually connected to
// (`guardedLookup`), so a hostname that resolves to a refused address, or changes to one after it was registered
// (DNS rebinding), is refused too.
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";

export const ALLOWED_NETWORKS_SETTING = "REBOUND_WEBHOOK_ALLOWED_NETWORKS";

export interface Cidr {
  address: string;
  prefix: number;
  family: "ipv4" | "ipv6";
}

/** `10.0.0.0/8`, `fd00::/8`, or a bare address (one host); undefined when malformed. */
export function parseCidr(s: string): Cidr | undefined {
  const [address = "", prefixText, ...rest] = s.trim().split("/");
  const v = isIP(address);
  if (v === 0 || rest.length > 0) return undefined;
  const max = v === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText ?? String(max)) || prefix > max) return undefined;
  return { address, prefix, family: v === 4 ? "ipv4" : "ipv6" };
}

/** Why an address is not public: the kinds of the IANA special-purpose registries that matter here. */
export type AddressKind =
  | "public"
  | "unspecified"
  | "loopback"
  | "private"
  | "shared (CGNAT)"
  | "link-local"
  | "multicast"
  | "broadcast"
  | "reserved"
  | "documentation"
  | "benchmarking"
  | "special-purpose";

/** First match wins, so narrower ranges come before the ranges that contain them. */
const SPECIAL_RANGES: [Exclude<AddressKind, "public">, string][] = [
  ["unspecified", "0.0.0.0/8"], // "this network"; 0.0.0.0 reaches the local host on Linux
  ["loopback", "127.0.0.0/8"],
  ["private", "10.0.0.0/8"],
  ["private", "172.16.0.0/12"],
  ["private", "192.168.0.0/16"],
  ["shared (CGNAT)", "100.64.0.0/10"],
  ["link-local", "169.254.0.0/16"], // cloud metadata services live here
  ["special-purpose", "192.0.0.0/24"],
  ["special-purpose", "192.88.99.0/24"], // 6to4 relay anycast
  ["documentation", "192.0.2.0/24"],
  ["documentation", "198.51.100.0/24"],
  ["documentation", "203.0.113.0/24"],
  ["benchmarking", "198.18.0.0/15"],
  ["multicast", "224.0.0.0/4"],
  ["broadcast", "255.255.255.255/32"],
  ["reserved", "240.0.0.0/4"],
  ["unspecified", "::/128"],
  ["loopback", "::1/128"],
  ["private", "fc00::/7"],
  ["link-local", "fe80::/10"],
  ["multicast", "ff00::/8"],
  // Inside global unicast 2000::/3: Teredo (2001::/32) and 6to4 (2002::/16) carry an IPv4 address, which may be
  // a private one.
  ["special-purpose", "2001::/23"],
  ["special-purpose", "2002::/16"],
  ["documentation", "2001:db8::/32"],
  ["documentation", "3fff::/20"],
];

/** IPv4-mapped IPv6 (::ffff:a.b.c.d) is judged as the IPv4 address it reaches. */
const IPV4_MAPPED = "::ffff:0:0/96";
/** Other IPv6 is public only inside global unicast (NAT64 64:ff9b::/96, IPv4-compatible ::a.b.c.d are outside). */
const GLOBAL_UNICAST = "2000::/3";

export interface EgressPolicy {
  /** What kind of address `address` is, and whether a webhook may be sent to it. Fails closed. */
  classify(address: string): { kind: AddressKind; allowed: boolean };
}

function blockList(cidrs: Cidr[]): BlockList {
  const list = new BlockList();
  for (const c of cidrs) list.addSubnet(c.address, c.prefix, c.family);
  return list;
}

function mustParse(s: string): Cidr {
  const c = parseCidr(s);
  if (!c) throw new Error(`not a network: ${JSON.stringify(s)} (expected an address or address/prefix)`);
  return c;
}

/**
 * Whether an address lies in one of `networks` (CIDRs or bare addresses, as parseCidr reads them; an IPv4 network
 * matches IPv4-mapped IPv6 addresses too). Throws on a network it cannot read; false for a non-address.
 */
export function networkMatcher(networks: readonly string[]): (address: string) => boolean {
  const list = blockList(networks.map(mustParse));
  return (address) => {
    const v = isIP(address);
    if (v === 0) return false;
    try {
      return list.check(address, v === 4 ? "ipv4" : "ipv6");
    } catch {
      return false;
    }
  };
}

/** The policy for one process: public unicast plus `allowedNetworks` (CIDRs, from the operator). */
export function createEgressPolicy(allowedNetworks: readonly string[]): EgressPolicy {
  // BlockList matches IPv4 rules against IPv4-mapped IPv6 addresses too, so ::ffff:127.0.0.1 is loopback here.
  const special = SPECIAL_RANGES.map(([kind, cidr]) => ({ kind, list: blockList([mustParse(cidr)]) }));
  const mapped = blockList([mustParse(IPV4_MAPPED)]);
  const globalUnicast = blockList([mustParse(GLOBAL_UNICAST)]);
  const allowed = blockList(allowedNetworks.map(mustParse));

  function kindOf(address: string, family: "ipv4" | "ipv6"): AddressKind {
    for (const s of special) if (s.list.check(address, family)) return s.kind;
    if (family === "ipv4" || mapped.check(address, "ipv6")) return "public";
    return globalUnicast.check(address, "ipv6") ? "public" : "special-purpose";
  }

  return {
    classify(address) {
      const v = isIP(address);
      if (v === 0) return { kind: "special-purpose", allowed: false };
      const family = v === 4 ? "ipv4" : "ipv6";
      try {
        const kind = kindOf(address, family);
        return { kind, allowed: kind === "public" || allowed.check(address, family) };
      } catch {
        // An address BlockList cannot read (an IPv6 zone id, say) is not sent to.
        return { kind: "special-purpose", allowed: false };
      }
    },
  };
}

/** `localhost` and its subdomains are loopback by definition (RFC 6761), whatever DNS would say. */
function isLocalhostName(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  return h === "localhost" || h.endsWith(".localhost");
}

/** A URL's hostname as an address: `[::1]` -> `::1`; undefined when it is a name. */
function literalAddress(hostname: string): string | undefined {
  const h = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  return isIP(h) ? h : undefined;
}

export function refusedDestination(what: string, kind: AddressKind): string {
  return `destination ${what} is not a public address (${kind}); an operator may allow its network with ${ALLOWED_NETWORKS_SETTING}`;
}

/** Why a URL's host, when it is an IP literal, is refused; undefined for allowed addresses and for names. */
export function refusedAddress(policy: EgressPolicy, hostname: string): string | undefined {
  const address = literalAddress(hostname);
  if (address === undefined) return undefined;
  const { kind, allowed } = policy.classify(address);
  return allowed ? undefined : refusedDestination(address, kind);
}

/**
 * Why a URL's host is refused without looking it up (an IP literal, or `localhost`), or undefined. Other names
 * are checked when they are connected to: what they resolve to may change.
 */
export function refusedHost(policy: EgressPolicy, hostname: string): string | undefined {
  if (!isLocalhostName(hostname)) return refusedAddress(policy, hostname);
  const { kind, allowed } = policy.classify("127.0.0.1");
  return allowed ? undefined : refusedDestination(`${hostname} (127.0.0.1)`, kind);
}

/** The error of a connection refused by the policy: its message is what the delivery log shows. */
export class DestinationRefusedError extends Error {
  readonly code = "EDESTINATIONREFUSED";
}

/**
 * A `lookup` for sockets (http.Agent, net.connect) that resolves like dns.lookup but returns only allowed
 * addresses, and fails when there is none: the check is on the address connected to, so it holds against DNS
 * rebinding. IP literals are not looked up by net: check them with `refusedAddress` first.
 */
export function guardedLookup(policy: EgressPolicy): LookupFunction {
  return ((hostname: string, options: { family?: number; hints?: number; all?: boolean }, callback) => {
    dnsLookup(hostname, { all: true, family: options.family ?? 0, hints: options.hints }, (err, found) => {
      if (err) return callback(err, "", 0);
      const addresses = found as LookupAddress[];
      const ok = addresses.filter((a) => policy.classify(a.address).allowed);
      const first = ok[0];
      if (!first) {
        const a = addresses[0];
        const kind = a ? policy.classify(a.address).kind : "special-purpose";
        const list = addresses.map((x) => x.address).join(", ");
        return callback(
          new DestinationRefusedError(refusedDestination(`${hostname} (${list})`, kind)),
          "",
          0,
        );
      }
      if (options.all) (callback as (e: null, a: LookupAddress[]) => void)(null, ok);
      else callback(null, first.address, first.family);
    });
  }) as LookupFunction;
}
