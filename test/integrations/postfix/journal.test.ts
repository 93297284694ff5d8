// `rebound ingest postfix-log --journal` with the real journalctl on real journal files: Debian's
// systemd-journal-remote turns journal export text into journal files in a directory, read with
// `--journal-directory`. The saved cursor makes a second run, a restarted follower, a reboot between runs and a
// vacuumed journal file count each mail exactly once (a delivery counted as sent and delivered in the rollups, a
// bounce an event); journalctl missing or failing is an error, not a hang.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ingestPostfixLog, type IngestCounts } from "../../../src/integrations/postfix/log-ingest.js";
import type { LogAttribution } from "../../../src/integrations/postfix/log-events.js";
import { createTestDb, TEST_DATABASE_URL, type TestDb } from "../../helpers/db.js";
import { until } from "../../helpers/until.js";
import { cli } from "../../cli/run-cli.js";
import { ingestDeps, rollupsByStream } from "./log-fixtures.js";

const JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote";

let t: TestDb;
let root: string;
let dir: string;
let n = 0;

beforeAll(async () => {
  t = await createTestDb();
  root = mkdtempSync(join(tmpdir(), "rebound-journal-"));
  process.env.DATABASE_URL = TEST_DATABASE_URL;
  process.env.REBOUND_DATABASE_SCHEMA = t.schema;
  process.env.REBOUND_LOOKUP_SENDER_STREAMS = "orders@shop.example=orders";
  process.env.REBOUND_LOG_LEVEL = "silent";
});
afterAll(async () => {
  delete process.env.REBOUND_LOOKUP_SENDER_STREAMS;
  rmSync(root, { recursive: true, force: true });
  await t?.drop();
});
beforeEach(async () => {
  dir = join(root, `j${++n}`);
  mkdirSync(dir);
  await t.db.deleteFrom("events").execute();
  await t.db.deleteFrom("log_positions").execute();
  await t.db.deleteFrom("rollups").execute();
  await t.db.deleteFrom("address_state").execute();
});

const BOOT_A = "a".repeat(32);
const BOOT_B = "b".repeat(32);
/** 2026-12-07T04:00:00Z in microseconds. */
const T0 = Date.UTC(2026, 11, 7, 4) * 1000;

interface Entry {
  ident: string;
  pid: number;
  message: string;
  unit?: string;
}

/** Journal export format: `FIELD=value` lines, a blank line after each entry. */
function exportText(entries: Entry[], boot: string, fromSecond: number): string {
  return (
    entries
      .map((e, i) =>
        [
          `__REALTIME_TIMESTAMP=${T0 + (fromSecond + i) * 1_000_000}`,
          `__MONOTONIC_TIMESTAMP=${(fromSecond + i + 1) * 1_000_000}`,
          `_BOOT_ID=${boot}`,
          "_HOSTNAME=relay",
          `_SYSTEMD_UNIT=${e.unit ?? "postfix@-.service"}`,
          `SYSLOG_IDENTIFIER=${e.ident}`,
          `_PID=${e.pid}`,
          `MESSAGE=${e.message}`,
          "",
        ].join("\n"),
      )
      .join("\n") + "\n"
  );
}

/** A journal file `name` in `dir` holding `entries` (with timestamps from `fromSecond` on, one a second). */
function journalFile(name: string, entries: Entry[], boot: string, fromSecond: number): void {
  const exp = join(root, `${name}-${n}.export`);
  writeFileSync(exp, exportText(entries, boot, fromSecond));
  execFileSync(JOURNAL_REMOTE, [`--output=${join(dir, name)}.journal`, exp], { stdio: "ignore" });
}

/** The journald entries of one whole mail: smtpd, cleanup, qmgr, the delivery agent, qmgr again. */
function mail(id: string, to: string, outcome: "sent" | "bounced", prefix = "postfix"): Entry[] {
  const result =
    outcome === "sent"
      ? "dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4Xyz)"
      : `dsn=5.1.1, status=bounced (host mx.example.org[192.0.2.10] said: 550 5.1.1 <${to}>: Recipient address rejected: User unknown (in reply to RCPT TO command))`;
  return [
    { ident: `${prefix}/smtpd`, pid: 100, message: `${id}: client=app.shop.example[192.0.2.5]` },
    { ident: `${prefix}/cleanup`, pid: 101, message: `${id}: message-id=<${id}@shop.example>` },
    {
      ident: `${prefix}/qmgr`,
      pid: 102,
      message: `${id}: from=<orders@shop.example>, size=1234, nrcpt=1 (queue active)`,
    },
    {
      ident: `${prefix}/smtp`,
      pid: 103,
      message: `${id}: to=<${to}>, relay=mx.example.org[192.0.2.10]:25, delay=0.4, delays=0.1/0/0.2/0.1, ${result}`,
    },
    { ident: `${prefix}/qmgr`, pid: 102, message: `${id}: removed` },
  ];
}
const SSHD: Entry = { ident: "sshd", pid: 7, message: "Accepted publickey for admin", unit: "ssh.service" };

const attribution: LogAttribution = {
  verpKeys: [],
  senderStreams: new Map([["orders@shop.example", "orders"]]),
  tenant: "acme",
  defaultTenant: "default",
  defaultStream: "default",
  caseSensitiveLocalPart: false,
};
const deps = () => ingestDeps(t.db);
const recorded = async () =>
  (await t.db.selectFrom("events").select(["address", "kind", "stream"]).orderBy("id").execute()).map(
    (e) => `${e.address} ${e.kind} ${e.stream}`,
  );
/** The hourly rollups' counters by tenant/stream: where deliveries without soft-bounce state are counted. */
const rolled = () => rollupsByStream(t.db);

describe("ingest postfix-log --journal (journalctl on journal files)", () => {
  it("reads a journal directory, then only the entries of a file added since: each mail counted once, a mail split across the files too", async () => {
    const first = [
      ...mail("C0DE1A01", "one@example.org", "sent"),
      SSHD,
      ...mail("C0DE1A02", "gone@example.org", "bounced"),
    ];
    // A third mail's first lines in the first file, its outcome in the second.
    const split = mail("C0DE1A03", "split@example.org", "sent");
    journalFile("first", [...first, ...split.slice(0, 3)], BOOT_A, 0);
    const r1 = await cli("ingest", "postfix-log", "--journal", "--journal-directory", dir);
    expect(r1.stderr).toBe(
      "ingest postfix-log: 14 lines; sent 1, bounced 1, deferred 0, expired 0; 1 events recorded\n",
    );
    expect(r1.code).toBe(0);
    const pos = await t.db.selectFrom("log_positions").select(["name", "file_id", "lines"]).execute();
    expect(pos).toEqual([
      { name: `journal:@${resolve(dir)}`, file_id: expect.stringMatching(/^s=/), lines: "14" },
    ]);

    journalFile("second", [...split.slice(3), ...mail("C0DE1A04", "two@example.org", "sent")], BOOT_A, 100);
    const r2 = await cli("ingest", "postfix-log", "--journal", "--journal-directory", dir);
    expect(r2.stderr).toBe(
      "ingest postfix-log: 7 lines; sent 2, bounced 0, deferred 0, expired 0; 0 events recorded\n",
    );
    const r3 = await cli("ingest", "postfix-log", "--journal", "--journal-directory", dir);
    expect(r3.stderr).toBe(
      "ingest postfix-log: 0 lines; sent 0, bounced 0, deferred 0, expired 0; 0 events recorded\n",
    );
    expect(await recorded()).toEqual(["gone@example.org bounce orders"]);
    // one@, split@ (its sender from the first run, kept with the cursor) and two@ delivered, gone@ bounced:
    // each once, all in the sender's stream.
    expect(await rolled()).toEqual({ "default/orders": { sent: 4, delivered: 3, hard: 1 } });
  });

  it("reads only the --unit's entries, under a position of its own", async () => {
    journalFile(
      "units",
      [
        ...mail("C0DE2A01", "main@example.org", "sent"),
        ...mail("C0DE2A02", "out@example.org", "bounced", "postfix-out").map((e) => ({
          ...e,
          unit: "postfix@postfix-out.service",
        })),
      ],
      BOOT_A,
      0,
    );
    const r = await cli(
      "ingest",
      "postfix-log",
      "--journal",
      "--unit",
      "postfix@-.service",
      "--journal-directory",
      dir,
    );
    expect(r.stderr).toMatch(/^ingest postfix-log: 5 lines; sent 1, bounced 0,/);
    expect(await recorded()).toEqual([]);
    const all = await cli(
      "ingest",
      "postfix-log",
      "--journal",
      "--unit",
      "postfix@*",
      "--journal-directory",
      dir,
    );
    expect(all.stderr).toMatch(/^ingest postfix-log: 10 lines; sent 1, bounced 1,/);
    expect(await recorded()).toEqual(["out@example.org bounce orders"]);
    // main@ once under each position, out@ once (under postfix@* only).
    expect(await rolled()).toEqual({ "default/orders": { sent: 3, delivered: 2, hard: 1 } });
    expect(
      (await t.db.selectFrom("log_positions").select("name").orderBy("name").execute()).map((p) => p.name),
    ).toEqual([`journal:postfix@*@${resolve(dir)}`, `journal:postfix@-.service@${resolve(dir)}`]);
  });

  it("follows new journal files, and a follower stopped and restarted (after a reboot) resumes after its cursor", async () => {
    journalFile(
      "boot1",
      [...mail("C0DE3A01", "a1@example.org", "sent"), ...mail("C0DE3A02", "a2@example.org", "bounced")],
      BOOT_A,
      0,
    );
    const follow = (stop: AbortController, seen: { c?: IngestCounts }) =>
      ingestPostfixLog(
        deps(),
        { journal: { units: [], directory: dir } },
        { attribution, follow: true, signal: stop.signal, onBatch: (c) => (seen.c = { ...c }) },
      );
    const stop1 = new AbortController();
    const seen1: { c?: IngestCounts } = {};
    const run1 = follow(stop1, seen1);
    await until(() => seen1.c && seen1.c.lines === 10, { what: "the first file's mails" });
    journalFile("boot1b", mail("C0DE3A03", "a3@example.org", "sent"), BOOT_A, 50);
    await until(() => seen1.c && seen1.c.lines === 15, { what: "a file added while following" });
    stop1.abort();
    expect(await run1).toMatchObject({ lines: 15, sent: 2, bounced: 1 });

    // Written while no follower ran, in a later boot (journalctl --follow alone would show only that boot).
    journalFile("boot1c", mail("C0DE3A04", "a4@example.org", "sent"), BOOT_A, 80);
    journalFile("boot2", mail("C0DE3B01", "b1@example.org", "bounced"), BOOT_B, 100);
    journalFile("boot2b", mail("C0DE3B02", "b2@example.org", "sent"), BOOT_B, 200);
    const stop2 = new AbortController();
    const seen2: { c?: IngestCounts } = {};
    const run2 = follow(stop2, seen2);
    await until(() => seen2.c && seen2.c.lines === 15, { what: "the entries written while stopped" });
    stop2.abort();
    expect(await run2).toMatchObject({ lines: 15, sent: 2, bounced: 1 });
    // The bounces (a2@ before the stop, b1@ after the reboot) each once; a1@, a3@, a4@, b2@ delivered, each once.
    expect(await recorded()).toEqual(["a2@example.org bounce orders", "b1@example.org bounce orders"]);
    expect(await rolled()).toEqual({ "acme/orders": { sent: 6, delivered: 4, hard: 2 } });
  });

  it("resumes at the entry after its cursor when the cursor's journal file was vacuumed away", async () => {
    const m = mail("C0DE4A01", "first@example.org", "sent");
    journalFile("old", m.slice(0, 3), BOOT_A, 0);
    await ingestPostfixLog(deps(), { journal: { units: [], directory: dir } }, { attribution });
    rmSync(join(dir, "old.journal"));
    // The new file starts with the delivery of the mail whose sender the old file had: not one entry skipped.
    journalFile("new", [...m.slice(3), ...mail("C0DE4A02", "second@example.org", "sent")], BOOT_B, 100);
    const c = await ingestPostfixLog(deps(), { journal: { units: [], directory: dir } }, { attribution });
    expect(c).toMatchObject({ lines: 7, sent: 2, events: 0 });
    // first@'s delivery (its sender read before the vacuum) and second@'s, in the sender's stream.
    expect(await rolled()).toEqual({ "acme/orders": { sent: 2, delivered: 2, hard: 0 } });
  });

  it("fails with journalctl's words when it fails, and says so when journalctl is missing (no hang)", async () => {
    const bad = await cli(
      "ingest",
      "postfix-log",
      "--journal",
      "--follow",
      "--journal-directory",
      join(dir, "none"),
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/journalctl .* failed \(exit 1\): Failed to open .*none/);
    const path = process.env.PATH;
    process.env.PATH = join(dir, "no-bin");
    try {
      const missing = await cli("ingest", "postfix-log", "--journal", "--follow", "--journal-directory", dir);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/journalctl was not found/);
    } finally {
      process.env.PATH = path;
    }
    expect(await t.db.selectFrom("log_positions").selectAll().execute()).toEqual([]);
  });

  it("refuses a file with --journal, and --unit or --journal-directory without it", async () => {
    const withFile = await cli("ingest", "postfix-log", "--journal", "/var/log/mail.log");
    expect([withFile.code, withFile.stderr]).toEqual([
      1,
      expect.stringMatching(/--journal reads journald, not a file/),
    ]);
    const unit = await cli("ingest", "postfix-log", "--unit", "postfix@-.service", "/var/log/mail.log");
    expect([unit.code, unit.stderr]).toEqual([
      1,
      expect.stringMatching(/--unit and --journal-directory go with --journal/),
    ]);
    const none = await cli("ingest", "postfix-log");
    expect([none.code, none.stderr]).toEqual([1, expect.stringMatching(/a FILE, - for stdin, or --journal/)]);
  });
});
