// `rebound ingest postfix-log` on real PostgreSQL: a log file's outcomes become events through the policy (a
// hard bounce suppresses), the saved position makes a second run count nothing twice, appended lines and a
// rotated file are followed, and what must not feed back (null sender, Rebound's own refusals) is left out.
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../../src/core/policy-config.js";
import { createLogger } from "../../../src/log.js";
import { ingestPostfixLog, type IngestCounts } from "../../../src/integrations/postfix/log-ingest.js";
import type { LogAttribution } from "../../../src/integrations/postfix/log-events.js";
import { createTestDb, type TestDb, testHash } from "../../helpers/db.js";
import { until } from "../../helpers/until.js";

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

const deps = () => ({
  db: db.db,
  policy: DEFAULT_POLICY,
  hashAddress: testHash,
  logger,
  now: () => new Date("2026-12-07T12:00:00Z"),
});
const events = () =>
  db.db
    .selectFrom("events")
    .select(["address", "tenant", "stream", "kind", "class", "reason", "source", "rule"])
    .orderBy("id")
    .execute();

describe("ingest postfix-log", () => {
  it("records a delivery and a classified hard bounce, which suppresses, and leaves out notifications and Rebound's own refusals", async () => {
    const file = join(dir, "mail.log");
    writeFileSync(file, text([...SENT, ...UNKNOWN, ...NOTIFICATION, ...OWN_REFUSAL]));
    const counts = await ingestPostfixLog(deps(), { path: file }, { attribution });
    expect(counts).toMatchObject({ lines: 11, sent: 2, bounced: 2, events: 2 });
    expect(counts.skipped).toMatchObject({ null_sender: 1, rebound_refusal: 1 });
    expect(await events()).toEqual([
      expect.objectContaining({
        address: "fine@example.org",
        tenant: "acme",
        stream: "orders",
        kind: "delivery",
        class: "delivered",
        source: "postfix-log",
      }),
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
    expect((await events())[1]!.rule).toMatch(/^postfix-log\.bounced\//);
    const s = await db.db.selectFrom("suppressions").select(["address", "stream", "reason"]).execute();
    expect(s).toEqual([{ address: "gone@example.org", stream: "orders", reason: "userunknown" }]);
  });

  it("counts nothing twice: a second run reads only the lines appended since the saved position", async () => {
    const file = join(dir, "mail.log");
    writeFileSync(file, text(SENT));
    expect((await ingestPostfixLog(deps(), { path: file }, { attribution })).events).toBe(1);
    expect((await ingestPostfixLog(deps(), { path: file }, { attribution })).events).toBe(0);
    appendFileSync(file, text(UNKNOWN));
    const again = await ingestPostfixLog(deps(), { path: file }, { attribution });
    expect(again).toMatchObject({ events: 1, bounced: 1, sent: 0, lines: 3 });
    expect((await events()).map((e) => e.kind)).toEqual(["delivery", "bounce"]);
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
    await until(async () => seen && seen.events === 1);
    appendFileSync(file, text(UNKNOWN.slice(0, 2)));
    await until(async () => seen && seen.events === 2);
    // logrotate: the old file (with one line not read yet) renamed away, a new file at the path.
    appendFileSync(
      file,
      UNKNOWN[2] + "\n" + mail("B0001", "late@example.org", "sent", "2.0.0", "250 OK")[0] + "\n",
    );
    renameSync(file, file + ".1");
    writeFileSync(file, text(mail("B0002", "rotated@example.org", "sent", "2.0.0", "250 OK")));
    await until(async () => seen && seen.events === 3);
    stop.abort();
    await run;
    expect((await events()).map((e) => e.address)).toEqual([
      "fine@example.org",
      "gone@example.org",
      "rotated@example.org",
    ]);
    // A later run resumes in the new file, at its end.
    expect((await ingestPostfixLog(deps(), { path: file }, { attribution })).events).toBe(0);
  });

  it("reads a stream (stdin) once, without a saved position", async () => {
    const counts = await ingestPostfixLog(
      deps(),
      { stream: Readable.from([text(SENT), text(UNKNOWN)]) },
      { attribution },
    );
    expect(counts).toMatchObject({ events: 2, lines: 6 });
    expect(await db.db.selectFrom("log_positions").selectAll().execute()).toEqual([]);
  });
});
