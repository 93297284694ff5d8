import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeVerp } from "../../src/core/verp.js";
import { createLogger } from "../../src/log.js";
import { getMail, insertMail } from "../../src/store/mails.js";
import { markFailed } from "../../src/worker/process-mail.js";
import { createTestDb, TEST_DATABASE_URL, type TestDb } from "../helpers/db.js";
import { fixture, sha256 } from "../worker/mail-fixtures.js";
import { cli } from "./run-cli.js";

const KEY = { id: "k1", secret: "cli-suppressions-secret" };
let t: TestDb;
let failedId: string;

beforeAll(async () => {
  t = await createTestDb();
  process.env.DATABASE_URL = TEST_DATABASE_URL;
  process.env.REBOUND_DATABASE_SCHEMA = t.schema;
  process.env.REBOUND_VERP_KEYS = `${KEY.id}:${KEY.secret}`;
  process.env.REBOUND_LOG_LEVEL = "silent";
  // a mail that failed, for reprocess --failed
  const rcpt = "failed@example.com";
  const rp = encodeVerp(
    { recipient: rcpt, tenant: "acme", stream: "marketing" },
    [KEY],
    "bounces.example.net",
  );
  const raw = fixture("dsn-hard", { recipient: rcpt, returnPath: rp });
  failedId = randomUUID();
  await insertMail(t.db, { id: failedId, mailFrom: "", rcptTo: [rp], raw, sha256: sha256(raw) });
  await markFailed({ db: t.db, logger: createLogger("silent") }, failedId, new Error("boom"));
});
afterAll(async () => t?.drop());

describe("rebound reprocess", () => {
  it("re-runs the mails kept as failed and shows the result in the store", async () => {
    const r = await cli("reprocess", "--failed");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${failedId} processed kind=bounce events=1 suppressed=1`);
    expect(await getMail(t.db, failedId)).toMatchObject({ status: "processed", error: null });
    const show = JSON.parse(
      (await cli("suppressions", "show", "failed@example.com", "--tenant", "acme", "--format", "json"))
        .stdout,
    );
    expect(show.suppressions[0].events).toHaveLength(1);
    expect(show.suppressions[0].events[0]).toMatchObject({ class: "hard", verified: true, mailId: failedId });
  });

  it("re-runs a mail by id, and asks for exactly one of --failed, --all or ids", async () => {
    expect((await cli("reprocess", failedId)).stdout).toContain(`${failedId} processed`);
    expect((await cli("reprocess", "--all")).stdout).toContain(`${failedId} processed`);
    const none = await cli("reprocess");
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/exactly one of --failed, --all or mail ids/);
  });
});
