// The classifier's threads (src/worker/classify-pool.ts), real threads: the same Report as classify() in this
// thread; a deadline that counts from the moment a thread starts on a mail (not its wait for a thread); a thread
// past it replaced, and the pool classifying on after it.
import { afterEach, describe, expect, it } from "vitest";
import { classify } from "../../src/core/classify.js";
import { ClassifyTimeout, createClassifyPool, type ClassifyPool } from "../../src/worker/classify-pool.js";
import { FIXTURES, fixture } from "./mail-fixtures.js";

const pools: ClassifyPool[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) await p.close();
});
const pool = (threads: number, timeoutMs: number) => {
  const p = createClassifyPool({ threads, timeoutMs });
  pools.push(p);
  return p;
};

const mail = (name: (typeof FIXTURES)[number]) =>
  fixture(name, {
    recipient: "who@example.org",
    returnPath: "bounces+x@bounces.example.net",
    id: "fixed-id",
  });

/** A bounce with a large header: about a second of (linear) classifying at 64 MB. */
function large(mb: number): Buffer {
  const header = "X-Campaign-Trace: list-7731 segment-b variant-2 hop\r\n";
  return Buffer.from(
    "From: MAILER-DAEMON@relay.example.org\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
      header.repeat(Math.ceil((mb * 1024 * 1024) / header.length)) +
      "\r\n<who@example.org>: 550 5.1.1 User unknown\r\n",
  );
}

describe("the classifier pool", () => {
  it("gives every fixture the Report classify() gives it in this thread", async () => {
    const p = pool(2, 0);
    const raws = FIXTURES.map(mail);
    const reports = await Promise.all(raws.map((r) => p.classify(r)));
    expect(reports).toEqual(raws.map((r) => classify(r)));
    expect(p.inFlight).toBe(0);
  });

  it("rejects a mail past its deadline with ClassifyTimeout, and a mail that waited for the thread behind it gets its own full deadline", async () => {
    const p = pool(1, 500);
    // Warm: the thread has started and classified once, so the next mail's time is classifying alone.
    await p.classify(mail("dsn-hard"));
    const slow = p.classify(large(64));
    const next = p.classify(mail("dsn-hard"));
    next.catch(() => undefined); // awaited below, after the slow one
    const err = await slow.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ClassifyTimeout);
    expect((err as ClassifyTimeout).message).toBe("classify_timeout: no result within 500 ms");
    // It waited 500 ms behind the slow mail (and a new thread's start): not held against it.
    expect((await next).kind).toBe(classify(mail("dsn-hard")).kind);
    // The replacement thread classifies on.
    expect((await p.classify(mail("arf-complaint"))).kind).toBe("complaint");
  });
});
