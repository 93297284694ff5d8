// The authentication signal's reports in the pure evaluation: DMARC aggregate counts (the dmarc-failures rule: a
// rate of failing messages per sending domain) and RFC 6591 failure reports (counted with the refusals by the
// authentication rule), passed in as data; the queries that ask for them; the incident naming its reports.
import { describe, expect, it } from "vitest";
import { parseAlertsConfig } from "../../src/core/alerts/config.js";
import {
  evaluate,
  reportQueries,
  type ActiveIncident,
  type RecentEvent,
  type ReportEvidence,
  type ReportRow,
} from "../../src/core/alerts/evaluate.js";
import { emailMessage } from "../../src/core/alerts/notify.js";
import { DEFAULT_RULES, type AlertRule } from "../../src/core/alerts/rules.js";
import { scopeKey } from "../../src/core/alerts/types.js";

const now = new Date("2026-12-03T09:30:00Z");
const rule = (id: string) => DEFAULT_RULES.find((r) => r.id === id)!;

const dmarcReport = (org: string, id: string, messages: number, failed: number): ReportEvidence => ({
  reporter: org,
  reportId: id,
  begin: "2026-12-02T00:00:00.000Z",
  end: "2026-12-02T23:59:59.000Z",
  messages,
  failed,
  failure: null,
  sourceIp: null,
});

/** One sending domain's aggregate rows, summed from its reports. */
function dmarcRow(
  domain: string,
  reports: ReportEvidence[],
  failingIps: ReportRow["failingIps"] = [],
): ReportRow {
  return {
    group: { sendingDomain: domain },
    messages: reports.reduce((n, r) => n + r.messages, 0),
    failed: reports.reduce((n, r) => n + r.failed, 0),
    reports: reports.length,
    quoted: reports,
    failingIps,
  };
}

function arfRow(domain: string, incidents: number[]): ReportRow {
  const quoted = incidents.map((n, i) => ({
    reporter: "DMARC Failure Reports <ruf@receiver.example>",
    reportId: String(100 + i),
    begin: "2026-12-03T09:10:00.000Z",
    end: "2026-12-03T09:10:00.000Z",
    messages: n,
    failed: n,
    failure: "dmarc",
    sourceIp: "203.0.113.250",
  }));
  const total = incidents.reduce((a, b) => a + b, 0);
  return {
    group: { sendingDomain: domain },
    messages: total,
    failed: total,
    reports: incidents.length,
    quoted,
    failingIps: [],
  };
}

function run(
  r: AlertRule,
  reports: ReportRow[],
  o: { events?: RecentEvent[]; active?: ActiveIncident[] } = {},
) {
  return evaluate({
    now,
    rules: [r],
    figures: new Map(),
    events: o.events ?? [],
    reports: new Map([[r.id, reports]]),
    active: o.active ?? [],
  });
}

describe("dmarc-failures: failing messages over the messages reported, per sending domain", () => {
  // messages reported, failing -> severity opened (null: none)
  const table: [number, number, string | null][] = [
    [1000, 99, null], // 9.9%
    [1000, 100, "warning"], // 10%
    [1000, 299, "warning"],
    [1000, 300, "critical"], // 30%
    [99, 99, null], // under 100 messages reported: no judgement
    [500, 0, null], // every message passed
  ];
  it.each(table)("%i messages reported, %i failing, opens %s", (messages, failed, severity) => {
    const out = run(rule("dmarc-failures"), [
      dmarcRow("news.example.com", [dmarcReport("google.com", "g-1", messages, failed)]),
    ]);
    expect(out.open.map((f) => f.severity)).toEqual(severity ? [severity] : []);
  });

  it("sums the reports of several receivers, and the incident names each report, its counts and the failing IPs", () => {
    const out = run(rule("dmarc-failures"), [
      dmarcRow(
        "news.example.com",
        [dmarcReport("google.com", "g-1", 800, 300), dmarcReport("Enterprise Outlook", "ms-7", 400, 100)],
        [
          { ip: "203.0.113.9", failed: 380 },
          { ip: "198.51.100.20", failed: 20 },
        ],
      ),
      dmarcRow("shop.example.net", [dmarcReport("google.com", "g-2", 900, 9)]),
    ]);
    expect(out.open).toHaveLength(1);
    const f = out.open[0]!;
    expect(f).toMatchObject({
      ruleId: "dmarc-failures",
      kind: "dmarc",
      severity: "critical",
      threshold: 0.3,
      scope: {
        stream: null,
        provider: null,
        campaign: null,
        sendingIp: null,
        sendingDomain: "news.example.com",
      },
    });
    expect(f.value).toBeCloseTo(400 / 1200);
    expect(f.summary).toBe(
      "DMARC failures 33.33% (400 of 1200 messages in 2 aggregate reports: google.com g-1 300/800; " +
        "Enterprise Outlook ms-7 100/400; failing from 203.0.113.9 380, 198.51.100.20 20) in sending domain " +
        "news.example.com over the reports overlapping 2 days: critical (limit 30.00%)",
    );
    expect(f.evidence.figures).toEqual({
      dmarcMessages: 1200,
      dmarcFailed: 400,
      dmarcRate: 400 / 1200,
      reports: 2,
    });
    expect(f.evidence.reports!.map((r) => [r.source, r.reporter, r.reportId, r.messages, r.failed])).toEqual([
      ["dmarc", "google.com", "g-1", 800, 300],
      ["dmarc", "Enterprise Outlook", "ms-7", 400, 100],
    ]);
    expect(f.evidence.failingIps).toEqual([
      { ip: "203.0.113.9", failed: 380 },
      { ip: "198.51.100.20", failed: 20 },
    ]);
    // What the IT team's mail says of it.
    const mail = emailMessage({
      tenant: "default",
      notice: "opened",
      at: now.toISOString(),
      incident: { id: "1", ruleId: f.ruleId, severity: f.severity, summary: f.summary, evidence: f.evidence },
    } as never);
    expect(mail.text).toContain(
      "300 of 800 failing  DMARC aggregate google.com g-1 (2026-12-02T00:00:00.000Z to 2026-12-02T23:59:59.000Z)",
    );
    expect(mail.text).toContain("380  203.0.113.9");
  });

  it("an incident in force resolves under 5%, stays open at 6%, and resolves when no report overlaps the window", () => {
    const r = rule("dmarc-failures");
    const scope = {
      stream: null,
      provider: null,
      campaign: null,
      sendingIp: null,
      sendingDomain: "news.example.com",
    };
    const active: ActiveIncident[] = [
      {
        id: "9",
        ruleId: r.id,
        scopeKey: scopeKey(scope),
        scope,
        severity: "warning",
        notedValue: 0.12,
        updates: 0,
      },
    ];
    const at = (failed: number) =>
      run(r, [dmarcRow("news.example.com", [dmarcReport("google.com", "g-3", 1000, failed)])], { active });
    expect(at(60).resolve).toEqual([]);
    expect(at(60).update.map((u) => u.severity)).toEqual(["warning"]);
    expect(at(40).resolve.map((x) => x.incidentId)).toEqual(["9"]);
    expect(run(r, [], { active }).resolve.map((x) => x.summary)).toEqual([
      "dmarc-failures: nothing sent or seen in sending domain news.example.com over 2 days: resolved",
    ]);
  });

  it("asks for the aggregate rows overlapping the last 2 days per sending domain, and per IP when the rule splits by it", () => {
    expect(reportQueries([rule("dmarc-failures")], now)).toEqual([
      {
        ruleId: "dmarc-failures",
        source: "dmarc",
        groupBy: ["sendingDomain"],
        filters: {},
        from: new Date("2026-12-01T09:30:00Z"),
        to: now,
      },
    ]);
    const perIp = { ...rule("dmarc-failures"), scope: { sendingIp: "*", sendingDomain: "news.example.com" } };
    expect(reportQueries([perIp], now)[0]).toMatchObject({
      groupBy: ["sendingIp"],
      filters: { sendingDomain: "news.example.com" },
    });
    const out = run(perIp, [
      {
        ...dmarcRow("news.example.com", [dmarcReport("google.com", "g-4", 200, 200)]),
        group: { sendingIp: "203.0.113.9" },
      },
      {
        ...dmarcRow("news.example.com", [dmarcReport("google.com", "g-4", 900, 0)]),
        group: { sendingIp: "192.0.2.10" },
      },
    ]);
    expect(out.open.map((f) => [f.scope.sendingIp, f.scope.sendingDomain, f.severity])).toEqual([
      ["203.0.113.9", "news.example.com", "critical"],
    ]);
  });

  it("the alerts file refuses a dmarc rule scoped by stream, or with levels over 1", () => {
    expect(() =>
      parseAlertsConfig(
        JSON.stringify({
          rules: { "dmarc-failures": { scope: { stream: "news" }, levels: { warning: 10 } } },
        }),
        "alerts.json",
      ),
    ).toThrow(
      /rules\.dmarc-failures\.scope\.stream: a dmarc rule reads the receivers' aggregate reports, which name no stream[\s\S]*rules\.dmarc-failures\.levels: a dmarc rule's levels are fractions/,
    );
  });
});

describe("authentication: failure reports count with the refusals", () => {
  const refusal = (n: number): RecentEvent => ({
    id: String(n),
    stream: "news",
    provider: "microsoft",
    campaign: null,
    sendingIp: null,
    sendingDomain: "news.example.com",
    recipient: `r${n}@outlook.com`,
    reason: "blocked",
    class: "block",
    rule: null,
    status: "5.7.515",
    diagnostic: "550 5.7.515 Access denied",
    occurredAt: new Date(now.getTime() - 10 * 60_000),
  });

  it("three failure reports (Incidents summed) about a sending domain open a warning on that domain, naming the reports", () => {
    const out = run(rule("authentication"), [
      arfRow("news.example.com", [1, 2]),
      arfRow("quiet.example", [1]),
    ]);
    expect(out.open).toHaveLength(1);
    const f = out.open[0]!;
    expect([f.severity, f.value, f.scope]).toEqual([
      "warning",
      3,
      { stream: null, provider: null, campaign: null, sendingIp: null, sendingDomain: "news.example.com" },
    ]);
    expect(f.summary).toBe(
      "3 authentication failures (0 refusals, 3 in 2 failure reports from DMARC Failure Reports " +
        "<ruf@receiver.example>) in sending domain news.example.com over 1 h: warning (at 3)",
    );
    expect(f.evidence.figures).toMatchObject({ events: 0, failureReports: 3, failures: 3 });
    expect(f.evidence.reports!.map((r) => [r.source, r.reportId, r.failed, r.failure, r.sourceIp])).toEqual([
      ["arf", "101", 2, "dmarc", "203.0.113.250"],
      ["arf", "100", 1, "dmarc", "203.0.113.250"],
    ]);
  });

  it("a rule not split by stream and provider adds the reports to the refusals of the same domain", () => {
    const byDomain = { ...rule("authentication"), scope: { sendingDomain: "*" } };
    const out = run(byDomain, [arfRow("news.example.com", [1])], { events: [refusal(1), refusal(2)] });
    expect(out.open.map((f) => [f.value, f.scope.sendingDomain])).toEqual([[3, "news.example.com"]]);
    expect(out.open[0]!.summary).toMatch(
      /^3 authentication failures \(2 refusals, 1 in 1 failure report from /,
    );
  });

  it("a rule fixed on a stream does not ask for reports (they name none) and does not count them", () => {
    const fixed = { ...rule("authentication"), scope: { stream: "news", sendingDomain: "*" } };
    expect(reportQueries([fixed], now)).toEqual([]);
    expect(run(fixed, [arfRow("news.example.com", [5])]).open).toEqual([]);
    expect(reportQueries([rule("authentication")], now)).toEqual([
      {
        ruleId: "authentication",
        source: "arf",
        groupBy: ["sendingDomain"],
        filters: {},
        from: new Date("2026-12-03T08:30:00Z"),
        to: now,
      },
    ]);
  });
});
