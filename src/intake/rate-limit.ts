// Connections per IP per minute: a fixed one-minute window per address, forgotten when the window ends.
export interface RateLimiter {
  /** Counts one connection from `ip`; false when it is over the limit. */
  take(ip: string, nowMs: number): boolean;
}

export function createRateLimiter(perMinute: number): RateLimiter {
  if (perMinute <= 0) return { take: () => true };
  let windowStart = 0;
  let counts = new Map<string, number>();
  return {
    take(ip, nowMs) {
      if (nowMs - windowStart >= 60_000) {
        windowStart = nowMs;
        counts = new Map();
      }
      const n = (counts.get(ip) ?? 0) + 1;
      counts.set(ip, n);
      return n <= perMinute;
    },
  };
}
