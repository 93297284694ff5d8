// A cache of one entry, for facts of the mail being classified.

/**
 * `compute`, remembered for the last argument only. Per-mail facts (the bounce text, what detect() reads, the
 * bounce's own addresses) are read many times while one mail is classified, then never again, so the last
 * mail's are all that is worth keeping. A WeakMap keyed by the mail did the same, but its entries outlived
 * the minor collections: every mail that reached the layouts had its parse tree copied into the old generation
 * (1 to 3 MB per scavenge on the corpus), there to wait for a full collection.
 */
export function lastOnly<K, V>(compute: (key: K) => V): (key: K) => V {
  let lastKey: K | undefined;
  let lastValue: V | undefined;
  let filled = false;
  return (key: K): V => {
    if (filled && key === lastKey) return lastValue as V;
    const value = compute(key);
    lastKey = key;
    lastValue = value;
    filled = true;
    return value;
  };
}
