/** Polls `fn` until it returns something truthy; rejects after `ms`. */
export async function until<T>(
  fn: () => Promise<T | undefined | false>,
  ms = 20_000,
  everyMs = 25,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
