// DMARC aggregate and SMTP TLS reports end to end: sent over SMTP to the reporting addresses of the bounce domain,
// taken by the running intake, stored by the worker on PostgreSQL, read back through the HTTP API (JSON and CSV);
// with RFC 6591 authentication failure reports, counted per sending domain and IP, and both opening the alert
// rules' authentication incidents (dmarc-failures, authentication). Bad archives are refused with their reason
// and their mail kept.
import { readFileSync } from "node:fs";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAlertEngine } from "../../src/alerts/engine.js";
import { loadConfig } from "../../src/config.js";
import { DEFAULT_ALERTS } from "../../src/core/alerts/config.js";
import type { Evidence } from "../../src/core/alerts/evaluate.js";
import { DEFAULT_POLICY } from "../../src/core/policy-config.js";
import { createLogger } from "../../src/log.js";
import { startApp, type App } from "../../src/main.js";
import { authFailureCounts } from "../../src/store/authentication.js";
import { openDb } from "../../src/store/db.js";
import { activeIncidents } from "../../src/store/incidents.js";
import { createKey } from "../../src/store/keys.js";
import { getMail } from "../../src/store/mails.js";
import { processMail } from "../../src/worker/process-mail.js";
import {
  dmarcbisXml,
  dmarcMail,
  googleXml,
  gzip,
  microsoftXml,
  tlsMail,
  tlsReportJson,
  zip,
} from "../helpers/aggregate-reports.js";
import { testClassifier } from "../helpers/classifier.js";
import { TEST_DATABASE_URL, uniqueSchema } from "../helpers/db.js";
import { sendOne } from "../helpers/smtp.js";
import { until } from "../helpers/until.js";

const DOMAIN = "bounces.example.com";
const GOOGLE_NAME = "google.com!shop.example.com!1796169600!1796255999";
const schema = uniqueSchema("dmarc");
let app: App;

/** The worker's processing of a stored mail again (`rebound reprocess`), on the app's database. */
async function reprocess(mailId: string): Promise<void> {
  await processMail(
    {
      db: app.db,
      config: app.config,
      policy: DEFAULT_POLICY,
      logger: createLogger("silent"),
      now: () => new Date(),
      classifier: testClassifier(),
      hashAddress: app.hashAddress,
    },
    mailId,
    { reprocess: true },
  );
}
let token: string;

beforeAll(async () => {
  const config = loadConfig(
    {
      domains: DOMAIN,
      smtpHost: "127.0.0.1",
      smtpPort: 0,
      httpHost: "127.0.0.1",
      httpPort: 0,
      databaseUrl: TEST_DATABASE_URL,
      databaseSchema: schema,
      jobBackoffMs: 50,
      sweepIntervalMs: 200,
      logLevel: "silent",
      domainTenants: "owned.example=acme,tls-owned.example=beta",
      // the bombs take a while to refuse on a busy machine: the classifier's deadline is not what is tested here
      classifyTimeoutMs: 120_000,
    },
    {},
  );
  app = await startApp(config, ["intake", "worker", "api"], { logger: createLogger("silent") });
  token = (await createKey(app.db, { tenant: config.defaultTenant, scopes: ["read"] })).token;
});
afterAll(async () => {
  await app?.close();
  const h = await openDb({ databaseUrl: TEST_DATABASE_URL });
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(h.db);
  await h.close();
});

/** Sends over SMTP to `rcpt`, expects 250, waits until the worker is done with the mail. */
async function deliver(raw: string | Buffer, rcpt: string) {
  const reply = await sendOne(app.smtpPort!, { from: "", to: [rcpt], data: raw });
  expect(reply.code, reply.text).toBe(250);
  const id = /queued as (\w+)/.exec(reply.text)![1]!;
  return until(async () => {
    const m = await getMail(app.db, id);
    return m && ["processed", "duplicate", "failed"].includes(m.status) ? m : undefined;
  });
}

async function api(path: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${app.httpPort}/v1${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
}

async function json<T = Record<string, unknown>>(path: string): Promise<T> {
  const res = await api(path);
  expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
  return (await res.json()) as T;
}

type Rows = { data: Record<string, unknown>[]; nextCursor: string | null };

/** An RFC 6591 authentication failure report (ARF auth-failure) as a receiver sends it; invented hosts. */
function arfAuthFailure(o: { n: number; domain: string; incidents: number }): string {
  return [
    "Return-Path: <>",
    "From: Failure Reports <ruf@reports.receiver-one.example>",
    `To: ruf@${o.domain}`,
    `Date: ${new Date().toUTCString()}`,
    `Subject: [Auth-Failure] ${o.domain}: DKIM failure from 203.0.113.77`,
    `Message-ID: <ruf-${o.n}@reports.receiver-one.example>`,
    "MIME-Version: 1.0",
    'Content-Type: multipart/report; report-type=feedback-report; boundary="ruf-b"',
    "",
    "--ruf-b",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    `An authentication failure report for mail from 203.0.113.77 claiming to be from ${o.domain}.`,
    "",
    "--ruf-b",
    "Content-Type: message/feedback-report",
    "",
    "Feedback-Type: auth-failure",
    "User-Agent: ReceiverOneRUF/2.0",
    "Version: 1",
    `Original-Mail-From: <news@${o.domain}>`,
    "Original-Rcpt-To: <tomas.weller@receiver-one.example>",
    "Source-IP: 203.0.113.77",
    `Reported-Domain: ${o.domain}`,
    `Incidents: ${o.incidents}`,
    `Authentication-Results: mx.receiver-one.example; dkim=fail header.d=${o.domain}; spf=fail smtp.mailfrom=${o.domain}`,
    "Auth-Failure: dkim",
    `DKIM-Domain: ${o.domain}`,
    "DKIM-Selector: s2026",
    "",
    "--ruf-b",
    "Content-Type: text/rfc822-headers",
    "",
    `From: "Lantern News" <news@${o.domain}>`,
    "To: tomas.weller@receiver-one.example",
    "Subject: This week",
    `Message-ID: <weekly-${o.n}@${o.domain}>`,
    "",
    "--ruf-b--",
    "",
  ].join("\r\n");
}

describe("DMARC and TLS reports sent to the bounce domain", () => {
  it("refuses an address outside the configured local parts, and takes dmarc@, dmarc-reports@ and tlsrpt@", async () => {
    const raw = dmarcMail({
      contentType: "text/xml",
      filename: "r.xml",
      content: Buffer.from(dmarcbisXml()),
    });
    const refused = await sendOne(app.smtpPort!, { from: "", to: [`reports@${DOMAIN}`], data: raw });
    expect(refused.text).toMatch(/^550 5\.1\.1 /);
    for (const local of ["dmarc", "dmarc-reports", "tlsrpt"]) {
      const r = await sendOne(app.smtpPort!, {
        from: "",
        to: [`${local}@${DOMAIN}`],
        data: `Subject: probe ${local}\r\n\r\nhello\r\n`,
      });
      expect(r.code, r.text).toBe(250);
    }
  });

  it("stores Google's zipped report per row, lists it with filters and aggregates, and keeps one copy of a re-sent report", async () => {
    const raw = dmarcMail({
      contentType: "application/zip",
      filename: `${GOOGLE_NAME}.zip`,
      content: zip(`${GOOGLE_NAME}.xml`, googleXml()),
    });
    const mail = await deliver(raw, `dmarc@${DOMAIN}`);
    expect(mail).toMatchObject({ status: "processed", kind: "dmarc_report" });

    const all = await json<Rows>("/dmarc?domain=shop.example.com");
    expect(all.data).toHaveLength(4);
    expect(all.data.map((r) => [r.sourceIp, r.count, r.dkim, r.spf])).toEqual([
      ["2001:db8::25", 2, "fail", "fail"],
      ["198.51.100.7", 5, "fail", "fail"],
      ["192.0.2.10", 3, "fail", "pass"],
      ["192.0.2.10", 120, "pass", "pass"],
    ]);
    expect(all.data[1]).toMatchObject({
      orgName: "google.com",
      reportId: "4471283650917365210",
      domain: "shop.example.com",
      headerFrom: "shop.example.com",
      disposition: "quarantine",
      dateBegin: "2026-12-02T00:00:00.000Z",
      dateEnd: "2026-12-02T23:59:59.000Z",
      dkimResults: [{ domain: "esp.example.net", selector: "s2026", result: "fail" }],
    });

    const failed = await json<Rows>("/dmarc?result=fail&domain=shop.example.com");
    expect(failed.data.map((r) => r.sourceIp)).toEqual(["2001:db8::25", "198.51.100.7"]);
    const oneIp = await json<Rows>("/dmarc?sourceIp=192.0.2.10&domain=shop.example.com");
    expect(oneIp.data).toHaveLength(2);
    const outside = await json<Rows>("/dmarc?from=2026-12-05T00:00:00Z&domain=shop.example.com");
    expect(outside.data).toEqual([]);

    const page1 = await json<Rows>("/dmarc?domain=shop.example.com&limit=3");
    expect(page1.data).toHaveLength(3);
    const page2 = await json<Rows>(`/dmarc?domain=shop.example.com&limit=3&cursor=${page1.nextCursor}`);
    expect(page2).toMatchObject({ data: [{ sourceIp: "192.0.2.10", count: 120 }], nextCursor: null });

    const byIp = await json<{ groupBy: string; data: Record<string, unknown>[] }>(
      "/dmarc/aggregates?groupBy=sourceIp&domain=shop.example.com",
    );
    expect(byIp.data).toEqual([
      { key: "192.0.2.10", messages: 123, passed: 123, failed: 0, quarantined: 0, rejected: 0, reports: 1 },
      { key: "198.51.100.7", messages: 5, passed: 0, failed: 5, quarantined: 5, rejected: 0, reports: 1 },
      { key: "2001:db8::25", messages: 2, passed: 0, failed: 2, quarantined: 0, rejected: 2, reports: 1 },
    ]);

    // The same report again, in another mail (another Message-ID): stored once.
    const again = dmarcMail({
      messageId: "<resent-4471283650917365210@google.com>",
      contentType: "application/zip",
      filename: `${GOOGLE_NAME}.zip`,
      content: zip(`${GOOGLE_NAME}.xml`, googleXml()),
    });
    expect(await deliver(again, `dmarc-reports@${DOMAIN}`)).toMatchObject({ status: "processed" });
    expect((await json<Rows>("/dmarc?domain=shop.example.com")).data).toHaveLength(4);
    const reports = await json<Rows>("/dmarc/reports?refused=false");
    expect(reports.data.filter((r) => r.reportId === "4471283650917365210")).toMatchObject([
      { orgName: "google.com", schema: "rfc7489", records: 4, messages: 130, error: null, mailId: mail.id },
    ]);
  });

  it("stores Microsoft's gzipped report and an RFC 9990 report, each with its organisation and schema", async () => {
    const ms = dmarcMail({
      from: "dmarcreport@microsoft.com",
      messageId: "<ms-1@outlook.com>",
      bare: true,
      contentType: "application/gzip",
      filename: "enterprise.protection.outlook.com!shop.example.com!1796169600!1796256000.xml.gz",
      content: gzip(microsoftXml({ domain: "ms.example.com" })),
    });
    expect(await deliver(ms, `dmarc@${DOMAIN}`)).toMatchObject({ kind: "dmarc_report" });
    const bis = dmarcMail({
      messageId: "<bis-1@receiver.example>",
      contentType: "text/xml",
      filename: "receiver.example!news.example.com!1796169600!1796255999.xml",
      content: Buffer.from(dmarcbisXml()),
    });
    expect(await deliver(bis, `dmarc@${DOMAIN}`)).toMatchObject({ kind: "dmarc_report" });

    const msRows = await json<Rows>("/dmarc?domain=ms.example.com");
    expect(msRows.data).toHaveLength(3);
    expect(msRows.data[0]).toMatchObject({ orgName: "Enterprise Outlook", envelopeTo: "outlook.com" });
    const byOrg = await json<{ data: { key: string; messages: number }[] }>(
      "/dmarc/aggregates?groupBy=org&domain=news.example.com",
    );
    expect(byOrg.data).toEqual([
      {
        key: "Mail Receiver Example",
        messages: 47,
        passed: 40,
        failed: 7,
        quarantined: 0,
        rejected: 7,
        reports: 1,
      },
    ]);
    const reports = await json<Rows>("/dmarc/reports");
    expect(reports.data.find((r) => r.reportId === "rcv-2026-12-01-0001")).toMatchObject({
      schema: "rfc9990",
      policy: { np: "reject", testing: "n", discoveryMethod: "treewalk" },
    });
  });

  it("exports the rows as CSV with a header, neutralising a cell a spreadsheet would run as a formula", async () => {
    const evil = dmarcMail({
      messageId: "<evil-1@receiver.example>",
      contentType: "application/gzip",
      filename: "evil.example!evil.example!1796169600!1796255999.xml.gz",
      content: gzip(
        googleXml({ reportId: "=HYPERLINK(1)", domain: "evil.example" }).replace(
          "<org_name>google.com",
          "<org_name>@SUM(A1)",
        ),
      ),
    });
    expect(await deliver(evil, `dmarc@${DOMAIN}`)).toMatchObject({ kind: "dmarc_report" });
    const res = await api("/exports/dmarc?domain=evil.example");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
    const lines = (await res.text()).trimEnd().split("\r\n");
    expect(lines[0]).toBe(
      "id,reportId,orgName,domain,dateBegin,dateEnd,sourceIp,count,disposition,dkim,spf,headerFrom,envelopeFrom,envelopeTo,dkimDomains,spfDomains",
    );
    expect(lines).toHaveLength(5);
    expect(lines[1]).toMatch(
      /^\d+,'=HYPERLINK\(1\),'@SUM\(A1\),evil\.example,2026-12-02T00:00:00\.000Z,2026-12-02T23:59:59\.000Z,2001:db8::25,2,reject,fail,fail,evil\.example,,,esp\.example\.net=fail,unknown\.example\.org=softfail$/,
    );
  });

  it("stores a TLS report per policy and lists and exports it", async () => {
    const mail = await deliver(tlsMail({ gz: gzip(tlsReportJson()) }), `tlsrpt@${DOMAIN}`);
    expect(mail).toMatchObject({ status: "processed", kind: "tls_report" });
    const list = await json<Rows>("/tls-reports?domain=bounces.example.com");
    expect(list.data).toHaveLength(1);
    expect(list.data[0]).toMatchObject({
      orgName: "Sender Example Inc.",
      reportId: "2026-12-01T00:00:00Z_bounces.example.com",
      successful: 5338,
      failed: 303,
      dateBegin: "2026-12-01T00:00:00.000Z",
      error: null,
      policies: [
        { policyType: "sts", policyDomain: "bounces.example.com", failed: 303 },
        { policyType: "no-policy-found", policyDomain: "fbl.example.com", failed: 0 },
      ],
    });
    expect((await json<Rows>("/tls-reports?domain=other.example")).data).toEqual([]);
    expect((await json<Rows>("/tls-reports?failed=true")).data).toHaveLength(1);
    const csv = await (await api("/exports/tls-reports")).text();
    const lines = csv.trimEnd().split("\r\n");
    expect(lines[0]).toBe(
      "id,orgName,reportId,dateBegin,dateEnd,policyType,policyDomain,mxHosts,successful,failed,failures,error",
    );
    expect(lines.slice(1).map((l) => l.split(",").slice(5).join(","))).toEqual([
      "sts,bounces.example.com,mx1.bounces.example.com,5326,303,certificate-expired=200 starttls-not-supported=103,",
      "no-policy-found,fbl.example.com,,12,0,,",
    ]);
  });

  it("files each report under the tenant that owns its policy domain (REBOUND_DOMAIN_TENANTS, parents included), the others under the default tenant", async () => {
    const owned = dmarcMail({
      messageId: "<owned-1@outlook.com>",
      bare: true,
      contentType: "application/gzip",
      filename: "enterprise.protection.outlook.com!mail.owned.example!1796169600!1796256000.xml.gz",
      content: gzip(microsoftXml({ domain: "mail.owned.example", reportId: "owned-1" })),
    });
    expect(await deliver(owned, `dmarc@${DOMAIN}`)).toMatchObject({ kind: "dmarc_report" });
    const tls = tlsMail({
      gz: gzip(tlsReportJson({ reportId: "tls-owned-1", policyDomain: "tls-owned.example" })),
      messageId: "<tls-owned-1@sender.example>",
    });
    expect(await deliver(tls, `tlsrpt@${DOMAIN}`)).toMatchObject({ kind: "tls_report" });

    const tenants = async (table: "dmarc_reports" | "tls_reports", reportId: string) =>
      (
        await app.db
          .selectFrom(table)
          .select("tenant")
          .where("report_id", "=", reportId)
          .orderBy("tenant")
          .execute()
      ).map((r) => r.tenant);
    expect(await tenants("dmarc_reports", "owned-1")).toEqual(["acme"]);
    // its second policy (fbl.example.com) is nobody's: that part goes to the default tenant
    expect(await tenants("tls_reports", "tls-owned-1")).toEqual(["beta", "default"]);
    expect(await tenants("tls_reports", "2026-12-01T00:00:00Z_bounces.example.com")).toEqual(["default"]);
    // the default tenant's key no longer sees them; acme's does
    expect((await json<Rows>("/dmarc?domain=mail.owned.example")).data).toEqual([]);
    const acme = (await createKey(app.db, { tenant: "acme", scopes: ["read"] })).token;
    const res = await fetch(`http://127.0.0.1:${app.httpPort}/v1/dmarc?domain=mail.owned.example`, {
      headers: { authorization: `Bearer ${acme}` },
    });
    expect(((await res.json()) as Rows).data).toHaveLength(3);
  });

  it("splits a TLS report naming domains of several tenants into one row per tenant, each listing only its own policies; unowned domains under the default tenant", async () => {
    const report = JSON.parse(tlsReportJson({ reportId: "tls-mixed-1" })) as {
      policies: { policy: Record<string, unknown>; summary: Record<string, number> }[];
    };
    const [sts, none] = report.policies as [(typeof report.policies)[0], (typeof report.policies)[0]];
    report.policies = [
      { ...sts, policy: { ...sts.policy, "policy-domain": "mx.tls-owned.example" } }, // beta (by its parent)
      { ...none, policy: { ...none.policy, "policy-domain": "owned.example" } }, // acme
      { ...none, policy: { ...none.policy, "policy-domain": "unowned.example" } }, // nobody's: the default
      { ...none, policy: { ...none.policy, "policy-domain": "tls-owned.example" } }, // beta again
    ];
    const mail = tlsMail({ gz: gzip(JSON.stringify(report)), messageId: "<tls-mixed-1@sender.example>" });
    expect(await deliver(mail, `tlsrpt@${DOMAIN}`)).toMatchObject({ kind: "tls_report" });

    const rows = await app.db
      .selectFrom("tls_reports")
      .select(["tenant", "policies", "successful", "failed", "org_name"])
      .where("report_id", "=", "tls-mixed-1")
      .orderBy("tenant")
      .execute();
    expect(
      rows.map((r) => [
        r.tenant,
        (r.policies as { policyDomain: string }[]).map((p) => p.policyDomain),
        Number(r.successful),
        Number(r.failed),
        r.org_name,
      ]),
    ).toEqual([
      ["acme", ["owned.example"], 12, 0, "Sender Example Inc."],
      ["beta", ["mx.tls-owned.example", "tls-owned.example"], 5338, 303, "Sender Example Inc."],
      ["default", ["unowned.example"], 12, 0, "Sender Example Inc."],
    ]);

    // Through the API: each tenant's key sees its row and only its own domains.
    const listed = async (tenant: string) => {
      const key = (await createKey(app.db, { tenant, scopes: ["read"] })).token;
      const res = await fetch(`http://127.0.0.1:${app.httpPort}/v1/tls-reports`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as Rows).data
        .filter((r) => r.reportId === "tls-mixed-1")
        .map((r) => (r.policies as { policyDomain: string }[]).map((p) => p.policyDomain));
    };
    expect(await listed("acme")).toEqual([["owned.example"]]);
    expect(await listed("beta")).toEqual([["mx.tls-owned.example", "tls-owned.example"]]);
    expect(await listed("default")).toEqual([["unowned.example"]]);

    // Processed again: the same three rows, written anew, not doubled.
    const mailId = (await app.db
      .selectFrom("tls_reports")
      .select("mail_id")
      .where("report_id", "=", "tls-mixed-1")
      .executeTakeFirstOrThrow())!.mail_id!;
    await reprocess(mailId);
    const again = await app.db
      .selectFrom("tls_reports")
      .select("tenant")
      .where("report_id", "=", "tls-mixed-1")
      .orderBy("tenant")
      .execute();
    expect(again.map((r) => r.tenant)).toEqual(["acme", "beta", "default"]);
  });

  it("files a DMARC aggregate report under its one policy domain's tenant, whatever its rows' header-from, and each tenant's GET /v1/dmarc lists only its own", async () => {
    // policy_published names one domain (acme's); a row's header_from of beta's domain does not move it.
    const forAcme = dmarcMail({
      messageId: "<acme-only-1@outlook.com>",
      bare: true,
      contentType: "application/gzip",
      filename: "enterprise.protection.outlook.com!owned.example!1796169600!1796256000.xml.gz",
      content: gzip(
        microsoftXml({
          domain: "owned.example",
          reportId: "acme-only-1",
          rows: [
            { ip: "192.0.2.44", count: 4, dkim: "pass", spf: "pass" },
            { ip: "192.0.2.45", count: 2, dkim: "fail", spf: "fail", headerFrom: "tls-owned.example" },
          ],
        }),
      ),
    });
    const forBeta = dmarcMail({
      messageId: "<beta-only-1@outlook.com>",
      bare: true,
      contentType: "application/gzip",
      filename: "enterprise.protection.outlook.com!tls-owned.example!1796169600!1796256000.xml.gz",
      content: gzip(microsoftXml({ domain: "tls-owned.example", reportId: "beta-only-1" })),
    });
    expect(await deliver(forAcme, `dmarc@${DOMAIN}`)).toMatchObject({ kind: "dmarc_report" });
    expect(await deliver(forBeta, `dmarc@${DOMAIN}`)).toMatchObject({ kind: "dmarc_report" });

    const seen = async (tenant: string) => {
      const key = (await createKey(app.db, { tenant, scopes: ["read"] })).token;
      const res = await fetch(`http://127.0.0.1:${app.httpPort}/v1/dmarc?limit=500`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(res.status).toBe(200);
      const ids = ((await res.json()) as Rows).data
        .map((r) => `${r.reportId as string} ${r.domain as string}`)
        .filter((k) => k.startsWith("acme-only-1") || k.startsWith("beta-only-1"));
      return [...new Set(ids)];
    };
    expect(await seen("acme")).toEqual(["acme-only-1 owned.example"]);
    expect(await seen("beta")).toEqual(["beta-only-1 tls-owned.example"]);
    expect(await seen("default")).toEqual([]);
  });

  it("refuses a zip bomb and a TLS gzip bomb with their reason, keeping their mails", async () => {
    const bomb = dmarcMail({
      messageId: "<bomb-1@evil.example>",
      contentType: "application/zip",
      filename: `${GOOGLE_NAME}.zip`,
      content: zip(`${GOOGLE_NAME}.xml`, new Uint8Array(64 * 1024 * 1024)),
    });
    const mail = await deliver(bomb, `dmarc@${DOMAIN}`);
    expect(mail).toMatchObject({ status: "processed", kind: "dmarc_report" });
    expect(mail.raw).not.toBeNull();
    const refused = await json<Rows>("/dmarc/reports?refused=true");
    expect(refused.data).toMatchObject([
      {
        mailId: mail.id,
        source: "dmarc.zip",
        orgName: null,
        records: 0,
        error: "the report unpacks to more than 16777216 bytes: refused",
      },
    ]);
    const tlsBomb = await deliver(
      tlsMail({ gz: gzip(new Uint8Array(40 * 1024 * 1024)), messageId: "<tls-bomb@evil.example>" }),
      `tlsrpt@${DOMAIN}`,
    );
    expect(tlsBomb).toMatchObject({ status: "processed", kind: "tls_report" });
    const tls = await json<Rows>("/tls-reports");
    expect(tls.data.find((r) => r.mailId === tlsBomb.id)).toMatchObject({
      error: "the report unpacks to more than 16777216 bytes: refused",
      policies: [],
    });
  });

  it("counts DMARC failures and ARF auth-failure reports per sending domain and IP, suppressing nobody", async () => {
    // A DMARC aggregate row and an RFC 6591 report about the same spoofing IP.
    const agg = dmarcMail({
      messageId: "<harbor-1@receiver.example>",
      contentType: "application/gzip",
      filename: "receiver.example!harborlight.example!1796169600!1796255999.xml.gz",
      content: gzip(
        googleXml({
          reportId: "harbor-1",
          domain: "harborlight.example",
          begin: 1795651200, // 2026-11-26T00:00:00Z
          rows: [
            { ip: "203.0.113.250", count: 9, dkim: "fail", spf: "fail", disposition: "reject" },
            { ip: "192.0.2.10", count: 50, dkim: "pass", spf: "fail" },
          ],
        }),
      ),
    });
    expect(await deliver(agg, `dmarc@${DOMAIN}`)).toMatchObject({ kind: "dmarc_report" });
    const arf = readFileSync(new URL("../../samples/arf-auth-failure-dmarc.eml", import.meta.url));
    const arfMail = await deliver(arf, `dmarc@${DOMAIN}`);
    expect(arfMail).toMatchObject({ status: "processed", kind: "complaint" });
    const suppressions = await app.db.selectFrom("suppressions").select("id").execute();
    expect(suppressions).toEqual([]);

    const period = "from=2026-11-20T00:00:00Z&to=2026-12-31T00:00:00Z";
    const body = await json<{ from: string; to: string; data: Record<string, unknown>[] }>(
      `/authentication?${period}&domain=harborlight.example`,
    );
    expect(body.from).toBe("2026-11-20T00:00:00.000Z");
    expect(body.data).toHaveLength(1);
    expect(body.data[0]).toMatchObject({
      domain: "harborlight.example",
      sourceIp: "203.0.113.250",
      total: 10,
      dmarcMessages: 9,
      arfReports: 1,
      dispositions: { none: 0, quarantine: 0, reject: 9 },
      failures: { dmarc: 1 },
      firstSeen: "2026-11-26T00:00:00.000Z",
    });
    expect(body.data[0]!.reporters).toEqual(
      expect.arrayContaining([
        "google.com",
        "DMARC Failure Reports <dmarc-noreply@reports.bluepine.example>",
      ]),
    );
    // The store function behind GET /v1/authentication gives the same figures (the alert rules count the same
    // rows through authReportRows: see "opens authentication incidents..." below).
    const counts = await authFailureCounts(app.db, {
      tenantId: "default",
      from: new Date("2026-11-20T00:00:00Z"),
      to: new Date("2026-12-31T00:00:00Z"),
    });
    expect(counts.find((c) => c.domain === "harborlight.example")).toMatchObject({
      total: 10,
      arfReports: 1,
    });
    // The failing rows of shop.example.com are counted too; passing rows are not.
    expect(
      counts.filter((c) => c.domain === "shop.example.com").map((c) => [c.sourceIp, c.dmarcMessages]),
    ).toEqual([
      ["198.51.100.7", 5],
      ["2001:db8::25", 2],
    ]);
    const bad = await api("/authentication?from=2026-12-31T00:00:00Z&to=2026-11-20T00:00:00Z");
    expect(bad.status).toBe(400);
  });

  it("opens authentication incidents from DMARC aggregate reports failing a sending domain and from RFC 6591 failure reports, naming the reports; passing reports open none", async () => {
    // Yesterday's reports (UTC), as receivers send them the next morning.
    const begin = Math.floor(Date.now() / 86_400_000) * 86_400 - 86_400;
    const aggregate = (
      org: string,
      reportId: string,
      domain: string,
      rows: Parameters<typeof googleXml>[0],
    ) =>
      dmarcMail({
        from: `dmarc-reports@${org}`,
        messageId: `<${reportId}@${org}>`,
        subject: `Report domain: ${domain} Submitter: ${org} Report-ID: ${reportId}`,
        contentType: "application/gzip",
        filename: `${org}!${domain}!${begin}!${begin + 86399}.xml.gz`,
        content: gzip(
          googleXml({ ...rows, reportId, domain, begin }).replace("<org_name>google.com", `<org_name>${org}`),
        ),
      });
    // lanternfield.example: 150 of 400 messages fail DKIM and SPF (37.5%: critical), over two receivers' reports.
    const failing = [
      aggregate("receiver-one.example", "lf-1", "lanternfield.example", {
        rows: [
          { ip: "192.0.2.61", count: 200, dkim: "pass", spf: "pass" },
          { ip: "203.0.113.77", count: 120, dkim: "fail", spf: "fail", disposition: "quarantine" },
        ],
      }),
      aggregate("receiver-two.example", "lf-2", "lanternfield.example", {
        rows: [
          { ip: "192.0.2.61", count: 40, dkim: "pass", spf: "fail" },
          { ip: "203.0.113.77", count: 30, dkim: "fail", spf: "fail", disposition: "reject" },
          { ip: "198.51.100.88", count: 10, dkim: "pass", spf: "pass" },
        ],
      }),
    ];
    // quietmoor.example: 6 of 500 fail (forwarding, 1.2%): no incident.
    const passing = aggregate("receiver-one.example", "qm-1", "quietmoor.example", {
      rows: [
        { ip: "192.0.2.62", count: 494, dkim: "pass", spf: "pass" },
        { ip: "198.51.100.90", count: 6, dkim: "fail", spf: "fail" },
      ],
    });
    for (const raw of [...failing, passing])
      expect(await deliver(raw, `dmarc@${DOMAIN}`)).toMatchObject({
        status: "processed",
        kind: "dmarc_report",
      });
    // Two RFC 6591 reports about lanternfield.example: 3 failures (one report says Incidents: 2).
    const arfMails: string[] = [];
    for (const [i, incidents] of [
      [1, 2],
      [2, 1],
    ] as const) {
      const m = await deliver(
        arfAuthFailure({ n: i, domain: "lanternfield.example", incidents }),
        `dmarc@${DOMAIN}`,
      );
      expect(m).toMatchObject({ status: "processed", kind: "complaint" });
      arfMails.push(m.id);
    }
    // One about quietmoor.example: under the rule's 3.
    expect(
      await deliver(arfAuthFailure({ n: 3, domain: "quietmoor.example", incidents: 1 }), `dmarc@${DOMAIN}`),
    ).toMatchObject({ status: "processed", kind: "complaint" });

    const engine = createAlertEngine({
      db: app.db,
      alerts: DEFAULT_ALERTS,
      logger: createLogger("silent"),
      now: () => new Date(),
      tenants: [app.config.defaultTenant],
    });
    await engine.runOnce();
    await engine.stop();
    const ours = (await activeIncidents(app.db, app.config.defaultTenant)).filter((i) =>
      ["lanternfield.example", "quietmoor.example"].includes(i.sending_domain ?? ""),
    );
    expect(
      ours.map((i) => [i.rule_id, i.kind, i.sending_domain, i.stream, i.provider, i.severity, i.value]),
    ).toEqual([
      ["authentication", "authentication", "lanternfield.example", null, null, "warning", 3],
      ["dmarc-failures", "dmarc", "lanternfield.example", null, null, "critical", 150 / 400],
    ]);
    const [arf, dmarc] = ours as [(typeof ours)[0], (typeof ours)[0]];
    // The explanation: which reports, which counts.
    expect(dmarc.summary).toBe(
      "DMARC failures 37.50% (150 of 400 messages in 2 aggregate reports: receiver-one.example lf-1 120/320; " +
        "receiver-two.example lf-2 30/80; failing from 203.0.113.77 150) in sending domain lanternfield.example " +
        "over the reports overlapping 2 days: critical (limit 30.00%)",
    );
    const dmarcEvidence = dmarc.evidence as unknown as Evidence;
    expect(dmarcEvidence.figures).toEqual({
      dmarcMessages: 400,
      dmarcFailed: 150,
      dmarcRate: 0.375,
      reports: 2,
    });
    expect(
      dmarcEvidence.reports!.map((r) => [r.reporter, r.reportId, r.messages, r.failed, r.begin]),
    ).toEqual([
      ["receiver-one.example", "lf-1", 320, 120, new Date(begin * 1000).toISOString()],
      ["receiver-two.example", "lf-2", 80, 30, new Date(begin * 1000).toISOString()],
    ]);
    expect(arf.summary).toBe(
      "3 authentication failures (0 refusals, 3 in 2 failure reports from Failure Reports " +
        "<ruf@reports.receiver-one.example>) in sending domain lanternfield.example over 1 h: warning (at 3)",
    );
    const arfEvidence = arf.evidence as unknown as Evidence;
    expect(arfEvidence.reports!.map((r) => [r.source, r.failed, r.failure, r.sourceIp])).toEqual([
      ["arf", 2, "dkim", "203.0.113.77"],
      ["arf", 1, "dkim", "203.0.113.77"],
    ]);
    // Each failure report named by its stored mail (GET /v1/mails/{id}), the one of Incidents: 2 first.
    expect(arfEvidence.reports!.map((r) => r.reportId)).toEqual(arfMails);
  });

  it("replaces what a mail stored when it is re-processed, and answers 401 without a key", async () => {
    const count = async () =>
      (await app.db
        .selectFrom("dmarc_records")
        .select(sql<string>`count(*)`.as("n"))
        .executeTakeFirst())!.n;
    const before = await count();
    const m = await app.db
      .selectFrom("inbound_mails")
      .select("id")
      .where("kind", "=", "dmarc_report")
      .orderBy("received_at")
      .executeTakeFirstOrThrow();
    const reportOf = () =>
      app.db.selectFrom("dmarc_reports").select(["id", "records"]).where("mail_id", "=", m.id).execute();
    const old = await reportOf();
    expect(old).toHaveLength(1);
    await reprocess(m.id);
    // Deleted and written again (a new id), not left alone or doubled.
    const renewed = await reportOf();
    expect(renewed).toHaveLength(1);
    expect(BigInt(renewed[0]!.id)).toBeGreaterThan(BigInt(old[0]!.id));
    expect(renewed[0]!.records).toBe(old[0]!.records);
    expect(await count()).toBe(before);
    const res = await fetch(`http://127.0.0.1:${app.httpPort}/v1/dmarc`);
    expect(res.status).toBe(401);
  });
});
