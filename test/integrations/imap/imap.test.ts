// `ingest imap` against real Dovecot on loopback and real PostgreSQL: messages taken into the spool byte for byte
// with their envelope, flagged or moved only after, nothing taken twice; a bounce in the mailbox ending as a
// suppression through the running worker; a kill -9 in the middle of a backlog that loses and doubles nothing;
// new mail taken while following.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/log.js";
import { parseImapAccounts, type ImapAccount } from "../../../src/integrations/imap/accounts.js";
import { ingestImapAccount } from "../../../src/integrations/imap/ingest.js";
import { expectBounceSuppressed, killMidBacklog, mailboxBounce } from "../../helpers/mailbox-ingest.js";
import { createTestDb, type TestDb } from "../../helpers/db.js";
import {
  DOVECOT_PASSWORD,
  dovecotAvailable,
  startDovecot,
  type DovecotInstance,
} from "../../helpers/dovecot.js";
import { until } from "../../e2e/until.js";
import { verp } from "../../e2e/fixtures.js";

const logger = createLogger("silent");
let dovecot: DovecotInstance;
let dir: string;

const settings = (user: string, over: Partial<ImapAccount> = {}) => ({
  name: user,
  host: "127.0.0.1",
  port: dovecot.imapPort,
  secure: false,
  user,
  password: DOVECOT_PASSWORD,
  ...over,
});
const account = (user: string, over: Partial<ImapAccount> = {}): ImapAccount =>
  parseImapAccounts(JSON.stringify([settings(user, over)]), () => "")[0]!;

async function append(user: string, mails: Buffer[], folder = "INBOX"): Promise<void> {
  const c = await dovecot.client(user);
  for (const m of mails) await c.append(folder, m);
  await c.logout();
}

async function untaken(user: string, folder = "INBOX"): Promise<number> {
  const c = await dovecot.client(user);
  const lock = await c.getMailboxLock(folder);
  const n = ((await c.search({ unKeyword: "$Rebound" }, { uid: true })) || []).length;
  lock.release();
  await c.logout();
  return n;
}

const deps = (db: TestDb) => ({
  db: db.db,
  logger,
  now: () => new Date(),
  maxMessageBytes: 10 * 1024 * 1024,
});
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe.skipIf(!dovecotAvailable && !process.env.CI)("ingest imap against real Dovecot", () => {
  beforeAll(async () => {
    dovecot = await startDovecot();
    dir = mkdtempSync(join(tmpdir(), "rebound-imap-"));
  }, 60_000);
  afterAll(async () => {
    await dovecot?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("spools every message byte for byte with its envelope, flags it after, and takes nothing on the next run", async () => {
    const t = await createTestDb();
    try {
      const mails = [
        mailboxBounce("a@example.org"),
        mailboxBounce("b@example.org"),
        mailboxBounce("c@example.org"),
      ];
      await append("flagged", mails);
      const counts = await ingestImapAccount(deps(t), account("flagged"));
      expect(counts).toEqual({ taken: 3, tooLarge: 0 });
      const rows = await t.db
        .selectFrom("inbound_mails")
        .select(["sha256", "rcpt_to", "mail_from", "helo", "status", "raw"])
        .orderBy("received_at")
        .execute();
      expect(rows.map((r) => r.sha256).sort()).toEqual(mails.map(sha).sort());
      expect(rows[0]).toMatchObject({ mail_from: "", helo: "imap:flagged/INBOX", status: "pending" });
      expect(rows.map((r) => r.rcpt_to[0]).sort()).toEqual(
        ["a@example.org", "b@example.org", "c@example.org"].map((r) => verp(r).toLowerCase()).sort(),
      );
      expect(await untaken("flagged")).toBe(0);
      expect(await ingestImapAccount(deps(t), account("flagged"))).toEqual({ taken: 0, tooLarge: 0 });
    } finally {
      await t.drop();
    }
  });

  it("moves taken messages to the processed folder, made when missing, and leaves one over the size limit", async () => {
    const t = await createTestDb();
    try {
      await append("mover", [
        mailboxBounce("d@example.org"),
        Buffer.from(`Subject: big\r\n\r\n${"x".repeat(5000)}\r\n`),
      ]);
      const counts = await ingestImapAccount(
        { ...deps(t), maxMessageBytes: 4000 },
        account("mover", { after: "move", moveTo: "Done" }),
      );
      expect(counts).toEqual({ taken: 1, tooLarge: 1 });
      const c = await dovecot.client("mover");
      const inbox = await c.status("INBOX", { messages: true });
      const done = await c.status("Done", { messages: true });
      await c.logout();
      expect([inbox && inbox.messages, done && done.messages]).toEqual([1, 1]);
    } finally {
      await t.drop();
    }
  });

  it("a bounce in the mailbox ends as a suppression, through the running intake's sweeper and worker", async () => {
    await expectBounceSuppressed(
      logger,
      (mail) => append("e2e", [mail]),
      (deps) => ingestImapAccount(deps, account("e2e")),
    );
  });

  it("a kill -9 in the middle of a backlog loses and doubles nothing: every message spooled once by digest, all flagged", async () => {
    const t = await createTestDb();
    try {
      const mails = Array.from({ length: 300 }, (_, i) => mailboxBounce(`k${i}@example.org`));
      await append("killed", mails);
      const atKill = await killMidBacklog({ protocol: "imap", account: settings("killed"), t, dir });
      expect(atKill).toBeLessThan(300);
      await ingestImapAccount(deps(t), account("killed"));
      const digests = await t.db.selectFrom("inbound_mails").select("sha256").execute();
      expect(new Set(digests.map((d) => d.sha256)).size).toBe(300);
      // What was committed but not flagged when killed (one batch at most) is spooled again: the digest makes the
      // worker process it once.
      expect(digests.length - 300).toBeLessThanOrEqual(50);
      expect(await untaken("killed")).toBe(0);
    } finally {
      await t.drop();
    }
  });

  it("takes new mail while following (IDLE), and stops on abort", async () => {
    const t = await createTestDb();
    try {
      const stop = new AbortController();
      const run = ingestImapAccount(deps(t), account("follower"), {
        follow: true,
        pollMs: 600_000,
        signal: stop.signal,
      });
      await new Promise((r) => setTimeout(r, 500));
      await append("follower", [mailboxBounce("new@example.org")]);
      // The next poll is ten minutes away, past the wait's own bound: only IDLE can have told it (the bound is
      // generous for a busy machine, not a measure of speed).
      await until(
        async () => (await t.db.selectFrom("inbound_mails").select("id").execute()).length === 1,
        120_000,
      );
      stop.abort();
      expect(await run).toEqual({ taken: 1, tooLarge: 0 });
    } finally {
      await t.drop();
    }
  });
});
