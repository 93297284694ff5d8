// The classifier's threads (src/worker/classify-pool.ts), real threads: the same Report as classify() in this
// thread. The deadline is tested end to end in test/e2e/slow-mail.test.ts (a margin that holds on a loaded
// machine: 25 ms against hundreds).
import { afterEach, describe, expect, it } from "vitest";
import { classify } from "../../src/core/classify.js";
import { createClassifyPool, type ClassifyPool } from "../../src/worker/classify-pool.js";
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

describe("the classifier pool", () => {
  it("gives every fixture the Report classify() gives it in this thread", async () => {
    const p = pool(2, 0);
    const raws = FIXTURES.map(mail);
    const reports = await Promise.all(raws.map((r) => p.classify(r)));
    expect(reports).toEqual(raws.map((r) => classify(r)));
    expect(p.inFlight).toBe(0);
  });
});
