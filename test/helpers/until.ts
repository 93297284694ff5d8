// The one polling helper of the tests: wait for a condition with a deadline, never a fixed sleep.

export interface UntilOptions {
  /** Give up after this long (default 20 s). */
  ms?: number;
  /** Poll this often (default 20 ms). */
  everyMs?: number;
  /** Named in the error when the deadline passes. */
  what?: string;
}

/**
 * Polls `fn` until it returns something truthy, and resolves to it; rejects after the deadline. `opts` may be
 * the deadline in ms (then `everyMs` the period).
 */
export async function until<T>(
  fn: () => T | undefined | null | false | 0 | "" | Promise<T | undefined | null | false | 0 | "">,
  opts: UntilOptions | number = {},
  everyMs?: number,
): Promise<T> {
  const o = typeof opts === "number" ? { ms: opts, everyMs } : opts;
  const end = Date.now() + (o.ms ?? 20_000);
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${o.what ?? "a condition"}`);
    await new Promise((r) => setTimeout(r, o.everyMs ?? 20));
  }
}
