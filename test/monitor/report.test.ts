// The deliverability report: its model from a real PostgreSQL schema (rollups, events through the worker, the
// suppression log), its HTML mail received by a real SMTP server (smtp-server) and read back with mailparser,
// sent once by several processes at once, and `rebound report` on standard output.
import { randomUUID } from "node:crypto";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { reportWindows } from "../../src/core/deliverability-report.js";
import { DEFAULT_POLICY } from "../../src/core/policy-config.js";
import { renderReport } from "../../src/core/report-render.js";
import { encodeVerp } from "../../src/core/verp.js";
import { createLogger } from "../../src/log.js";
import { buildReport } from "../../src/monitor/report.js";
import { sendScheduledReports, type ReportScheduleConfig } from "../../src/monitor/report-schedule.js";
import { openDb } from "../../src/store/db.js";
import { claimReportRun, finishReportRun, reportRuns } from "../../src/store/report-runs.js";
import { addToRollups } from "../../src/store/rollups.js";
import { insertMail } from "../../src/store/mails.js";
import { processMail } from "../../src/worker/process-mail.js";
import { testClassifier } from "../helpers/classifier.js";
import { createTestDb, TEST_DATABASE_URL, testHash, type TestDb } from "../helpers/db.js";
import { until } from "../helpers/until.js";
import { fixture, sha256, type Fixture } from "../worker/mail-fixtures.js";
import { cli } from "../cli/run-cli.js";

const H = 3_600_000;
const DAY = 24 * H;
/** A Monday morning: the week reported is 2026-03-02 (Monday) to 2026-03-09. */
const NOW = new Date("2026-03-09T08:00:00Z");
const IN_WEEK = new Date("2026-03-04T10:00:00Z");
const WEEK_BEFORE = new Date("2026-02-25T10:00:00Z");
const KEYS = "k1:report-test-secret-0001";
const config = loadConfig({ verpKeys: KEYS, domains: "bounces.example.net" }, {});

let t: TestDb;
let smtp: SMTPServer;
let smtpPort: number;
const received: ParsedMail[] = [];
let refuse = false;

async function bounce(name: Fixture, recipient: string, at: Date) {
  const returnPath = encodeVerp(
    { recipient, stream: "marketing", tenant: "acme" },
    [{ id: "k1", secret: "report-test-secret-0001" }],
    "bounces.example.net",
  );
  const raw = fixture(name, { recipient, returnPath });
  const id = randomUUID();
  await insertMail(t.db, {
    id,
    mailFrom: "",
    rcptTo: [returnPath],
    raw,
    sha256: sha256(raw),
    receivedAt: at,
  });
  const out = await processMail(
    {
      db: t.db,
      config,
      policy: DEFAULT_POLICY,
      hashAddress: testHash,
      logger: createLogger("silent"),
      now: () => at,
      classifier: testClassifier(),
    },
    id,
  );
  expect(out.status).toBe("processed");
}

const counts = (o: Partial<Record<"sent" | "hard" | "complaint" | "block", number>>) => o;

beforeAll(async () => {
  t = await createTestDb();
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    onData(stream, _session, cb) {
      if (refuse) {
        stream.resume();
        stream.on("end", () => cb(new Error("relay refuses for now")));
        return;
      }
      simpleParser(stream).then(
        (m) => {
          received.push(m);
          cb();
        },
        (err: Error) => cb(err),
      );
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  smtpPort = (smtp.server.address() as { port: number }).port;

  const row = (at: Date, stream: string, provider: string, campaign: string, c: Record<string, number>) => ({
    tenant: "acme",
    hour: new Date(Math.floor(at.getTime() / H) * H),
    stream,
    provider,
    campaign,
    sendingIp: "192.0.2.7",
    counts: c,
  });
  await addToRollups(t.db, [
    row(IN_WEEK, "marketing", "google", "spring <sale>", counts({ sent: 1000, hard: 60, complaint: 1 })),
    row(IN_WEEK, "marketing", "microsoft", "spring <sale>", counts({ sent: 500, block: 5 })),
    row(IN_WEEK, "transactional", "google", "receipts", counts({ sent: 2000, hard: 2 })),
    row(WEEK_BEFORE, "marketing", "google", "winter", counts({ sent: 800, hard: 8 })),
    // Outside both weeks: counted nowhere.
    row(new Date("2026-01-10T00:00:00Z"), "marketing", "google", "old", counts({ sent: 99999 })),
  ]);
  await bounce("dsn-hard", "gone@gmail.com", IN_WEEK);
  await bounce("dsn-block-spamhaus", "x@outlook.com", IN_WEEK);
});
afterAll(async () => {
  await new Promise<void>((resolve) => smtp?.close(() => resolve()));
  await t?.drop();
});

describe("reportWindows", () => {
  it("takes the last complete ISO week (Monday to Monday, UTC) or calendar month, and the one before", () => {
    const w = reportWindows("week", new Date("2026-03-11T23:59:00Z"));
    expect([w.current.from, w.current.to, w.previous.from].map((d) => d.toISOString())).toEqual([
      "2026-03-02T00:00:00.000Z",
      "2026-03-09T00:00:00.000Z",
      "2026-02-23T00:00:00.000Z",
    ]);
    const m = reportWindows("month", new Date("2026-03-01T00:00:00Z"));
    expect([m.current.from, m.current.to, m.previous.from].map((d) => d.toISOString())).toEqual([
      "2026-02-01T00:00:00.000Z",
      "2026-03-01T00:00:00.000Z",
      "2026-01-01T00:00:00.000Z",
    ]);
  });
});

describe("the report model", () => {
  it("gives volume and rates per stream and provider beside the previous week, and the lists, with the incidents open in the week", async () => {
    const incident = (tenant: string, openedAt: string, resolvedAt: string | null) =>
      t.db
        .insertInto("incidents")
        .values({
          tenant,
          rule_id: "complaint-rate",
          kind: "rate",
          scope_key: `stream=marketing;${openedAt}`,
          stream: "marketing",
          severity: "warning",
          status: resolvedAt ? "resolved" : "open",
          teams: ["marketing", "legal"],
          summary: `complaints above 0.1% since ${openedAt}`,
          evidence: JSON.stringify({}),
          opened_at: new Date(openedAt),
          updated_at: new Date(openedAt),
          resolved_at: resolvedAt ? new Date(resolvedAt) : null,
        })
        .execute();
    await incident("acme", "2026-03-04T10:00:00Z", null);
    await incident("acme", "2026-02-20T10:00:00Z", "2026-02-21T10:00:00Z"); // over before the week
    await incident("other", "2026-03-04T10:00:00Z", null); // another tenant's
    const m = await buildReport(t.db, { tenant: "acme", period: "week", now: NOW });
    expect(m.from).toBe("2026-03-02T00:00:00.000Z");
    expect(m.totals.current).toMatchObject({ sent: 3500, complaint: 1 });
    expect(m.totals.previous).toMatchObject({ sent: 800, hard: 8, hardRate: 0.01 });
    const marketing = m.streams.find((s) => s.key === "marketing")!;
    expect(marketing.current).toMatchObject({ sent: 1500, block: 6 });
    expect(marketing.previous.sent).toBe(800);
    expect(m.providers.map((p) => p.key)).toEqual(["google", "microsoft"]);
    expect(m.trend).toHaveLength(7);
    expect(m.trend.find((d) => d.day === "2026-03-04")?.sent).toBe(3500);
    expect(m.blocklists).toEqual([{ id: "spamhaus", count: 1 }]);
    expect(m.topReasons.map((r) => r.reason)).toEqual(expect.arrayContaining(["userunknown"]));
    expect(m.suppressions.added).toBe(1);
    // 6% hard bounces: listed, with why; the receipts (0.1%) are not.
    expect(m.lookAt.campaigns.map((c) => [c.name, c.why])).toEqual([
      ["spring <sale>", ["hard-bounce rate above 2%"]],
    ]);
    expect(m.incidents).toMatchObject([
      {
        ruleId: "complaint-rate",
        status: "open",
        summary: "complaints above 0.1% since 2026-03-04T10:00:00Z",
        scope: { stream: "marketing", provider: null },
      },
    ]);
  });

  it("renders HTML with its names escaped, JSON as the model, and CSV rows", async () => {
    const m = await buildReport(t.db, { tenant: "acme", period: "week", now: NOW });
    const html = renderReport(m, "html");
    expect(html).toContain("spring &lt;sale&gt;");
    expect(html).not.toContain("spring <sale>");
    expect(JSON.parse(renderReport(m, "json"))).toEqual(JSON.parse(JSON.stringify(m)));
    const csv = renderReport(m, "csv").trim().split("\r\n");
    expect(csv[0]).toMatch(/^section,name,sent,/);
    expect(csv).toContain("stream,transactional,2000,0,2,0,0,0,0.001,0,0,0,,,,");
    expect(csv.filter((l) => l.startsWith("day,"))).toHaveLength(7);
  });
});

describe("scheduled reports", () => {
  const schedule = (): ReportScheduleConfig => ({
    reportSchedule: "0 7 * * 1",
    reportPeriod: "week",
    reportTenants: ["acme"],
    reportTo: ["team@example.org"],
    mailFrom: "rebound@example.org",
    mailRelayUrl: `smtp://127.0.0.1:${smtpPort}`,
    defaultTenant: "default",
  });

  it("retries a report the relay refused at the next tick", async () => {
    refuse = true;
    const first = await sendScheduledReports({
      db: t.db,
      config: schedule(),
      logger: createLogger("silent"),
      now: () => new Date(NOW.getTime() - 7 * DAY),
    });
    expect(first.failed).toEqual(["acme"]);
    refuse = false;
    const again = await sendScheduledReports({
      db: t.db,
      config: schedule(),
      logger: createLogger("silent"),
      now: () => new Date(NOW.getTime() - 7 * DAY),
    });
    expect(again.sent).toEqual(["acme"]);
    received.splice(0);
  });

  it("mails the week's report once although three processes run the schedule at once", async () => {
    const others = await Promise.all(
      [0, 1].map(() => openDb({ databaseUrl: TEST_DATABASE_URL, schema: t.schema, poolSize: 2 })),
    );
    try {
      const ticks = await Promise.all(
        [t.db, ...others.map((o) => o.db)].map((db) =>
          sendScheduledReports({ db, config: schedule(), logger: createLogger("silent"), now: () => NOW }),
        ),
      );
      expect(ticks.flatMap((x) => x.sent)).toEqual(["acme"]);
      expect(ticks.flatMap((x) => x.skipped)).toEqual(["acme", "acme"]);
    } finally {
      for (const o of others) await o.close();
    }
    await until(async () => received.length >= 1);
    expect(received).toHaveLength(1);
    const runs = await reportRuns(t.db, "acme");
    expect(runs.map((r) => [new Date(r.period_start).toISOString(), r.status])).toEqual([
      ["2026-02-23T00:00:00.000Z", "sent"],
      ["2026-03-02T00:00:00.000Z", "sent"],
    ]);
    // The next tick in the same week sends nothing more.
    const later = await sendScheduledReports({
      db: t.db,
      config: schedule(),
      logger: createLogger("silent"),
      now: () => new Date(NOW.getTime() + H),
    });
    expect(later).toEqual({ sent: [], skipped: ["acme"], failed: [] });
  });

  it("is an HTML mail with the trend drawn as inline SVG, a text part and the figures as CSV", () => {
    const mail = received[0]!;
    expect(mail.subject).toBe("Rebound weekly report for acme: 2026-03-02 to 2026-03-08");
    expect(mail.from?.text).toBe("rebound@example.org");
    const html = mail.html as string;
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).toContain("<polyline");
    expect(html).toContain("spamhaus");
    expect(html).toContain("spring &lt;sale&gt;");
    expect(mail.text).toContain("Blocklists seen: spamhaus (1)");
    expect(mail.attachments.map((a) => [a.filename, a.contentType])).toEqual([
      ["rebound-acme-2026-03-02.csv", "text/csv"],
    ]);
    expect(mail.attachments[0]!.content.toString()).toContain("campaign,spring <sale>,1500");
  });
});

describe("report_runs", () => {
  it("gives a period to one claimant, and again only when its run failed or was left sending for an hour", async () => {
    const key = { tenant: "runs", period: "week", periodStart: new Date("2026-01-05T00:00:00Z") };
    const at = new Date("2026-01-12T07:00:00Z");
    expect(await claimReportRun(t.db, key, at)).toBe(true);
    expect(await claimReportRun(t.db, key, new Date(at.getTime() + 30 * 60_000))).toBe(false);
    // Its process died while sending: taken again after an hour.
    expect(await claimReportRun(t.db, key, new Date(at.getTime() + 61 * 60_000))).toBe(true);
    await finishReportRun(t.db, key, {}, at);
    expect(await claimReportRun(t.db, key, new Date(at.getTime() + 10 * H))).toBe(false);
  });
});

describe("rebound report", () => {
  it("prints the week's report as JSON for a tenant, and refuses an unknown period", async () => {
    process.env.DATABASE_URL = TEST_DATABASE_URL;
    process.env.REBOUND_DATABASE_SCHEMA = t.schema;
    process.env.REBOUND_LOG_LEVEL = "silent";
    const out = await cli("report", "--tenant", "acme", "--format", "json", "--as-of", NOW.toISOString());
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({
      tenant: "acme",
      period: "week",
      totals: { current: { sent: 3500 } },
    });
    const bad = await cli("report", "--period", "year");
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("--period must be one of week, month");
  });
});
