import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newMailId } from "../../src/intake/mail-id.js";
import { createSpool } from "../../src/intake/spool.js";
import { getMail, type NewMail } from "../../src/store/mails.js";
import { createTestDb, type TestDb } from "../helpers/db.js";

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => t?.drop());

function mail(over: Partial<NewMail> = {}): NewMail {
  const raw = randomBytes(512);
  return {
    id: newMailId(),
    mailFrom: "",
    rcptTo: ["a@bounces.example.com"],
    raw,
    sha256: createHash("sha256").update(raw).digest("hex"),
    ...over,
  };
}

describe("the spool", () => {
  it("commits mails written at once in fewer, larger batches (group commit), each write resolved after its commit", async () => {
    const batches: string[][] = [];
    const spool = createSpool(t.db, { maxInFlight: 1, onCommitted: (ids) => batches.push(ids) });
    const mails = Array.from({ length: 50 }, () => mail());
    await Promise.all(
      mails.map(async (m) => {
        await spool.write(m);
        expect((await getMail(t.db, m.id))?.raw?.equals(m.raw)).toBe(true);
      }),
    );
    expect(batches.flat().sort()).toEqual(mails.map((m) => m.id).sort());
    expect(batches.length).toBeLessThan(50);
    expect(batches[0]).toHaveLength(1);
  });

  it("fails only the mail that cannot be stored, not the others of its batch", async () => {
    const committed: string[] = [];
    const spool = createSpool(t.db, { maxInFlight: 1, onCommitted: (ids) => committed.push(...ids) });
    const good = Array.from({ length: 5 }, () => mail());
    const bad = mail({ mailFrom: "nul\u0000byte@example.com" });
    const first = mail();
    const results = await Promise.allSettled(
      [first, ...good.slice(0, 2), bad, ...good.slice(2)].map((m) => spool.write(m)),
    );
    expect(results.map((r) => r.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
      "fulfilled",
      "fulfilled",
    ]);
    expect(await getMail(t.db, bad.id)).toBeUndefined();
    expect(committed.sort()).toEqual([first, ...good].map((m) => m.id).sort());
  });

  it("makes ids that sort by arrival time", () => {
    const a = newMailId(new Date("2026-01-01T00:00:00Z"));
    const b = newMailId(new Date("2026-01-01T00:00:00.001Z"));
    expect(a < b).toBe(true);
    expect(a).toMatch(/^[0-9a-z]{26}$/);
  });
});
