import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newMailId } from "../../src/intake/mail-id.js";
import { startSweeper } from "../../src/intake/sweeper.js";
import { createLogger } from "../../src/log.js";
import { createMemoryQueue } from "../../src/queue/memory.js";
import { getMail, insertMail, markEnqueued } from "../../src/store/mails.js";
import { createTestDb, type TestDb } from "../helpers/db.js";

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => t?.drop());

async function pending(): Promise<string> {
  const raw = randomBytes(64);
  const id = newMailId();
  await insertMail(t.db, {
    id,
    mailFrom: "",
    rcptTo: ["a@b.example"],
    raw,
    sha256: createHash("sha256").update(raw).digest("hex"),
  });
  return id;
}

describe("the sweeper", () => {
  it("enqueues mails never enqueued and those enqueued long ago, once each, and marks them", async () => {
    const t0 = new Date();
    let now = t0;
    const never = await pending();
    const stale = await pending();
    const fresh = await pending();
    await markEnqueued(t.db, [stale], new Date(t0.getTime() - 10 * 60_000));
    await markEnqueued(t.db, [fresh], new Date(t0.getTime() - 1_000));

    const queue = createMemoryQueue();
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    queue.process("process-mail", async ({ mailId }) => {
      seen.push(mailId);
      await gate;
    });
    const sweeper = startSweeper(
      { db: t.db, queue, logger: createLogger("silent"), now: () => now },
      { intervalMs: 60_000, staleMs: 5 * 60_000 },
    );
    expect(await sweeper.sweep()).toBe(2);
    // Marked: a second pass finds nothing; and a job still queued is not queued again.
    expect(await sweeper.sweep()).toBe(0);
    now = new Date(t0.getTime() + 1_000);
    expect(await sweeper.sweep({ all: true })).toBe(3);
    release();
    for (let i = 0; i < 200 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    await sweeper.stop();
    await queue.close();
    expect(seen.sort()).toEqual([never, stale, fresh].sort());
    expect((await getMail(t.db, never))?.enqueued_at?.getTime()).toBe(now.getTime());
    expect(seen).toHaveLength(3);
  });
});
