// Per-key rate limits: a token bucket per key, in this process (each API process enforces its own share).

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until one request is allowed again (when refused). */
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  at: number;
  perMinute: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  /**
   * @param maxKeys most buckets kept (the least recently used go first beyond; a forgotten key starts full).
   *   Unbounded by default: API keys are few; client IPs are not.
   */
  constructor(private readonly maxKeys = Infinity) {}

  /** Seconds until the key's bucket has a token (0: it has one now), without taking it. */
  wait(key: string, perMinute: number, nowMs: number): number {
    const b = this.buckets.get(key);
    if (perMinute <= 0 || !b || b.perMinute !== perMinute) return 0;
    const tokens = Math.min(perMinute, b.tokens + ((nowMs - b.at) * perMinute) / 60_000);
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil(((1 - tokens) * 60) / perMinute));
  }

  /** Take one token from the key's bucket; perMinute 0 means unlimited. */
  take(key: string, perMinute: number, nowMs: number): RateDecision {
    if (perMinute <= 0) return { allowed: true, limit: 0, remaining: 0, retryAfterSeconds: 0 };
    let b = this.buckets.get(key);
    if (!b || b.perMinute !== perMinute) {
      b = { tokens: perMinute, at: nowMs, perMinute };
      this.buckets.delete(key);
      while (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
      this.buckets.set(key, b);
    } else {
      const refill = ((nowMs - b.at) * perMinute) / 60_000;
      b.tokens = Math.min(perMinute, b.tokens + refill);
      b.at = nowMs;
      if (this.maxKeys !== Infinity) {
        this.buckets.delete(key);
        this.buckets.set(key, b);
      }
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { allowed: true, limit: perMinute, remaining: Math.floor(b.tokens), retryAfterSeconds: 0 };
    }
    const retryAfterSeconds = Math.max(1, Math.ceil(((1 - b.tokens) * 60) / perMinute));
    return { allowed: false, limit: perMinute, remaining: 0, retryAfterSeconds };
  }
}
