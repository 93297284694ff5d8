// The alert rules' report counts at the I/O edge (authReportRows), on PostgreSQL and on the embedded PGlite: DMARC
// aggregate rows per sending domain (and source IP) over the reports overlapping the window, with the reports and
// failing IPs named; RFC 6591 reports by their Incidents; and the tenants evaluated for having reports alone.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reportQueries, type ReportQuery } from "../../src/core/alerts/evaluate.js";
import { DEFAULT_RULES } from "../../src/core/alerts/rules.js";
import { parseDmarcAggregate } from "../../src/core/dmarc.js";
import { tenantsToEvaluate } from "../../src/store/alert-figures.js";
import { authReportRows, saveAuthFailureReport } from "../../src/store/authentication.js";
import { saveDmarcReport } from "../../src/store/dmarc.js";
import { googleXml, type RowSpec } from "../helpers/aggregate-reports.js";
import { createEmbeddedTestDb, createTestDb, type TestDb } from "../helpers/db.js";

const NOW = new Date("2026-12-03T09:30:00Z");
const YESTERDAY = Date.parse("2026-12-02T00:00:00Z") / 1000;
const TENANT = "reports-only";
const rule = (id: string) => DEFAULT_RULES.find((r) => r.id === id)!;
const queryOf = (r: (typeof DEFAULT_RULES)[number]): ReportQuery => reportQueries([r], NOW)[0]!;

describe.each([
  ["PostgreSQL", createTestDb],
  ["the embedded PGlite", createEmbeddedTestDb],
])("the report counts of the alert rules on %s", (_name, make) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await make();
    const dmarc = async (org: string, reportId: string, begin: number, rows: RowSpec[]) => {
      const xml = googleXml({ reportId, domain: "lanternfield.example", begin, rows }).replace(
        "<org_name>google.com",
        `<org_name>${org}`,
      );
      await saveDmarcReport(t.db, {
        tenant: TENANT,
        mailId: null,
        source: "dmarc.gz",
        receivedAt: new Date((begin + 86_400 + 3600) * 1000),
        report: parseDmarcAggregate(xml),
      });
    };
    await dmarc("receiver-one.example", "lf-1", YESTERDAY, [
      { ip: "192.0.2.61", count: 200, dkim: "pass", spf: "pass" },
      { ip: "203.0.113.77", count: 120, dkim: "fail", spf: "fail" },
    ]);
    await dmarc("receiver-two.example", "lf-2", YESTERDAY, [
      { ip: "192.0.2.61", count: 40, dkim: "pass", spf: "fail" }, // DKIM aligned: passes DMARC
      { ip: "203.0.113.77", count: 30, dkim: "fail", spf: "fail" },
      { ip: "198.51.100.88", count: 10, dkim: "fail", spf: "fail" },
    ]);
    // A week old: its range does not overlap the last 2 days.
    await dmarc("receiver-one.example", "lf-old", YESTERDAY - 7 * 86_400, [
      { ip: "203.0.113.77", count: 5000, dkim: "fail", spf: "fail" },
    ]);
    const arf = (minutesAgo: number, incidents: number, domain = "lanternfield.example") =>
      saveAuthFailureReport(t.db, {
        tenant: TENANT,
        mailId: null,
        occurredAt: new Date(NOW.getTime() - minutesAgo * 60_000),
        domain,
        sourceIp: "203.0.113.77",
        failure: "dkim",
        incidents,
        reporter: "Failure Reports <ruf@reports.receiver-one.example>",
        details: {},
      });
    await arf(10, 2);
    await arf(20, 1);
    await arf(90, 7); // before the authentication rule's hour
    await arf(5, 1, "quiet.example");
  });
  afterAll(async () => t?.drop());

  it("sums the DMARC rows of the reports overlapping the window per sending domain, naming each report and the failing IPs", async () => {
    const rows = await authReportRows(t.db, TENANT, queryOf(rule("dmarc-failures")));
    expect(rows).toEqual([
      {
        group: { sendingDomain: "lanternfield.example" },
        messages: 400,
        failed: 160,
        reports: 2,
        quoted: [
          {
            reporter: "receiver-one.example",
            reportId: "lf-1",
            begin: "2026-12-02T00:00:00.000Z",
            end: "2026-12-02T23:59:59.000Z",
            messages: 320,
            failed: 120,
            failure: null,
            sourceIp: null,
          },
          {
            reporter: "receiver-two.example",
            reportId: "lf-2",
            begin: "2026-12-02T00:00:00.000Z",
            end: "2026-12-02T23:59:59.000Z",
            messages: 80,
            failed: 40,
            failure: null,
            sourceIp: null,
          },
        ],
        failingIps: [
          { ip: "203.0.113.77", failed: 150 },
          { ip: "198.51.100.88", failed: 10 },
        ],
      },
    ]);
  });

  it("splits them per source IP when the rule does, and keeps to a fixed sending domain", async () => {
    const perIp = {
      ...rule("dmarc-failures"),
      scope: { sendingIp: "*", sendingDomain: "lanternfield.example" },
    };
    const rows = await authReportRows(t.db, TENANT, queryOf(perIp));
    expect(
      rows
        .map((r) => [r.group, r.messages, r.failed, r.reports])
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    ).toEqual([
      [{ sendingIp: "192.0.2.61" }, 240, 0, 2],
      [{ sendingIp: "198.51.100.88" }, 10, 10, 1],
      [{ sendingIp: "203.0.113.77" }, 150, 150, 2],
    ]);
    const other = { ...rule("dmarc-failures"), scope: { sendingDomain: "quiet.example" } };
    expect(await authReportRows(t.db, TENANT, queryOf(other))).toEqual([]);
  });

  it("counts the failure reports that arrived in the authentication rule's hour by their Incidents", async () => {
    const rows = await authReportRows(t.db, TENANT, queryOf(rule("authentication")));
    expect(rows.map((r) => r.group.sendingDomain).sort()).toEqual(["lanternfield.example", "quiet.example"]);
    const lantern = rows.find((r) => r.group.sendingDomain === "lanternfield.example")!;
    expect(lantern).toMatchObject({ messages: 3, failed: 3, reports: 2 });
    expect(lantern.quoted.map((q) => [q.failed, q.failure, q.sourceIp, q.begin])).toEqual([
      [2, "dkim", "203.0.113.77", "2026-12-03T09:20:00.000Z"],
      [1, "dkim", "203.0.113.77", "2026-12-03T09:10:00.000Z"],
    ]);
  });

  it("evaluates a tenant that has nothing but reports received since the earliest window", async () => {
    expect(await tenantsToEvaluate(t.db, [], new Date("2026-12-01T09:30:00Z"))).toContain(TENANT);
    expect(await tenantsToEvaluate(t.db, [], new Date("2026-12-05T00:00:00Z"))).not.toContain(TENANT);
    expect(await tenantsToEvaluate(t.db, [])).not.toContain(TENANT);
  });
});
