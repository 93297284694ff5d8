// `rebound ingest postfix-log FILE|-` on real PostgreSQL: the summary line, the events it recorded, and a
// second run of the same file that counts nothing again.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, TEST_DATABASE_URL, type TestDb } from "../helpers/db.js";
import { cli } from "./run-cli.js";

let t: TestDb;
let dir: string;
const LOG = [
  "Dec  7 04:38:46 relay postfix/qmgr[1]: C0001: from=<news@shop.example>, size=341, nrcpt=1 (queue active)",
  "Dec  7 04:38:47 relay postfix/smtp[2]: C0001: to=<gone@example.org>, relay=mx.example.org[192.0.2.10]:25, delay=0.2, delays=0/0/0.1/0, dsn=5.1.1, status=bounced (host mx.example.org[192.0.2.10] said: 550 5.1.1 User unknown (in reply to RCPT TO command))",
  "Dec  7 04:38:47 relay postfix/qmgr[1]: C0001: removed",
].join("\n");

beforeAll(async () => {
  t = await createTestDb();
  dir = mkdtempSync(join(tmpdir(), "rebound-cli-ingest-"));
  process.env.DATABASE_URL = TEST_DATABASE_URL;
  process.env.REBOUND_DATABASE_SCHEMA = t.schema;
  process.env.REBOUND_LOOKUP_SENDER_STREAMS = "news@shop.example=marketing";
  process.env.REBOUND_LOG_LEVEL = "silent";
});
afterAll(async () => {
  delete process.env.REBOUND_LOOKUP_SENDER_STREAMS;
  rmSync(dir, { recursive: true, force: true });
  await t?.drop();
});

describe("rebound ingest postfix-log", () => {
  it("records the log's bounce in the sender's stream and says what it counted; a second run counts nothing", async () => {
    const file = join(dir, "mail.log");
    writeFileSync(file, LOG + "\n");
    const r = await cli("ingest", "postfix-log", file);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      "ingest postfix-log: 3 lines; sent 0, bounced 1, deferred 0, expired 0; 1 events recorded\n",
    );
    const rows = await t.db.selectFrom("suppressions").select(["address", "stream", "reason"]).execute();
    expect(rows).toEqual([{ address: "gone@example.org", stream: "marketing", reason: "userunknown" }]);
    const again = await cli("ingest", "postfix-log", file);
    expect(again.stderr).toBe(
      "ingest postfix-log: 0 lines; sent 0, bounced 0, deferred 0, expired 0; 0 events recorded\n",
    );
  });

  it("refuses --follow on stdin", async () => {
    const r = await cli("ingest", "postfix-log", "--follow", "-");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--follow and --position need a file, not stdin/);
  });
});
