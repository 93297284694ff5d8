// A log file's saved position on real PostgreSQL and real files: the position keeps a fingerprint of the file's
// first bytes beside its device and inode, so that a restart that finds another file under the same identity (a
// deleted file's inode given to the next file, or a file rewritten in place) reads it from its start instead of
// resuming at the old file's offset; positions saved before fingerprints still resume where they were; a
// follower's fingerprint follows it into a new or truncated file; and a truncation noticed while following says so.
import { createHash } from "node:crypto";
import {
  appendFileSync,
  copyFileSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/log.js";
import { ingestPostfixLog, type IngestOptions } from "../../../src/integrations/postfix/log-ingest.js";
import { RESTART_SAID } from "../../../src/integrations/postfix/log-file.js";
import { createTestDb, type TestDb } from "../../helpers/db.js";
import { until } from "../../helpers/until.js";
import { ATTRIBUTION, bouncedMail, followLog, ingestDeps, logText } from "./log-fixtures.js";

let db: TestDb;
let dir: string;
let file: string;
let warnings: { why?: string; msg: string }[];

beforeEach(async () => {
  await db?.drop();
  db = await createTestDb();
  dir = mkdtempSync(join(tmpdir(), "rebound-logpos-"));
  file = join(dir, "mail.log");
  warnings = [];
});
afterAll(async () => {
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const deps = () =>
  ingestDeps(db.db, createLogger("warn", { write: (s: string) => void warnings.push(JSON.parse(s)) }));
const bounced = bouncedMail;
const text = logText;
/** The addresses that bounced, one per event (a line counted twice would show twice). */
const bouncedTo = async () =>
  (await db.db.selectFrom("events").select("address").execute()).map((e) => e.address).sort();
const ingestOnce = () => ingestPostfixLog(deps(), { path: file }, { attribution: ATTRIBUTION });
const saved = () =>
  db.db
    .selectFrom("log_positions")
    .select(["file_id", "offset", "fingerprint", "lines"])
    .where("name", "=", file)
    .executeTakeFirstOrThrow();
const idOf = (path: string) => {
  const s = statSync(path);
  return `${s.dev}:${s.ino}`;
};
/** The fingerprint a position over `offset` bytes of `path` has: its first min(1024, offset) bytes. */
const fingerprintOf = (path: string, offset: number) => {
  const head = readFileSync(path).subarray(0, Math.min(1024, offset));
  return `${head.length}:${createHash("sha256").update(head).digest("hex")}`;
};
const follow = (opts: Partial<IngestOptions> = {}) => followLog(deps(), file, opts);

describe("a log file's saved position and fingerprint", () => {
  it("reads from its start a file deleted and made again under the same device and inode, longer than the old offset", async () => {
    writeFileSync(file, text(bounced("A0001", "old1@example.org"), bounced("A0002", "old2@example.org")));
    expect(await ingestOnce()).toMatchObject({ lines: 6, events: 2 });
    const before = await saved();
    expect(before.file_id).toBe(idOf(file));
    // The old file deleted (logrotate's compress of a renamed file, an operator's rm), another made at the path.
    unlinkSync(file);
    writeFileSync(
      file,
      text(
        bounced("B0001", "new1@example.org"),
        bounced("B0002", "new2@example.org"),
        bounced("B0003", "new3@example.org"),
      ),
    );
    // The file system gives the freed inode to the new file (ext4, tmpfs); where it does not, the saved position
    // is given the new file's identity: the same case, and the test cannot pass because the identities differ.
    if (idOf(file) !== before.file_id)
      await db.db
        .updateTable("log_positions")
        .set({ file_id: idOf(file) })
        .execute();
    expect((await saved()).file_id).toBe(idOf(file));
    expect(statSync(file).size).toBeGreaterThan(Number(before.offset));
    expect(await ingestOnce()).toMatchObject({ lines: 9, events: 3 });
    expect(warnings).toEqual([expect.objectContaining({ why: "replaced", msg: RESTART_SAID.replaced })]);
    expect(await bouncedTo()).toEqual([
      "new1@example.org",
      "new2@example.org",
      "new3@example.org",
      "old1@example.org",
      "old2@example.org",
    ]);
    // The position is the new file's now: nothing again, then what is appended.
    expect(await saved()).toMatchObject({
      file_id: idOf(file),
      offset: String(statSync(file).size),
      fingerprint: fingerprintOf(file, statSync(file).size),
    });
    expect(await ingestOnce()).toMatchObject({ lines: 0 });
    appendFileSync(file, text(bounced("B0004", "new4@example.org")));
    expect(await ingestOnce()).toMatchObject({ lines: 3, events: 1 });
    expect(warnings).toHaveLength(1);
  });

  it("reads from its start a file rewritten in place while not followed (same inode, other first bytes)", async () => {
    writeFileSync(file, text(bounced("C0001", "old1@example.org")));
    await ingestOnce();
    const ino = statSync(file).ino;
    const offset = Number((await saved()).offset);
    // Rewritten through the same inode (opened with O_TRUNC), longer than the saved offset.
    writeFileSync(file, text(bounced("D0001", "new1@example.org"), bounced("D0002", "new2@example.org")));
    expect(statSync(file).ino).toBe(ino);
    expect(statSync(file).size).toBeGreaterThan(offset);
    expect(await ingestOnce()).toMatchObject({ lines: 6, events: 2 });
    expect(warnings).toEqual([expect.objectContaining({ why: "replaced" })]);
    expect(await bouncedTo()).toEqual(["new1@example.org", "new2@example.org", "old1@example.org"]);
  });

  it("resumes at its offset a position saved without a fingerprint (before migration 0025), and saves one after", async () => {
    writeFileSync(file, text(bounced("E0001", "a1@example.org"), bounced("E0002", "a2@example.org")));
    await ingestOnce();
    await db.db.updateTable("log_positions").set({ fingerprint: null }).execute();
    appendFileSync(file, text(bounced("E0003", "a3@example.org")));
    expect(await ingestOnce()).toMatchObject({ lines: 3, events: 1 });
    expect(warnings).toEqual([]);
    expect(await bouncedTo()).toEqual(["a1@example.org", "a2@example.org", "a3@example.org"]);
    const size = statSync(file).size;
    expect(size).toBeGreaterThan(1024);
    expect(await saved()).toMatchObject({ offset: String(size), fingerprint: fingerprintOf(file, size) });
    expect((await saved()).fingerprint).toMatch(/^1024:[0-9a-f]{64}$/);
  });

  it("fingerprints the bytes read while the file is under 1024 bytes, then its first 1024: bytes after them may change", async () => {
    writeFileSync(file, text(bounced("F0001", "a1@example.org")));
    await ingestOnce();
    const small = statSync(file).size;
    expect(small).toBeLessThan(1024);
    expect((await saved()).fingerprint).toBe(fingerprintOf(file, small));
    expect((await saved()).fingerprint).toMatch(new RegExp(`^${small}:`));
    appendFileSync(file, text(bounced("F0002", "a2@example.org"), bounced("F0003", "a3@example.org")));
    expect(await ingestOnce()).toMatchObject({ lines: 6 });
    expect((await saved()).fingerprint).toBe(fingerprintOf(file, 1024));
    // Bytes past the first 1024 rewritten in place (same length), then a mail appended: the same file.
    const all = readFileSync(file);
    const i = all.lastIndexOf("F0003");
    expect(i).toBeGreaterThan(1024);
    all.write("F0009", i);
    writeFileSync(file, all);
    appendFileSync(file, text(bounced("F0004", "a4@example.org")));
    expect(await ingestOnce()).toMatchObject({ lines: 3, events: 1 });
    expect(warnings).toEqual([]);
  });

  it("reads the rest of the old file under its rotated name only if its first bytes are still the fingerprinted ones", async () => {
    writeFileSync(file, text(bounced("G0001", "old1@example.org")));
    await ingestOnce();
    appendFileSync(file, text(bounced("G0002", "old2@example.org")));
    renameSync(file, file + ".1");
    // The renamed file (same inode as the saved position's) rewritten with other content, longer.
    writeFileSync(
      file + ".1",
      text(bounced("H0001", "other1@example.org"), bounced("H0002", "other2@example.org")),
    );
    writeFileSync(file, text(bounced("G0003", "new1@example.org")));
    expect(await ingestOnce()).toMatchObject({ lines: 3, events: 1 });
    expect(warnings).toEqual([expect.objectContaining({ why: "rotated" })]);
    expect(await bouncedTo()).toEqual(["new1@example.org", "old1@example.org"]);
  });

  it("still reads the rest of the old file found under its rotated name, then the new file", async () => {
    writeFileSync(file, text(bounced("J0001", "old1@example.org")));
    await ingestOnce();
    appendFileSync(file, text(bounced("J0002", "old2@example.org")));
    renameSync(file, file + "-20261207");
    writeFileSync(file, text(bounced("J0003", "new1@example.org")));
    expect(await ingestOnce()).toMatchObject({ lines: 6, events: 2 });
    expect(warnings).toEqual([]);
    expect(await saved()).toMatchObject({
      file_id: idOf(file),
      fingerprint: fingerprintOf(file, statSync(file).size),
    });
    expect(await bouncedTo()).toEqual(["new1@example.org", "old1@example.org", "old2@example.org"]);
  });

  it("a follower's fingerprint follows it into the new file after a rotation: a restart counts nothing twice", async () => {
    writeFileSync(file, text(bounced("K0001", "a1@example.org")));
    const f = follow();
    await until(() => f.lines() === 3, { what: "the first mail" });
    renameSync(file, file + ".1");
    writeFileSync(file, text(bounced("K0002", "b1@example.org")));
    await until(() => f.lines() === 6, { what: "the new file's mail" });
    appendFileSync(file, text(bounced("K0003", "b2@example.org")));
    await until(() => f.lines() === 9, { what: "the mail appended" });
    await f.stop();
    expect(await saved()).toMatchObject({
      file_id: idOf(file),
      fingerprint: fingerprintOf(file, statSync(file).size),
    });
    expect(await ingestOnce()).toMatchObject({ lines: 0 });
    expect(warnings).toEqual([]);
    expect(await bouncedTo()).toEqual(["a1@example.org", "b1@example.org", "b2@example.org"]);
  });

  it("says a truncation noticed while following is one (copytruncate), and fingerprints the file's new start", async () => {
    writeFileSync(file, text(bounced("L0001", "a1@example.org"), bounced("L0002", "a2@example.org")));
    const f = follow();
    await until(() => f.lines() === 6, { what: "the first mails" });
    copyFileSync(file, file + ".1");
    truncateSync(file, 0);
    appendFileSync(file, text(bounced("L0003", "b1@example.org")));
    await until(() => f.lines() === 9, { what: "the mail after the truncation" });
    await f.stop();
    expect(warnings).toEqual([
      expect.objectContaining({ why: "truncated-followed", msg: RESTART_SAID["truncated-followed"] }),
    ]);
    expect(warnings[0]!.msg).not.toMatch(/not followed/);
    expect(warnings[0]!.msg).toMatch(/truncated in place while followed/);
    expect((await saved()).fingerprint).toBe(fingerprintOf(file, statSync(file).size));
    expect(await ingestOnce()).toMatchObject({ lines: 0 });
    expect(warnings).toHaveLength(1);
    expect(await bouncedTo()).toEqual(["a1@example.org", "a2@example.org", "b1@example.org"]);
  });
});
