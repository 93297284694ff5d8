import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, TEST_DATABASE_URL, type TestDb } from "../helpers/db.js";
import { cli } from "./run-cli.js";

let t: TestDb;

beforeAll(async () => {
  t = await createTestDb();
  process.env.DATABASE_URL = TEST_DATABASE_URL;
  process.env.REBOUND_DATABASE_SCHEMA = t.schema;
  process.env.REBOUND_LOG_LEVEL = "silent";
});
afterAll(async () => t?.drop());

describe("rebound suppressions check|add|remove|export|import", () => {
  it("adds by hand, checks, exports and removes with a note", async () => {
    expect(
      (
        await cli(
          "suppressions",
          "add",
          "Ann@Example.com",
          "--tenant",
          "acme",
          "--stream",
          "marketing",
          "--reason",
          "userunknown",
          "--note",
          "asked",
        )
      ).code,
    ).toBe(0);
    const check = await cli(
      "suppressions",
      "check",
      "ann@example.com",
      "bob@example.com",
      "--tenant",
      "acme",
      "--stream",
      "marketing",
      "--format",
      "json",
    );
    const lines = check.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      {
        address: "ann@example.com",
        suppressed: true,
        stream: "marketing",
        reason: "userunknown",
        class: "hard",
        expiresAt: null,
      },
      {
        address: "bob@example.com",
        suppressed: false,
        stream: null,
        reason: null,
        class: null,
        expiresAt: null,
      },
    ]);
    const other = await cli(
      "suppressions",
      "check",
      "ann@example.com",
      "--tenant",
      "other",
      "--format",
      "json",
    );
    expect(JSON.parse(other.stdout).suppressed).toBe(false);

    const exp = await cli("suppressions", "export", "--tenant", "acme");
    expect(exp.stdout.split("\n")[1]).toMatch(/^ann@example\.com,marketing,userunknown,hard,manual,/);

    const removed = await cli(
      "suppressions",
      "remove",
      "ann@example.com",
      "--tenant",
      "acme",
      "--note",
      "wrong person",
    );
    expect(removed.code).toBe(0);
    const log = await t.db
      .selectFrom("suppression_log")
      .select(["actor", "note"])
      .where("action", "=", "removed")
      .executeTakeFirstOrThrow();
    expect(log).toEqual({ actor: "cli", note: "wrong person" });
    expect((await cli("suppressions", "remove", "ann@example.com", "--tenant", "acme")).code).toBe(1);
  });

  it("imports a file, reporting invalid rows and exiting 2 when there were any", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rebound-import-"));
    const file = join(dir, "list.csv");
    writeFileSync(file, "email,reason\none@example.com,mailboxfull\nnope,userunknown\n");
    const res = await cli("suppressions", "import", file, "--tenant", "acme", "--stream", "transactional");
    expect(res.code).toBe(2);
    expect(JSON.parse(res.stdout)).toMatchObject({
      received: 2,
      imported: 1,
      invalid: 1,
      errors: [{ line: 3, code: "no_at_sign" }],
    });
    const check = await cli(
      "suppressions",
      "check",
      "one@example.com",
      "--tenant",
      "acme",
      "--stream",
      "transactional",
      "--format",
      "json",
    );
    expect(JSON.parse(check.stdout)).toMatchObject({
      suppressed: true,
      reason: "mailboxfull",
      class: "soft",
    });
  });

  it("refuses an invalid address with the reason", async () => {
    const res = await cli("suppressions", "check", "no-at-sign", "--tenant", "acme");
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("no @");
  });
});
