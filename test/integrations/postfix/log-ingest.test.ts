// `rebound ingest postfix-log` on real PostgreSQL: a log file's failures become events through the policy (a
// hard bounce suppresses), a delivery resets an address's soft-bounce state through the policy and is otherwise
// only counted (sent and delivered in the rollups), the saved position makes a second run count nothing twice,
// appended lines and a rotated file are followed, and what must not feed back (null sender, Rebound's own
// refusals) is left out.
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { sql } from "kysely";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/log.js";
import { ingestPostfixLog, type IngestCounts } from "../../../src/integrations/postfix/log-ingest.js";
import type { LogAttribution } from "../../../src/integrations/postfix/log-events.js";
import { createTestDb, type TestDb, testHash } from "../../helpers/db.js";
import { until } from "../../helpers/until.js";
import { ingestDeps, rollupTotals } from "./log-fixtures.js";

const attribution: LogAttribution = {
  verpKeys: [],
  senderStreams: new Map([["shop.example", "orders"]]),
  tenant: "acme",
  defaultTenant: "default",
  defaultStream: "default",
  caseSensitiveLocalPart: false,
};

const mail = (
  id: string,
  to: string,
  status: string,
  dsn: string,
  reply: string,
  from = "orders@shop.example",
) => [
  `Dec  7 04:38:46 relay postfix/qmgr[11608]: ${id}: from=<${from}>, size=341, nrcpt=1 (queue active)`,
  `Dec  7 04:38:47 relay postfix/smtp[11613]: ${id}: to=<${to}>, relay=mx.example.org[192.0.2.10]:25, delay=0.2, delays=0/0/0.1/0, dsn=${dsn}, status=${status} (${reply})`,
  `Dec  7 04:38:47 relay postfix/qmgr[11608]: ${id}: removed`,
];
const SENT = mail("A0001", "fine@example.org", "sent", "2.0.0", "250 2.0.0 OK");
const UNKNOWN = mail(
  "A0002",
  "gone@example.org",
  "bounced",
  "5.1.1",
  "host mx.example.org[192.0.2.10] said: 550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown (in reply to RCPT TO command)",
);
const NOTIFICATION = mail("A0003", "orders@shop.example", "sent", "2.0.0", "250 OK", "");
const OWN_REFUSAL = [
  "Dec  7 04:38:47 relay postfix/qmgr[1]: A0004: from=<orders@shop.example>, size=279, nrcpt=1 (queue active)",
  "Dec  7 04:38:47 relay postfix/error[2]: A0004: to=<old@example.org>, relay=none, delay=0.02, delays=0.01/0.01/0/0, dsn=5.7.1, status=bounced (suppressed by Rebound in every stream: userunknown (hard) since 2026-12-01)",
];
const DEFERRED = (id: string, to: string) =>
  mail(id, to, "deferred", "4.2.2", "host mx.example.org[192.0.2.10] said: 452 4.2.2 Mailbox full");
const text = (lines: string[]) => lines.join("\n") + "\n";

let db: TestDb;
let dir: string;
const logger = createLogger("silent");

beforeEach(async () => {
  await db?.drop();
  db = await createTestDb();
  dir = mkdtempSync(join(tmpdir(), "rebound-log-"));
});

afterAll(async () => {
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const deps = () => ingestDeps(db.db, logger);
const events = () =>
  db.db
    .selectFrom("events")
    .select(["address", "tenant", "stream", "kind", "class", "reason", "source", "rule"])
    .orderBy("id")
    .execute();
/** The hourly rollups' counters summed over every key. */
const rolled = () => rollupTotals(db.db, ["sent", "delivered", "hard", "soft"]);
const stateOf = (address: string) =>
  db.db
    .selectFrom("address_state")
    .select(["soft_level", "soft_reset_at", "next_retry_at", "last_delivery_at"])
    .where("tenant", "=", "acme")
    .where("stream", "=", "orders")
    .where("address_hash", "=", testHash(address))
    .executeTakeFirst();

describe("ingest postfix-log", () => {
  it("counts each recipient's final outcome as sent in the rollups that POST /v1/sends feeds, beside what came back", async () => {
    const file = join(dir, "mail.log");
    const DEFERRED = mail("A0005", "later@example.org", "deferred", "4.2.2", "452 4.2.2 Mailbox full");
    writeFileSync(file, text([...SENT, ...UNKNOWN, ...DEFERRED, ...NOTIFICATION]));
    await ingestPostfixLog(deps(), { path: file }, { attribution });
    const rows = await db.db
      .selectFrom("rollups")
      .select(["tenant", "stream", "provider", "hour", "sent", "delivered", "hard", "soft"])
      .execute();
    const sum = (k: "sent" | "delivered" | "hard" | "soft") => rows.reduce((n, r) => n + Number(r[k]), 0);
    // Delivered and bounced were sent; the deferral is not final (counted when it ends); the notification
    // (null sender) is not a send.
    expect([sum("sent"), sum("delivered"), sum("hard"), sum("soft")]).toEqual([2, 1, 1, 1]);
    expect(new Set(rows.map((r) => `${r.tenant}/${r.stream}/${r.provider}`))).toEqual(
      new Set(["acme/orders/other"]),
    );
    const daily = await db.db.selectFrom("rollups_sp_daily").select(["sent"]).execute();
    expect(daily.reduce((n, r) => n + Number(r.sent), 0)).toBe(2);
  });

  it("records a classified hard bounce, which suppresses, counts a delivery to an address without soft-bounce state with no event, and leaves out notifications and Rebound's own refusals", async () => {
    const file = join(dir, "mail.log");
    writeFileSync(file, text([...SENT, ...UNKNOWN, ...NOTIFICATION, ...OWN_REFUSAL]));
    const counts = await ingestPostfixLog(deps(), { path: file }, { attribution });
    expect(counts).toMatchObject({ lines: 11, sent: 2, bounced: 2, events: 1 });
    expect(counts.skipped).toMatchObject({ null_sender: 1, rebound_refusal: 1 });
    // The delivery of fine@ (no soft-bounce state): sent and delivered in the rollups, no event, no state row.
    expect(await rolled()).toEqual({ sent: 2, delivered: 1, hard: 1, soft: 0 });
    expect(await stateOf("fine@example.org")).toBeUndefined();
    expect(await events()).toEqual([
      expect.objectContaining({
        address: "gone@example.org",
        tenant: "acme",
        stream: "orders",
        kind: "bounce",
        class: "hard",
        reason: "userunknown",
        source: "postfix-log",
      }),
    ]);
    expect((await events())[0]!.rule).toMatch(/^postfix-log\.bounced\//);
    const s = await db.db.selectFrom("suppressions").select(["address", "stream", "reason"]).execute();
    expect(s).toEqual([{ address: "gone@example.org", stream: "orders", reason: "userunknown" }]);
  });

  it("counts nothing twice: a second run reads only the lines appended since the saved position", async () => {
    const file = join(dir, "mail.log");
    writeFileSync(file, text([...SENT, ...UNKNOWN]));
    expect(await ingestPostfixLog(deps(), { path: file }, { attribution })).toMatchObject({
      sent: 1,
      events: 1,
    });
    expect(await ingestPostfixLog(deps(), { path: file }, { attribution })).toMatchObject({
      lines: 0,
      sent: 0,
      events: 0,
    });
    expect(await rolled()).toEqual({ sent: 2, delivered: 1, hard: 1, soft: 0 });
    appendFileSync(
      file,
      text([
        ...mail("A0006", "other@example.org", "sent", "2.0.0", "250 OK"),
        ...DEFERRED("A0007", "full@example.org"),
      ]),
    );
    const again = await ingestPostfixLog(deps(), { path: file }, { attribution });
    expect(again).toMatchObject({ events: 1, deferred: 1, sent: 1, lines: 6 });
    expect((await events()).map((e) => [e.kind, e.class])).toEqual([
      ["bounce", "hard"],
      ["bounce", "soft"],
    ]);
    expect(await rolled()).toEqual({ sent: 3, delivered: 2, hard: 1, soft: 1 });
  });

  it("resets the soft-bounce state of an address that has one through the policy: a delivery event, in a later run or later in the same batch", async () => {
    const file = join(dir, "mail.log");
    writeFileSync(file, text(DEFERRED("C0001", "full@example.org")));
    await ingestPostfixLog(deps(), { path: file }, { attribution });
    const before = await stateOf("full@example.org");
    expect(before?.next_retry_at).not.toBeNull();
    // full@: its state is in the database (an earlier run); busy@: deferred for the first time, then
    // delivered, in one batch (its state not in the database yet when the batch began); calm@: no state.
    appendFileSync(
      file,
      text([
        ...mail("C0003", "full@example.org", "sent", "2.0.0", "250 OK"),
        ...DEFERRED("C0004", "busy@example.org"),
        ...mail("C0005", "busy@example.org", "sent", "2.0.0", "250 OK"),
        ...mail("C0006", "calm@example.org", "sent", "2.0.0", "250 OK"),
      ]),
    );
    const counts = await ingestPostfixLog(deps(), { path: file }, { attribution });
    expect(counts).toMatchObject({ sent: 3, deferred: 1, events: 3 });
    const delivered = await db.db
      .selectFrom("events")
      .select(["address", "kind", "class", "decision"])
      .where("kind", "=", "delivery")
      .orderBy("id")
      .execute();
    expect(delivered.map((e) => [e.address, e.class, (e.decision as { action: string }).action])).toEqual([
      ["full@example.org", "delivered", "reset"],
      ["busy@example.org", "delivered", "reset"],
    ]);
    for (const a of ["full@example.org", "busy@example.org"])
      expect(await stateOf(a)).toEqual({
        soft_level: 0,
        soft_reset_at: new Date("2026-12-07T04:38:47Z"),
        next_retry_at: null,
        last_delivery_at: new Date("2026-12-07T04:38:47Z"),
      });
    expect(await stateOf("calm@example.org")).toBeUndefined();
    // Every delivery counted once as sent and delivered, whether an event counted it or not.
    expect(await rolled()).toEqual({ sent: 3, delivered: 3, hard: 0, soft: 2 });
  });

  it("keeps a mail's sender across runs when its lines fall on both sides of the position", async () => {
    const file = join(dir, "mail.log");
    writeFileSync(file, text(UNKNOWN.slice(0, 1)));
    await ingestPostfixLog(deps(), { path: file }, { attribution });
    appendFileSync(file, text(UNKNOWN.slice(1)));
    await ingestPostfixLog(deps(), { path: file }, { attribution });
    expect(await events()).toEqual([
      expect.objectContaining({ address: "gone@example.org", stream: "orders" }),
    ]);
  });

  it("follows appended lines and a rotated file (renamed away, a new one at its path), then stops on abort", async () => {
    const file = join(dir, "mail.log");
    writeFileSync(file, text(SENT));
    const stop = new AbortController();
    let seen: IngestCounts | undefined;
    const run = ingestPostfixLog(
      deps(),
      { path: file },
      {
        attribution,
        follow: true,
        pollMs: 20,
        signal: stop.signal,
        onBatch: (c) => (seen = { ...c }),
      },
    );
    await until(async () => seen && seen.sent === 1);
    appendFileSync(file, text(UNKNOWN.slice(0, 2)));
    await until(async () => seen && seen.events === 1);
    // logrotate: the old file (with one line not read yet) renamed away, a new file at the path.
    appendFileSync(
      file,
      UNKNOWN[2] + "\n" + mail("B0001", "late@example.org", "sent", "2.0.0", "250 OK")[0] + "\n",
    );
    renameSync(file, file + ".1");
    writeFileSync(file, text(DEFERRED("B0002", "rotated@example.org")));
    await until(async () => seen && seen.events === 2);
    stop.abort();
    await run;
    expect((await events()).map((e) => e.address)).toEqual(["gone@example.org", "rotated@example.org"]);
    // A later run resumes in the new file, at its end.
    expect((await ingestPostfixLog(deps(), { path: file }, { attribution })).lines).toBe(0);
    expect(await rolled()).toEqual({ sent: 2, delivered: 1, hard: 1, soft: 1 });
  });

  it("counts each line once across restarts of --follow: the rollups and events match one run over the whole log", async () => {
    const file = join(dir, "mail.log");
    const mails = Array.from({ length: 30 }, (_, i) =>
      i % 10 === 3
        ? DEFERRED(`D${1000 + i}`, `soft${i}@example.org`)
        : i % 10 === 7
          ? mail(`D${1000 + i}`, `gone${i}@example.org`, "bounced", "5.1.1", "550 5.1.1 User unknown")
          : mail(`D${1000 + i}`, `user${i}@example.org`, "sent", "2.0.0", "250 OK"),
    );
    const follow = async (until_: (c: IngestCounts) => boolean) => {
      const stop = new AbortController();
      let seen: IngestCounts | undefined;
      const run = ingestPostfixLog(
        deps(),
        { path: file },
        { attribution, follow: true, pollMs: 10, signal: stop.signal, onBatch: (c) => (seen = { ...c }) },
      );
      await until(async () => seen && until_(seen));
      stop.abort();
      return run;
    };
    // Three followers one after the other, each stopped after what was appended while it ran; the second
    // mail's lines fall on both sides of the first stop (its qmgr line before, its outcome after).
    writeFileSync(file, text([...mails.slice(0, 10).flat(), mails[10]![0]!]));
    const first = await follow((c) => c.lines === 31);
    appendFileSync(file, text([...mails[10]!.slice(1), ...mails.slice(11, 20).flat()]));
    const second = await follow((c) => c.lines === 29);
    appendFileSync(file, text(mails.slice(20).flat()));
    const third = await follow((c) => c.lines === 30);
    const total = (k: "sent" | "bounced" | "deferred" | "events") => first[k] + second[k] + third[k];
    expect([total("sent"), total("bounced"), total("deferred"), total("events")]).toEqual([24, 3, 3, 6]);
    expect(await rolled()).toEqual({ sent: 27, delivered: 24, hard: 3, soft: 3 });
    const kept = await db.db.selectFrom("log_positions").select("lines").executeTakeFirstOrThrow();
    expect(Number(kept.lines)).toBe(90);
    expect((await events()).map((e) => e.address)).toEqual(
      mails.flatMap((m, i) =>
        i % 10 === 3 ? [`soft${i}@example.org`] : i % 10 === 7 ? [`gone${i}@example.org`] : [],
      ),
    );
  });

  it("commits batch by batch: a batch that fails leaves the one before committed and its own lines to the next run, counted once", async () => {
    const file = join(dir, "mail.log");
    // About 7 MB: two batches (a file's batch is one read of 4 MB). The last mail's bounce fails in the
    // database (a trigger), after the first batch was committed.
    const mails = Array.from({ length: 12_000 }, (_, i) =>
      i % 20 === 7
        ? mail(`E${100000 + i}`, `gone${i}@example.org`, "bounced", "5.1.1", "550 5.1.1 User unknown")
        : mail(`E${100000 + i}`, `user${i}@example.org`, "sent", "2.0.0", "250 2.0.0 Ok: queued as X"),
    );
    mails.push(mail("E999999", "boom@example.org", "bounced", "5.1.1", "550 5.1.1 User unknown"));
    writeFileSync(file, text(mails.flat()));
    await sql`create function boom() returns trigger language plpgsql as $$
      begin if new.address = 'boom@example.org' then raise exception 'boom'; end if; return new; end $$`.execute(
      db.db,
    );
    await sql`create trigger boom before insert on events for each row execute function boom()`.execute(
      db.db,
    );
    let batches = 0;
    await expect(
      ingestPostfixLog(deps(), { path: file }, { attribution, onBatch: () => batches++ }),
    ).rejects.toThrow(/boom/);
    expect(batches).toBe(1);
    const kept = await db.db
      .selectFrom("log_positions")
      .select(["lines", "offset"])
      .executeTakeFirstOrThrow();
    const firstLines = Number(kept.lines);
    expect(firstLines).toBeGreaterThan(0);
    expect(firstLines).toBeLessThan(mails.length * 3);
    // The committed batch's mails, all of them, and nothing of the failed one.
    const firstMails = Math.floor(firstLines / 3);
    expect((await rolled()).sent).toBeGreaterThanOrEqual(firstMails);
    expect((await rolled()).sent).toBeLessThanOrEqual(firstMails + 1);
    await sql`drop trigger boom on events`.execute(db.db);
    const rest = await ingestPostfixLog(deps(), { path: file }, { attribution });
    expect(rest.lines).toBe(mails.length * 3 - firstLines);
    expect(await rolled()).toEqual({ sent: 12_001, delivered: 11_400, hard: 601, soft: 0 });
    expect(
      await db.db
        .selectFrom("events")
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirst(),
    ).toEqual({
      n: "601",
    });
  });

  it("reads a stream (stdin) once, without a saved position", async () => {
    const counts = await ingestPostfixLog(
      deps(),
      { stream: Readable.from([text(SENT), text(UNKNOWN)]) },
      { attribution },
    );
    expect(counts).toMatchObject({ events: 1, sent: 1, bounced: 1, lines: 6 });
    expect(await rolled()).toEqual({ sent: 2, delivered: 1, hard: 1, soft: 0 });
    expect(await db.db.selectFrom("log_positions").selectAll().execute()).toEqual([]);
  });
});
