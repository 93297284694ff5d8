// The intake's bounds under a flood: who a client is, connections at once per client, and the bytes of mail
// held in memory at once over all sessions.
import { isIPv4, isIPv6 } from "node:net";

/**
 * The unit the per-client limits count: an IPv4 address, or the /64 of an IPv6 address (one host usually
 * holds a whole /64, so counting single IPv6 addresses would limit nothing).
 */
export function clientKey(ip: string): string {
  const a = ip.startsWith("::ffff:") && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (!isIPv6(a)) return a;
  const [head = "", tail] = a.toLowerCase().split("%")[0]!.split("::");
  const left = head ? head.split(":") : [];
  const right = tail === undefined ? [] : tail ? tail.split(":") : [];
  // An embedded IPv4 tail takes two groups; it only ever lies beyond the /64.
  const width = (groups: string[]) => groups.reduce((n, g) => n + (g.includes(".") ? 2 : 1), 0);
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(8 - width(left) - width(right)).fill("0"), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/** Connections open per client. */
export interface ConnectionCounter {
  /** Counts a connection of `key`; false (and not counted) when the client already has the most allowed. */
  open(key: string): boolean;
  close(key: string): void;
  /** Clients with a connection open (for tests and metrics). */
  readonly clients: number;
}

export function createConnectionCounter(maxPerClient: number): ConnectionCounter {
  const open = new Map<string, number>();
  return {
    open(key) {
      const n = open.get(key) ?? 0;
      if (maxPerClient > 0 && n >= maxPerClient) return false;
      open.set(key, n + 1);
      return true;
    },
    close(key) {
      const n = (open.get(key) ?? 0) - 1;
      if (n > 0) open.set(key, n);
      else open.delete(key);
    },
    get clients() {
      return open.size;
    },
  };
}

/**
 * Bytes of mail in memory: taken chunk by chunk while a message is received, given back once it is stored or
 * refused. Over the budget a message is refused (452 4.3.1) rather than held.
 */
export interface ByteBudget {
  /** Takes `n` bytes; false (nothing taken) when they would exceed the budget. */
  take(n: number): boolean;
  give(n: number): void;
  /** Whether `n` more bytes would fit now. */
  fits(n: number): boolean;
  readonly used: number;
}

export function createByteBudget(max: number): ByteBudget {
  let used = 0;
  return {
    take(n) {
      if (max > 0 && used + n > max) return false;
      used += n;
      return true;
    },
    give(n) {
      used = Math.max(0, used - n);
    },
    fits(n) {
      return max <= 0 || used + n <= max;
    },
    get used() {
      return used;
    },
  };
}
