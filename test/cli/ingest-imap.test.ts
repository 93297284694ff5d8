// `rebound ingest imap --accounts FILE` (the command, in-process) against real Dovecot on loopback and real
// PostgreSQL, with two accounts from the file, one reading two folders: every mail of every configured folder
// spooled once (by digest, with its account and folder), each folder's mails flagged or moved as its account
// says, a folder not configured left alone, the progress lines of a non-terminal (counts that start at 0 and
// reach each folder's total), the line per account at the end, and a second run that takes nothing.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, TEST_DATABASE_URL, type TestDb } from "../helpers/db.js";
import {
  DOVECOT_PASSWORD,
  dovecotAvailable,
  startDovecot,
  type DovecotInstance,
} from "../helpers/dovecot.js";
import { mailboxBounce } from "../helpers/mailbox-ingest.js";
import { cli } from "./run-cli.js";

let dovecot: DovecotInstance;
let t: TestDb;
let dir: string;

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** `n` bounces put in `user`'s `folder` (made when missing); their digests. */
async function fill(user: string, folder: string, prefix: string, n: number): Promise<string[]> {
  const c = await dovecot.client(user);
  try {
    if (folder !== "INBOX" && !(await c.list()).some((m) => m.path === folder)) await c.mailboxCreate(folder);
    const digests: string[] = [];
    for (let i = 0; i < n; i++) {
      const mail = mailboxBounce(`${prefix}${i}@example.org`);
      await c.append(folder, mail);
      digests.push(sha(mail));
    }
    return digests;
  } finally {
    await c.logout();
  }
}

/** A folder's message count and how many of them carry the $Rebound keyword (null: no such folder). */
async function folderState(
  user: string,
  folder: string,
): Promise<{ messages: number; taken: number } | null> {
  const c = await dovecot.client(user);
  try {
    if (!(await c.list()).some((m) => m.path === folder)) return null;
    const lock = await c.getMailboxLock(folder);
    try {
      const all = (await c.search({ all: true }, { uid: true })) || [];
      const taken = (await c.search({ keyword: "$Rebound" }, { uid: true })) || [];
      return { messages: all.length, taken: taken.length };
    } finally {
      lock.release();
    }
  } finally {
    await c.logout();
  }
}

const PROGRESS = /^([A-Za-z0-9_.-]+)\/(\S+) \[([#-]{30})\] (\d+)\/(\d+) \(\d+\/s\)$/;

describe.skipIf(!dovecotAvailable && !process.env.CI)(
  "rebound ingest imap, several accounts and folders",
  () => {
    beforeAll(async () => {
      dovecot = await startDovecot();
      t = await createTestDb();
      dir = mkdtempSync(join(tmpdir(), "rebound-cli-imap-"));
      process.env.DATABASE_URL = TEST_DATABASE_URL;
      process.env.REBOUND_DATABASE_SCHEMA = t.schema;
      process.env.REBOUND_LOG_LEVEL = "silent";
      // Without Redis the mails stay pending for the intake's sweeper: what this test expects.
      delete process.env.REDIS_URL;
    }, 60_000);
    afterAll(async () => {
      await dovecot?.stop();
      await t?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("spools every configured folder's mails once, flags or moves them per account, draws the progress to each total and says what each account took; a second run takes nothing", async () => {
      // "multi" flags, in INBOX (three batches of 50) and Bounces; its Other folder is not configured.
      // "mover" moves its INBOX (two batches) to Processed, made by the ingest.
      const expected = new Map<string, string[]>([
        ["imap:multi/INBOX", await fill("multi", "INBOX", "mi", 120)],
        ["imap:multi/Bounces", await fill("multi", "Bounces", "mb", 7)],
        ["imap:mover/INBOX", await fill("mover", "INBOX", "vi", 55)],
      ]);
      await fill("multi", "Other", "mo", 2);
      const file = join(dir, "imap-accounts.json");
      const base = { host: "127.0.0.1", port: dovecot.imapPort, secure: false, password: DOVECOT_PASSWORD };
      writeFileSync(
        file,
        JSON.stringify([
          { ...base, name: "multi", user: "multi", folders: ["INBOX", "Bounces"], after: "flag" },
          { ...base, name: "mover", user: "mover", after: "move", moveTo: "Processed" },
        ]),
      );

      const r = await cli("ingest", "imap", "--accounts", file);
      expect(r.stderr.endsWith("\n")).toBe(true);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stderr.slice(0, -1).split("\n");

      // The line per account, last, in the file's order.
      expect(lines.slice(-2)).toEqual([
        "ingest imap: multi: 127 mails taken",
        "ingest imap: mover: 55 mails taken",
      ]);

      // Everything before is the progress of a non-terminal: one line each (no carriage returns), the first at 0
      // when the first folder starts, and each folder's last at its total with a full bar.
      const progress = lines.slice(0, -2).map((l) => {
        const m = PROGRESS.exec(l);
        expect(m, l).not.toBeNull();
        return { at: `${m![1]}/${m![2]}`, bar: m![3]!, done: Number(m![4]), total: Number(m![5]) };
      });
      expect(progress[0]!.done).toBe(0);
      const totals = { "multi/INBOX": 120, "multi/Bounces": 7, "mover/INBOX": 55 };
      expect(new Set(progress.map((p) => p.at))).toEqual(new Set(Object.keys(totals)));
      for (const [at, total] of Object.entries(totals)) {
        const of = progress.filter((p) => p.at === at);
        expect(
          of.every((p) => p.total === total),
          at,
        ).toBe(true);
        const done = of.map((p) => p.done);
        expect(done, at).toEqual([...done].sort((a, b) => a - b));
        expect(
          done.filter((d) => d === total),
          at,
        ).toHaveLength(1);
        expect(done.at(-1), at).toBe(total);
        for (const p of of)
          expect(p.bar, at).toBe("#".repeat(Math.round((p.done / total) * 30)).padEnd(30, "-"));
      }

      // The spool: each mail once, filed under its account and folder, pending (no Redis).
      const rows = await t.db.selectFrom("inbound_mails").select(["sha256", "helo", "status"]).execute();
      expect(rows).toHaveLength(182);
      const byHelo = new Map<string, string[]>();
      for (const row of rows) {
        const helo = String(row.helo);
        byHelo.set(helo, [...(byHelo.get(helo) ?? []), row.sha256]);
      }
      expect(new Map([...byHelo].map(([h, s]) => [h, s.sort()]))).toEqual(
        new Map([...expected].map(([h, s]) => [h, [...s].sort()])),
      );
      expect(new Set(rows.map((row) => row.status))).toEqual(new Set(["pending"]));

      // The servers: multi's two folders flagged in place, its Other untouched, mover's INBOX moved.
      expect(await folderState("multi", "INBOX")).toEqual({ messages: 120, taken: 120 });
      expect(await folderState("multi", "Bounces")).toEqual({ messages: 7, taken: 7 });
      expect(await folderState("multi", "Other")).toEqual({ messages: 2, taken: 0 });
      expect(await folderState("multi", "Processed")).toBeNull();
      expect(await folderState("mover", "INBOX")).toEqual({ messages: 0, taken: 0 });
      expect(await folderState("mover", "Processed")).toEqual({ messages: 55, taken: 0 });

      // Again: nothing left to take, so no progress either, and the spool unchanged.
      const again = await cli("ingest", "imap", "--accounts", file);
      expect(again.code).toBe(0);
      expect(again.stderr).toBe("ingest imap: multi: 0 mails taken\ningest imap: mover: 0 mails taken\n");
      expect(await t.db.selectFrom("inbound_mails").select("id").execute()).toHaveLength(182);
    }, 180_000);
  },
);
