// DMARC aggregate (RFC 7489, RFC 9990) and SMTP TLS (RFC 8460) reports through classify(): recognised as their own
// kinds, parsed, and bad archives (zip bombs, XML too large or too deep) refused with their reason.
import { describe, expect, it } from "vitest";
import { ATTACHMENT_RULES } from "../../src/core/aggregate-reports.js";
import { classify } from "../../src/core/classify.js";
import { parseDmarcAggregate } from "../../src/core/dmarc.js";
import { parseTlsReport, TlsReportError } from "../../src/core/tlsrpt.js";
import { unpack, UnpackError } from "../../src/core/unpack.js";
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

const GOOGLE_NAME = "google.com!shop.example.com!1796169600!1796255999";
const MiB = 1024 * 1024;

describe("DMARC aggregate reports", () => {
  it("reads Google's zipped RFC 7489 report: organisation, id, range, policy and every row", () => {
    const r = classify(
      dmarcMail({
        contentType: "application/zip",
        filename: `${GOOGLE_NAME}.zip`,
        content: zip(`${GOOGLE_NAME}.xml`, googleXml()),
      }),
    );
    expect(r.kind).toBe("dmarc_report");
    expect(r.source).toBe("dmarc.zip");
    expect(r.recipients).toEqual([]);
    expect(r.error).toBeUndefined();
    const d = r.dmarc!;
    expect(d).toMatchObject({
      schema: "rfc7489",
      orgName: "google.com",
      email: "noreply-dmarc-support@google.com",
      reportId: "4471283650917365210",
      begin: "2026-12-02T00:00:00.000Z",
      end: "2026-12-02T23:59:59.000Z",
      policy: { domain: "shop.example.com", p: "quarantine", pct: 100, adkim: "r", np: null },
    });
    expect(d.records.map((x) => [x.sourceIp, x.count, x.dkim, x.spf, x.disposition])).toEqual([
      ["192.0.2.10", 120, "pass", "pass", "none"],
      ["192.0.2.10", 3, "fail", "pass", "none"],
      ["198.51.100.7", 5, "fail", "fail", "quarantine"],
      ["2001:db8::25", 2, "fail", "fail", "reject"],
    ]);
    expect(d.records[2]).toMatchObject({
      headerFrom: "shop.example.com",
      dkimResults: [{ domain: "esp.example.net", selector: "s2026", result: "fail" }],
      spfResults: [{ domain: "unknown.example.org", scope: null, result: "softfail" }],
    });
  });

  it("reads Microsoft's gzipped report sent as the whole mail body, with envelope_to, envelope_from and SPF scope", () => {
    const r = classify(
      dmarcMail({
        bare: true,
        contentType: "application/gzip",
        filename: "enterprise.protection.outlook.com!shop.example.com!1796169600!1796256000.xml.gz",
        content: gzip(microsoftXml()),
      }),
    );
    expect(r.kind).toBe("dmarc_report");
    expect(r.source).toBe("dmarc.gzip");
    expect(r.dmarc).toMatchObject({ orgName: "Enterprise Outlook", policy: { fo: "1" } });
    expect(r.dmarc!.records[0]).toMatchObject({
      envelopeTo: "outlook.com",
      envelopeFrom: "bounces.shop.example.com",
      spfResults: [{ scope: "mfrom", result: "pass" }],
    });
  });

  it("reads the RFC 9990 schema (namespace, generator, np, testing, discovery_method, policy override reasons)", () => {
    const r = classify(
      dmarcMail({ contentType: "text/xml", filename: "report.xml", content: Buffer.from(dmarcbisXml()) }),
    );
    expect(r.kind).toBe("dmarc_report");
    expect(r.dmarc).toMatchObject({
      schema: "rfc9990",
      generator: "Receiver DMARC 3.1",
      policy: { np: "reject", testing: "n", discoveryMethod: "treewalk", pct: null, adkim: "s" },
    });
    expect(r.dmarc!.records[0]).toMatchObject({
      sourceIp: "203.0.113.50",
      reasons: [{ type: "local_policy", comment: "arc=fail" }],
      dkimResults: [],
    });
  });

  it("reads an XML report in windows-1252, as its declaration says", () => {
    const xml = googleXml().replace(
      '<?xml version="1.0" encoding="UTF-8" ?>',
      '<?xml version="1.0" encoding="windows-1252"?>',
    );
    const bytes = Buffer.from(xml.replace("<org_name>google.com", "<org_name>Postes Réunies"), "latin1");
    const r = classify(
      dmarcMail({ contentType: "application/gzip", filename: `${GOOGLE_NAME}.xml.gz`, content: gzip(bytes) }),
    );
    expect(r.dmarc?.orgName).toBe("Postes Réunies");
  });

  it("refuses a zip bomb (64 MiB of zeros in 64 KB) at the 16 MiB cap, still as a DMARC report with the reason", () => {
    const bomb = zip(`${GOOGLE_NAME}.xml`, new Uint8Array(64 * MiB));
    expect(bomb.length).toBeLessThan(1 * MiB);
    const r = classify(
      dmarcMail({ contentType: "application/zip", filename: `${GOOGLE_NAME}.zip`, content: bomb }),
    );
    expect(r.kind).toBe("dmarc_report");
    expect(r.dmarc).toBeUndefined();
    expect(r.error).toBe("the report unpacks to more than 16777216 bytes: refused");
  });

  it("refuses a zip whose headers understate the entry's size: the cap is counted on the inflated bytes", () => {
    const bomb = zip("a.xml", new Uint8Array(40 * MiB));
    // Claim 100 bytes uncompressed in the local and the central headers.
    const view = new DataView(bomb.buffer, bomb.byteOffset, bomb.byteLength);
    view.setUint32(22, 100, true);
    const central = bomb.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    view.setUint32(central + 24, 100, true);
    expect(() => unpack(bomb, [".xml"])).toThrow(UnpackError);
    expect(() => unpack(bomb, [".xml"])).toThrow(/more than 16777216 bytes/);
  });

  it("refuses a gzip bomb and an XML report larger than the cap, with the reason", () => {
    const r = classify(
      dmarcMail({
        contentType: "application/gzip",
        filename: `${GOOGLE_NAME}.xml.gz`,
        content: gzip(new Uint8Array(64 * MiB)),
      }),
    );
    expect(r).toMatchObject({
      kind: "dmarc_report",
      error: "the report unpacks to more than 16777216 bytes: refused",
    });
    // A well-formed report of 17 MiB (about 25,000 records): refused as a whole, not cut.
    const rows = Array.from({ length: 28_000 }, (_, i) => ({
      ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      count: 1,
      dkim: "pass" as const,
      spf: "pass" as const,
    }));
    const huge = googleXml({ rows });
    expect(huge.length).toBeGreaterThan(16 * MiB);
    const big = classify(
      dmarcMail({ contentType: "application/gzip", filename: `${GOOGLE_NAME}.xml.gz`, content: gzip(huge) }),
    );
    expect(big).toMatchObject({
      kind: "dmarc_report",
      error: "the report unpacks to more than 16777216 bytes: refused",
    });
    expect(() =>
      parseDmarcAggregate(googleXml(), { maxXmlChars: 1000, maxRecords: 10, maxDepth: 16 }),
    ).toThrow(/more than 1000 characters/);
    expect(() =>
      parseDmarcAggregate(googleXml(), { maxXmlChars: 1_000_000, maxRecords: 3, maxDepth: 16 }),
    ).toThrow(/4 records, more than 3/);
  });

  it("refuses XML nested deeper than 16 elements, never expands a DOCTYPE's entities, decodes the predefined ones", () => {
    const deep = googleXml().replace(
      "<org_name>google.com",
      `<org_name>${"<a>".repeat(40)}x${"</a>".repeat(40)}`,
    );
    const r = classify(
      dmarcMail({ contentType: "application/gzip", filename: `${GOOGLE_NAME}.xml.gz`, content: gzip(deep) }),
    );
    expect(r).toMatchObject({
      kind: "dmarc_report",
      error: "the report's XML nests deeper than 16 elements: refused",
    });
    // A DOCTYPE's entities are left as written (no billion laughs); XML's own five and character references are read.
    const body = googleXml().replace(/^<\?xml[^>]*>/, "");
    const many =
      `<?xml version="1.0"?><!DOCTYPE feedback [<!ENTITY a "${"a".repeat(200)}">]>` +
      body.replace("<org_name>google.com", `<org_name>${"&a;".repeat(2000)}`);
    expect(parseDmarcAggregate(many).orgName).toBe("&a;".repeat(85));
    const nested =
      '<?xml version="1.0"?><!DOCTYPE feedback [<!ENTITY a "aaaaaaaaaaaaaaaaaaaa">' +
      Array.from({ length: 30 }, (_, i) => `<!ENTITY e${i} "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">`).join("") +
      "]>" +
      body.replace("<org_name>google.com", `<org_name>${"&e1;".repeat(500)}`);
    expect(parseDmarcAggregate(nested).orgName).toMatch(/^(?:&e1;){10}/);
    const named = googleXml().replace("<org_name>google.com", "<org_name>Mail &amp; Co &#x2014; &lt;FR&gt;");
    expect(parseDmarcAggregate(named).orgName).toBe("Mail & Co \u2014 <FR>");
  });

  it("refuses a report without its identifying metadata, and a row without a valid source IP", () => {
    expect(() => parseDmarcAggregate(googleXml().replace(/<report_id>[^<]*<\/report_id>/, ""))).toThrow(
      /no <org_name> or <report_id>/,
    );
    expect(() => parseDmarcAggregate(googleXml().replace("198.51.100.7", "not-an-ip"))).toThrow(
      /record 3: no valid <source_ip>/,
    );
  });

  it("leaves a mail with an ordinary zip to the other steps, but refuses one that says it is a report", () => {
    const photos = classify(
      dmarcMail({
        subject: "photos",
        contentType: "application/zip",
        filename: "holiday.zip",
        content: zip("a.jpg", "JFIF"),
      }),
    );
    expect(photos.kind).toBe("not_a_report");
    const fake = classify(
      dmarcMail({
        contentType: "application/zip",
        filename: `${GOOGLE_NAME}.zip`,
        content: zip("a.jpg", "JFIF"),
      }),
    );
    expect(fake).toMatchObject({
      kind: "dmarc_report",
      error: "the attachment is not a DMARC aggregate report",
    });
  });

  it("has an example beside each attachment rule that the rule recognises", () => {
    for (const rule of ATTACHMENT_RULES) {
      const isName = rule.example.includes("!");
      const type = isName
        ? rule.kind === "tls_report"
          ? "application/gzip"
          : "application/octet-stream"
        : rule.example;
      expect(rule.test(type, isName ? rule.example : ""), rule.id).toBe(true);
    }
  });
});

describe("SMTP TLS reports", () => {
  it("reads an RFC 8460 report (multipart/report; report-type=tlsrpt, application/tlsrpt+gzip)", () => {
    const r = classify(tlsMail({ gz: gzip(tlsReportJson()) }));
    expect(r.kind).toBe("tls_report");
    expect(r.source).toBe("tlsrpt.media-type");
    expect(r.tlsReport).toMatchObject({
      orgName: "Sender Example Inc.",
      contact: "smtp-tls-reporting@sender.example",
      begin: "2026-12-01T00:00:00.000Z",
      end: "2026-12-01T23:59:59.000Z",
    });
    expect(r.tlsReport!.policies).toEqual([
      {
        policyType: "sts",
        policyDomain: "bounces.example.com",
        mxHosts: ["mx1.bounces.example.com"],
        successful: 5326,
        failed: 303,
        failures: [
          {
            resultType: "certificate-expired",
            sendingMtaIp: "2001:db8:abcd:12::1",
            receivingMxHostname: "mx1.bounces.example.com",
            receivingIp: null,
            failedSessionCount: 200,
            failureReasonCode: null,
          },
          {
            resultType: "starttls-not-supported",
            sendingMtaIp: "198.51.100.62",
            receivingMxHostname: "mx1.bounces.example.com",
            receivingIp: "192.0.2.25",
            failedSessionCount: 103,
            failureReasonCode: "STARTTLS refused",
          },
        ],
      },
      {
        policyType: "no-policy-found",
        policyDomain: "fbl.example.com",
        mxHosts: [],
        successful: 12,
        failed: 0,
        failures: [],
      },
    ]);
  });

  it("refuses a TLS report gzip bomb and a report without its id, with the reason", () => {
    const bomb = classify(tlsMail({ gz: gzip(new Uint8Array(40 * MiB)) }));
    expect(bomb).toMatchObject({
      kind: "tls_report",
      error: "the report unpacks to more than 16777216 bytes: refused",
    });
    const noId = classify(tlsMail({ gz: gzip(tlsReportJson().replace('"report-id"', '"x-report-id"')) }));
    expect(noId).toMatchObject({
      kind: "tls_report",
      error: "not a TLS report: no organization-name or report-id",
    });
    expect(() => parseTlsReport("{", { maxJsonChars: 100, maxPolicies: 1, maxFailuresPerPolicy: 1 })).toThrow(
      TlsReportError,
    );
  });
});
