import { describe, expect, it } from "vitest";
import { BatcherFullError, createBatcher, settleEach, type Settled } from "../../src/util/batcher.js";

/** A run that records its batches and resolves when told to. */
function recorder() {
  const batches: number[][] = [];
  const gates: (() => void)[] = [];
  const run = async (items: number[]): Promise<Settled<number>[]> => {
    batches.push(items);
    await new Promise<void>((r) => gates.push(r));
    return items.map((n) =>
      n < 0 ? { ok: false, error: new Error(`bad ${n}`) } : { ok: true, value: n * 10 },
    );
  };
  const release = async () => {
    while (!gates.length) await new Promise((r) => setImmediate(r));
    gates.shift()!();
  };
  return { batches, run, release };
}

describe("the batcher", () => {
  it("runs a lone item at once and groups the items that arrive while a batch runs", async () => {
    const r = recorder();
    const b = createBatcher(r.run, { maxItems: 3 });
    const results = [1, 2, 3, 4, 5].map((n) => b.submit(n));
    await r.release();
    await r.release();
    await r.release();
    expect(await Promise.all(results)).toEqual([10, 20, 30, 40, 50]);
    expect(r.batches).toEqual([[1], [2, 3, 4], [5]]);
    await b.drain();
  });

  it("starts a second batch beside a running one only once enough items wait for it", async () => {
    const r = recorder();
    const b = createBatcher(r.run, { maxItems: 4, maxInFlight: 2, overlapAt: 3 });
    const results = [1, 2, 3].map((n) => b.submit(n));
    await new Promise((res) => setImmediate(res));
    // 1 runs; 2 and 3 wait for it (two items, fewer than three).
    expect(r.batches).toEqual([[1]]);
    results.push(b.submit(4));
    await new Promise((res) => setImmediate(res));
    // Three wait: a second batch beside the first.
    expect(r.batches).toEqual([[1], [2, 3, 4]]);
    results.push(b.submit(5));
    await r.release();
    await new Promise((res) => setImmediate(res));
    // The first ended: one still runs, and the lone item waits for three, or for nothing to run.
    expect(r.batches).toEqual([[1], [2, 3, 4]]);
    await r.release();
    await r.release();
    expect(await Promise.all(results)).toEqual([10, 20, 30, 40, 50]);
    expect(r.batches).toEqual([[1], [2, 3, 4], [5]]);
    await b.drain();
  });

  it("stops a batch before its weight limit but always takes one item", async () => {
    const r = recorder();
    const b = createBatcher(r.run, { maxItems: 10, weight: (n) => n, maxWeight: 5 });
    const results = [1, 9, 2, 2, 2].map((n) => b.submit(n));
    for (let i = 0; i < 4; i++) await r.release();
    await Promise.all(results);
    expect(r.batches).toEqual([[1], [9], [2, 2], [2]]);
  });

  it("rejects only the items whose result failed, and every item when the run throws", async () => {
    const r = recorder();
    const b = createBatcher(r.run, { maxItems: 10 });
    const first = b.submit(1);
    const [ok, bad] = [b.submit(2), b.submit(-3)];
    await r.release();
    await r.release();
    expect(await first).toBe(10);
    expect(await ok).toBe(20);
    await expect(bad).rejects.toThrow("bad -3");

    const broken = createBatcher<number, number>(async () => {
      throw new Error("down");
    });
    await expect(broken.submit(1)).rejects.toThrow("down");
  });

  it("refuses an item at once when maxQueued items wait, and takes one again once the queue moves", async () => {
    const r = recorder();
    const b = createBatcher(r.run, { maxItems: 10, maxQueued: 2 });
    const first = b.submit(1); // in flight
    const waiting = [b.submit(2), b.submit(3)];
    await expect(b.submit(4)).rejects.toBeInstanceOf(BatcherFullError);
    expect(b.queued).toBe(2);
    await r.release();
    expect(await first).toBe(10);
    // 2 and 3 go into the next batch: the queue has room again.
    while (b.queued) await new Promise((r) => setImmediate(r));
    const later = b.submit(5);
    await r.release();
    await r.release();
    expect(await Promise.all([...waiting, later])).toEqual([20, 30, 50]);
    expect(r.batches).toEqual([[1], [2, 3], [5]]);
    await b.drain();
  });

  it("takes an aborted item out of the queue (it never runs) but lets one already in a batch run", async () => {
    const r = recorder();
    const b = createBatcher(r.run, { maxItems: 10 });
    const inFlight = new AbortController();
    const queued = new AbortController();
    const first = b.submit(1, inFlight.signal);
    const second = b.submit(2, queued.signal);
    const third = b.submit(3);
    inFlight.abort(new Error("too late"));
    queued.abort(new Error("gave up"));
    await expect(second).rejects.toThrow("gave up");
    expect(b.queued).toBe(1);
    await r.release();
    await r.release();
    expect(await Promise.all([first, third])).toEqual([10, 30]);
    expect(r.batches).toEqual([[1], [3]]);
    await b.drain();
  });

  it("drains: resolves once every item submitted has settled", async () => {
    const r = recorder();
    const b = createBatcher(r.run, { maxInFlight: 2 });
    let settled = 0;
    for (const n of [1, 2, 3]) void b.submit(n).then(() => settled++);
    const drained = b.drain().then(() => settled);
    for (let i = 0; i < 3; i++) await r.release();
    expect(await drained).toBe(3);
    expect(r.batches).toEqual([[1], [2], [3]]);
  });

  it("settles each item of a fallback on its own", async () => {
    const out = await settleEach([1, -1], async (n) => {
      if (n < 0) throw new Error("no");
      return n;
    });
    expect(out[0]).toEqual({ ok: true, value: 1 });
    expect(out[1]).toMatchObject({ ok: false });
  });
});
