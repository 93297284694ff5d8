import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AddressState } from "../../src/core/policy.js";
import { saveAddressState } from "../../src/store/address-state.js";
import { withSoftState } from "../../src/store/soft-state.js";
import { createTestDb, testHash, type TestDb } from "../helpers/db.js";

const T0 = new Date("2026-03-02T10:00:00Z");
const NONE: AddressState = { softLevel: 0, softResetAt: null, nextRetryAt: null, lastDeliveryAt: null };

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => t?.drop());

describe("withSoftState", () => {
  it("gives, per stream, the hashes whose address has an escalation level or a retry time in that stream only", async () => {
    const [leveled, retrying, reset, unknown] = [
      "a@example.org",
      "b@example.org",
      "c@example.org",
      "d@example.org",
    ].map(testHash) as [string, string, string, string];
    const save = (stream: string, address: string, s: Partial<AddressState>) =>
      saveAddressState(
        t.db,
        { tenant: "acme", stream, addressHash: testHash(address) },
        { ...NONE, ...s },
        T0,
      );
    await save("news", "a@example.org", { softLevel: 2 });
    await save("billing", "b@example.org", { nextRetryAt: new Date("2026-03-03T10:00:00Z") });
    await save("news", "c@example.org", { lastDeliveryAt: T0 });
    const held = await withSoftState(t.db, [
      { tenant: "acme", stream: "news", hashes: [leveled, retrying, reset, unknown, leveled] },
      { tenant: "acme", stream: "empty", hashes: [] },
      { tenant: "acme", stream: "billing", hashes: [leveled, retrying] },
      { tenant: "other", stream: "news", hashes: [leveled] },
    ]);
    expect(held.map((s) => [...s].sort())).toEqual([[leveled], [], [retrying], []]);
    expect(await withSoftState(t.db, [])).toEqual([]);
  });
});
