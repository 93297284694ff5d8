import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, TEST_DATABASE_URL, type TestDb } from "../helpers/db.js";
import { cli } from "./run-cli.js";

let t: TestDb;
const dir = mkdtempSync(join(tmpdir(), "rebound-sends-"));

beforeAll(async () => {
  t = await createTestDb();
  process.env.DATABASE_URL = TEST_DATABASE_URL;
  process.env.REBOUND_DATABASE_SCHEMA = t.schema;
  process.env.REBOUND_LOG_LEVEL = "silent";
});
afterAll(async () => t?.drop());

describe("rebound sends import", () => {
  it("imports NDJSON messages and counts as the API does, once per Message-ID and batch id", async () => {
    const sentAt = new Date(Date.now() - 600_000).toISOString();
    const file = join(dir, "sends.ndjson");
    writeFileSync(
      file,
      [
        { recipient: "a@gmail.com", stream: "marketing", campaign: "cli", messageId: "cli-1@x", sentAt },
        { stream: "marketing", campaign: "cli", provider: "yahoo", hour: sentAt, count: 7 },
        { stream: "marketing", campaign: "cli", provider: "yahoo", hour: sentAt, count: -1 },
      ]
        .map((r) => JSON.stringify(r))
        .join("\n"),
    );
    const first = await cli("sends", "import", file, "--tenant", "acme", "--batch-id", "cli-b1");
    expect(first.code).toBe(2);
    expect(JSON.parse(first.stdout)).toMatchObject({
      received: 3,
      accepted: 1,
      counted: 1,
      invalid: 1,
      errors: [{ line: 3, code: "negative_count" }],
    });
    const again = await cli("sends", "import", file, "--tenant", "acme", "--batch-id", "cli-b1");
    expect(JSON.parse(again.stdout)).toMatchObject({
      accepted: 0,
      counted: 0,
      duplicates: 2,
      batchDuplicate: true,
    });
    const rows = await t.db
      .selectFrom("rollups")
      .select(["provider", "sent"])
      .where("tenant", "=", "acme")
      .where("campaign", "=", "cli")
      .orderBy("provider")
      .execute();
    expect(rows.map((r) => [r.provider, Number(r.sent)])).toEqual([
      ["google", 1],
      ["yahoo", 7],
    ]);
  });

  it("imports a JSON file of sends", async () => {
    const file = join(dir, "sends.json");
    const sentAt = new Date().toISOString();
    writeFileSync(
      file,
      JSON.stringify({
        sends: [{ recipient: "j@icloud.com", stream: "receipts", messageId: "cli-j@x", sentAt }],
      }),
    );
    const out = await cli("sends", "import", file, "--tenant", "acme");
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ received: 1, accepted: 1, invalid: 0 });
  });
});
