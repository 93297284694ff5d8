// The report stores (migration 0020) on PostgreSQL and on the embedded PGlite: DMARC reports kept once per
// organisation and report id, their rows filtered and summed; TLS reports by policy domain; the authentication
// signal per sending domain and IP from DMARC rows and ARF reports together, per tenant.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDmarcAggregate } from "../../src/core/dmarc.js";
import { parseTlsReport } from "../../src/core/tlsrpt.js";
import { authFailureCounts, saveAuthFailureReport } from "../../src/store/authentication.js";
import { dmarcAggregates, listDmarcReports, listDmarcRows, saveDmarcReport } from "../../src/store/dmarc.js";
import { listTlsReports, saveTlsReport } from "../../src/store/tls-reports.js";
import { googleXml, tlsReportJson } from "../helpers/aggregate-reports.js";
import { createEmbeddedTestDb, createTestDb, type TestDb } from "../helpers/db.js";

const AT = new Date("2026-12-02T09:00:00Z");
const PERIOD = { from: new Date("2026-12-01T00:00:00Z"), to: new Date("2026-12-08T00:00:00Z") };

describe.each([
  ["PostgreSQL", createTestDb],
  ["the embedded PGlite", createEmbeddedTestDb],
])("the report stores on %s", (_name, make) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await make();
  });
  afterAll(async () => t?.drop());

  it("keeps a DMARC report once per tenant, organisation and report id, and a refusal beside it", async () => {
    const report = parseDmarcAggregate(googleXml());
    const base = { mailId: null, source: "dmarc.zip", receivedAt: AT, report };
    const first = await saveDmarcReport(t.db, { ...base, tenant: "acme" });
    expect(first).not.toBeNull();
    expect(await saveDmarcReport(t.db, { ...base, tenant: "acme" })).toBeNull();
    expect(await saveDmarcReport(t.db, { ...base, tenant: "other" })).not.toBeNull();
    await saveDmarcReport(t.db, { ...base, report: undefined, tenant: "acme", error: "refused: too large" });
    await saveDmarcReport(t.db, { ...base, report: undefined, tenant: "acme", error: "refused: too large" });
    const reports = await listDmarcReports(t.db, { tenant: "acme", limit: 10 });
    expect(reports.map((r) => [r.reportId, r.records, r.messages, r.error])).toEqual([
      [null, 0, 0, "refused: too large"],
      [null, 0, 0, "refused: too large"],
      ["4471283650917365210", 4, 130, null],
    ]);
    expect(await listDmarcRows(t.db, { tenant: "acme", limit: 100 })).toHaveLength(4);
  });

  it("filters the rows by result, IP and period, and sums them per source IP", async () => {
    const fail = await listDmarcRows(t.db, { tenant: "acme", result: "fail", limit: 100 });
    expect(fail.map((r) => r.sourceIp).sort()).toEqual(["198.51.100.7", "2001:db8::25"]);
    const pass = await listDmarcRows(t.db, { tenant: "acme", result: "pass", limit: 100 });
    expect(pass.map((r) => r.count).sort((a, b) => a - b)).toEqual([3, 120]);
    expect(
      await listDmarcRows(t.db, { tenant: "acme", from: new Date("2026-12-03T00:00:00Z"), limit: 9 }),
    ).toEqual([]);
    const byIp = await dmarcAggregates(t.db, { tenant: "acme", groupBy: "sourceIp", limit: 10 });
    expect(byIp[0]).toEqual({
      key: "192.0.2.10",
      messages: 123,
      passed: 123,
      failed: 0,
      quarantined: 0,
      rejected: 0,
      reports: 1,
    });
  });

  it("lists TLS reports by the policy domain they speak of", async () => {
    const report = parseTlsReport(tlsReportJson());
    await saveTlsReport(t.db, {
      tenant: "acme",
      mailId: null,
      source: "tlsrpt.media-type",
      receivedAt: AT,
      report,
    });
    expect(
      await saveTlsReport(t.db, { tenant: "acme", mailId: null, source: "x", receivedAt: AT, report }),
    ).toBe(null);
    const found = await listTlsReports(t.db, { tenant: "acme", domain: "FBL.example.com", limit: 10 });
    expect(found.map((r) => [r.successful, r.failed, r.policies.length])).toEqual([[5338, 303, 2]]);
    expect(await listTlsReports(t.db, { tenant: "acme", domain: "nope.example", limit: 10 })).toEqual([]);
    expect(await listTlsReports(t.db, { tenant: "acme", failed: false, limit: 10 })).toEqual([]);
  });

  it("counts DMARC failures and ARF reports together per domain and IP, each tenant apart", async () => {
    const arf = {
      mailId: null,
      occurredAt: AT,
      domain: "shop.example.com",
      sourceIp: "198.51.100.7",
      incidents: 2,
      reporter: "ruf@receiver.example",
      details: { "auth-failure": "dkim" },
    };
    await saveAuthFailureReport(t.db, { ...arf, tenant: "acme", failure: "dkim" });
    await saveAuthFailureReport(t.db, { ...arf, tenant: "acme", failure: "spf", incidents: 1 });
    await saveAuthFailureReport(t.db, {
      ...arf,
      tenant: "acme",
      sourceIp: null,
      failure: null,
      incidents: 1,
    });
    // Outside the period, and another tenant's: not counted.
    await saveAuthFailureReport(t.db, {
      ...arf,
      tenant: "acme",
      failure: "dkim",
      occurredAt: new Date("2026-01-01"),
    });
    await saveAuthFailureReport(t.db, { ...arf, tenant: "nobody", failure: "dkim" });
    const counts = await authFailureCounts(t.db, { tenantId: "acme", ...PERIOD });
    expect(counts.map((c) => [c.domain, c.sourceIp, c.dmarcMessages, c.arfReports, c.total])).toEqual([
      ["shop.example.com", "198.51.100.7", 5, 3, 8],
      ["shop.example.com", "2001:db8::25", 2, 0, 2],
      ["shop.example.com", null, 0, 1, 1],
    ]);
    expect(counts[0]).toMatchObject({
      dispositions: { none: 0, quarantine: 5, reject: 0 },
      failures: { dkim: 2, spf: 1 },
      reporters: ["google.com", "ruf@receiver.example"],
      firstSeen: new Date("2026-12-02T00:00:00Z"),
      lastSeen: new Date("2026-12-02T23:59:59Z"),
    });
    expect(
      await authFailureCounts(t.db, { tenantId: "acme", ...PERIOD, sourceIp: "2001:DB8::25" }),
    ).toHaveLength(1);
  });
});
