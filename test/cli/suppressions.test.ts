import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upsertSuppression } from "../../src/store/suppressions.js";
import { createTestDb, TEST_DATABASE_URL, type TestDb, withHash } from "../helpers/db.js";
import { cli } from "./run-cli.js";

let t: TestDb;

const at = new Date("2026-03-02T10:00:00Z");
beforeAll(async () => {
  t = await createTestDb();
  process.env.DATABASE_URL = TEST_DATABASE_URL;
  process.env.REBOUND_DATABASE_SCHEMA = t.schema;
  process.env.REBOUND_LOG_LEVEL = "silent";
  await upsertSuppression(
    t.db,
    withHash({
      tenant: "acme",
      stream: "marketing",
      address: "one@example.com",
      reason: "userunknown",
      class: "hard",
      source: "bounce",
      rule: "policy.hard <- dsn.status:5.1.1",
      at,
    }),
  );
  await upsertSuppression(
    t.db,
    withHash({
      tenant: "other",
      stream: "*",
      address: "two@example.com",
      reason: "feedback",
      class: "complaint",
      source: "complaint",
      rule: "policy.complaint.all",
      at,
    }),
  );
});
afterAll(async () => t?.drop());

describe("rebound suppressions", () => {
  it("list prints one JSON object per suppression, filtered by tenant", async () => {
    const all = await cli("suppressions", "list", "--format", "json");
    expect(all.code).toBe(0);
    const rows = all.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(rows.map((r) => [r.tenant, r.stream, r.address])).toEqual([
      ["acme", "marketing", "one@example.com"],
      ["other", "*", "two@example.com"],
    ]);
    // The API's style: ids as strings, times as toISOString writes them.
    expect(typeof rows[0].id).toBe("string");
    expect(rows[0].lastSeen).toBe(at.toISOString());
    const acme = await cli("suppressions", "list", "--tenant", "other");
    expect(acme.stdout.trim().split("\n")).toHaveLength(1);
    expect(acme.stdout).toContain("two@example.com\tfeedback\tcomplaint\tpermanent");
  });

  it("show --format json explains an address's suppressions", async () => {
    const r = await cli("suppressions", "show", "ONE@example.com", "--tenant", "acme", "--format", "json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ tenant: "acme", address: "one@example.com", suppressed: true });
    expect(j.suppressions).toMatchObject([
      {
        stream: "marketing",
        reason: "userunknown",
        rule: "policy.hard <- dsn.status:5.1.1",
        events: [],
        log: [{ action: "added", at: at.toISOString() }],
      },
    ]);
    expect(j.suppressions[0].firstSeen).toBe(at.toISOString());
  });

  it("show says when an address is not suppressed, and refuses an invalid address", async () => {
    expect((await cli("suppressions", "show", "nobody@example.com", "--tenant", "acme")).stdout).toMatch(
      /not suppressed/,
    );
    const bad = await cli("suppressions", "show", "not-an-address");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/invalid address "not-an-address"/);
  });
});
