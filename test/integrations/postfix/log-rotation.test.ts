// `rebound ingest postfix-log` through log rotation, on real PostgreSQL and real files: a file truncated in place
// (logrotate's copytruncate) under a running follower, and a file rotated while no follower ran: the restart
// finds the old file under its rotated name and reads its rest, else says that lines may be missed. Deliveries
// are counted (sent and delivered in the rollups), bounces are events: each line counted once, none missed.
import {
  appendFileSync,
  copyFileSync,
  mkdtempSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/log.js";
import { ingestPostfixLog, type IngestOptions } from "../../../src/integrations/postfix/log-ingest.js";
import { createTestDb, type TestDb } from "../../helpers/db.js";
import { until } from "../../helpers/until.js";
import {
  ATTRIBUTION,
  bouncedMail,
  followLog,
  ingestDeps,
  logText,
  rollupTotals,
  sentMail,
} from "./log-fixtures.js";

let db: TestDb;
let dir: string;
let file: string;
let warnings: { why?: string; msg: string }[];

beforeEach(async () => {
  await db?.drop();
  db = await createTestDb();
  dir = mkdtempSync(join(tmpdir(), "rebound-rotation-"));
  file = join(dir, "mail.log");
  warnings = [];
});
afterAll(async () => {
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const deps = () =>
  ingestDeps(db.db, createLogger("warn", { write: (s: string) => void warnings.push(JSON.parse(s)) }));
const attribution = ATTRIBUTION;
const sent = sentMail;
const bounced = bouncedMail;
const text = logText;
/** The addresses bounced, each once per event. */
const eventAddresses = async () =>
  (await db.db.selectFrom("events").select("address").execute()).map((e) => e.address).sort();
/** The hourly rollups' counters summed over every key: each final outcome is sent, each delivery delivered. */
const rolled = () => rollupTotals(db.db, ["sent", "delivered", "hard"]);
const follow = (opts: Partial<IngestOptions> = {}) => followLog(deps(), file, opts);

describe("ingest postfix-log through rotation", () => {
  it("follows a file truncated in place (copytruncate) and written again: no line lost or counted twice", async () => {
    writeFileSync(file, text(sent("C0001", "a1@example.org"), sent("C0002", "a2@example.org")));
    const f = follow();
    await until(() => f.lines() === 6, { what: "the first lines" });
    // logrotate's copytruncate: a copy, the file truncated, then Postfix writes on (fewer bytes than before).
    copyFileSync(file, file + ".1");
    truncateSync(file, 0);
    appendFileSync(file, text(bounced("C0003", "b1@example.org")));
    await until(() => f.lines() === 9, { what: "the lines after the truncation" });
    appendFileSync(file, text(sent("C0004", "b2@example.org"), sent("C0005", "b3@example.org")));
    await until(() => f.lines() === 15, { what: "the lines appended after" });
    expect(await f.stop()).toMatchObject({ lines: 15, sent: 4, bounced: 1, events: 1 });
    expect(await eventAddresses()).toEqual(["b1@example.org"]);
    expect(await rolled()).toEqual({ sent: 5, delivered: 4, hard: 1 });
    // A restart resumes in the truncated file at its end.
    expect(await ingestPostfixLog(deps(), { path: file }, { attribution })).toMatchObject({ lines: 0 });
    expect(await rolled()).toEqual({ sent: 5, delivered: 4, hard: 1 });
  });

  it("reads the rest of a file rotated while no follower ran (found under its new name), then the new file", async () => {
    writeFileSync(file, text(sent("D0001", "old1@example.org")));
    expect(await ingestPostfixLog(deps(), { path: file }, { attribution })).toMatchObject({ sent: 1 });
    // Written after the run, then rotated (renamed, a new file at the path), then written on: nobody following.
    appendFileSync(file, text(bounced("D0002", "old2@example.org")));
    renameSync(file, file + ".1");
    writeFileSync(file, text(sent("D0003", "new1@example.org")));
    const c = await ingestPostfixLog(deps(), { path: file }, { attribution });
    expect(c).toMatchObject({ lines: 6, sent: 1, bounced: 1, events: 1 });
    expect(warnings).toEqual([]);
    // Position in the new file: nothing again, then what is appended to it.
    appendFileSync(file, text(sent("D0004", "new2@example.org")));
    expect(await ingestPostfixLog(deps(), { path: file }, { attribution })).toMatchObject({
      lines: 3,
      sent: 1,
    });
    // old1@, new1@, new2@ delivered and old2@ (the rotated file's rest) bounced, each once.
    expect(await eventAddresses()).toEqual(["old2@example.org"]);
    expect(await rolled()).toEqual({ sent: 4, delivered: 3, hard: 1 });
  });

  it("does the same when the restart is a follower, whose log was rotated by a date-named rename", async () => {
    writeFileSync(file, text(sent("E0001", "old1@example.org")));
    await ingestPostfixLog(deps(), { path: file }, { attribution });
    appendFileSync(file, text(bounced("E0002", "old2@example.org")));
    renameSync(file, file + "-20261207");
    writeFileSync(file, text(sent("E0003", "new1@example.org")));
    const f = follow();
    await until(() => f.lines() === 6, { what: "the old file's rest and the new file" });
    appendFileSync(file, text(sent("E0004", "new2@example.org")));
    await until(() => f.lines() === 9, { what: "a line appended to the new file" });
    expect(await f.stop()).toMatchObject({ lines: 9, sent: 2, bounced: 1, events: 1 });
    expect(warnings).toEqual([]);
    expect(await eventAddresses()).toEqual(["old2@example.org"]);
    expect(await rolled()).toEqual({ sent: 4, delivered: 3, hard: 1 });
  });

  it("warns that lines may be missed when the rotated file is gone (compressed), and reads the new file from its start", async () => {
    writeFileSync(file, text(sent("F0001", "old1@example.org")));
    await ingestPostfixLog(deps(), { path: file }, { attribution });
    appendFileSync(file, text(sent("F0002", "lost@example.org")));
    renameSync(file, file + ".1");
    writeFileSync(file, text(sent("F0003", "new1@example.org")));
    // logrotate's compress: the renamed file replaced by its .gz (another file).
    copyFileSync(file + ".1", file + ".1.gz");
    rmSync(file + ".1");
    const c = await ingestPostfixLog(deps(), { path: file }, { attribution });
    expect(c).toMatchObject({ lines: 3, sent: 1, events: 0 });
    expect(warnings).toEqual([
      expect.objectContaining({
        why: "rotated",
        msg: "the log was rotated or truncated while not followed: lines written meanwhile may be missed",
      }),
    ]);
    // old1@ and new1@ delivered; lost@ (only in the compressed file) not read.
    expect(await rolled()).toEqual({ sent: 2, delivered: 2, hard: 0 });
  });

  it("warns and reads from the start when the file was truncated below the saved position while not followed", async () => {
    writeFileSync(file, text(sent("G0001", "a@example.org"), sent("G0002", "b@example.org")));
    await ingestPostfixLog(deps(), { path: file }, { attribution });
    const ino = statSync(file).ino;
    truncateSync(file, 0);
    appendFileSync(file, text(sent("G0003", "c@example.org")));
    expect(statSync(file).ino).toBe(ino);
    const c = await ingestPostfixLog(deps(), { path: file }, { attribution });
    expect(c).toMatchObject({ lines: 3, sent: 1, events: 0 });
    expect(warnings).toEqual([expect.objectContaining({ why: "truncated" })]);
    // a@, b@, then c@ (the truncated file read from its start) delivered, each once.
    expect(await rolled()).toEqual({ sent: 3, delivered: 3, hard: 0 });
  });
});
