// DMARC aggregate and SMTP TLS reports written here from their documented formats (RFC 7489 appendix C as Google
// and Microsoft fill it, RFC 9990's namespace and new elements, RFC 8460 §4's JSON), and the mails that carry them
// (RFC 7489 §7.2.1.1 file names and subject, RFC 8460 §5.3's multipart/report). Invented organisations, ids, IPs.
import { gzipSync } from "node:zlib";
import { zipSync } from "fflate";

export interface RowSpec {
  ip: string;
  count: number;
  dkim: "pass" | "fail";
  spf: "pass" | "fail";
  headerFrom?: string;
  disposition?: string;
}

export const DEFAULT_ROWS: RowSpec[] = [
  { ip: "192.0.2.10", count: 120, dkim: "pass", spf: "pass" },
  { ip: "192.0.2.10", count: 3, dkim: "fail", spf: "pass" },
  { ip: "198.51.100.7", count: 5, dkim: "fail", spf: "fail", disposition: "quarantine" },
  { ip: "2001:db8::25", count: 2, dkim: "fail", spf: "fail", disposition: "reject" },
];

/** Google's style: RFC 7489 without a namespace, one DKIM and one SPF result per record. */
export function googleXml(
  o: { reportId?: string; domain?: string; begin?: number; rows?: RowSpec[] } = {},
): string {
  const domain = o.domain ?? "shop.example.com";
  const begin = o.begin ?? 1796169600; // 2026-12-01T00:00:00Z
  const rows = (o.rows ?? DEFAULT_ROWS)
    .map(
      (r) => `  <record>
    <row>
      <source_ip>${r.ip}</source_ip>
      <count>${r.count}</count>
      <policy_evaluated>
        <disposition>${r.disposition ?? "none"}</disposition>
        <dkim>${r.dkim}</dkim>
        <spf>${r.spf}</spf>
      </policy_evaluated>
    </row>
    <identifiers>
      <header_from>${r.headerFrom ?? domain}</header_from>
    </identifiers>
    <auth_results>
      <dkim>
        <domain>${r.dkim === "pass" ? domain : "esp.example.net"}</domain>
        <result>${r.dkim}</result>
        <selector>s2026</selector>
      </dkim>
      <spf>
        <domain>${r.spf === "pass" ? "bounces." + domain : "unknown.example.org"}</domain>
        <result>${r.spf === "pass" ? "pass" : "softfail"}</result>
      </spf>
    </auth_results>
  </record>`,
    )
    .join("\n");
  return `<?xml version="1.0" encoding="UTF-8" ?>
<feedback>
  <report_metadata>
    <org_name>google.com</org_name>
    <email>noreply-dmarc-support@google.com</email>
    <extra_contact_info>https://support.google.com/a/answer/2466580</extra_contact_info>
    <report_id>${o.reportId ?? "4471283650917365210"}</report_id>
    <date_range>
      <begin>${begin}</begin>
      <end>${begin + 86399}</end>
    </date_range>
  </report_metadata>
  <policy_published>
    <domain>${domain}</domain>
    <adkim>r</adkim>
    <aspf>r</aspf>
    <p>quarantine</p>
    <sp>quarantine</sp>
    <pct>100</pct>
  </policy_published>
${rows}
</feedback>
`;
}

/** Microsoft's style: namespaces declared, <version>, envelope_to and envelope_from, SPF scope. */
export function microsoftXml(o: { reportId?: string; domain?: string; rows?: RowSpec[] } = {}): string {
  const domain = o.domain ?? "shop.example.com";
  const rows = (o.rows ?? DEFAULT_ROWS.slice(0, 3))
    .map(
      (r) =>
        `<record><row><source_ip>${r.ip}</source_ip><count>${r.count}</count><policy_evaluated><disposition>${r.disposition ?? "none"}</disposition><dkim>${r.dkim}</dkim><spf>${r.spf}</spf></policy_evaluated></row><identifiers><envelope_to>outlook.com</envelope_to><envelope_from>bounces.${domain}</envelope_from><header_from>${r.headerFrom ?? domain}</header_from></identifiers><auth_results><dkim><domain>${domain}</domain><selector>s2026</selector><result>${r.dkim}</result></dkim><spf><domain>bounces.${domain}</domain><scope>mfrom</scope><result>${r.spf}</result></spf></auth_results></record>`,
    )
    .join("");
  return `<?xml version="1.0"?><feedback xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><version>1.0</version><report_metadata><org_name>Enterprise Outlook</org_name><email>dmarcreport@microsoft.com</email><report_id>${o.reportId ?? "9f3c2a51e0b84d2c8a7e6b1d2c3f4a5b"}</report_id><date_range><begin>1796169600</begin><end>1796256000</end></date_range></report_metadata><policy_published><domain>${domain}</domain><adkim>r</adkim><aspf>r</aspf><p>quarantine</p><sp>quarantine</sp><pct>100</pct><fo>1</fo></policy_published>${rows}</feedback>`;
}

/** RFC 9990's schema: its namespace, generator, np / testing / discovery_method, no pct. */
export function dmarcbisXml(o: { reportId?: string; domain?: string } = {}): string {
  const domain = o.domain ?? "news.example.com";
  return `<?xml version="1.0" encoding="UTF-8"?>
<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">
  <version>1.0</version>
  <report_metadata>
    <org_name>Mail Receiver Example</org_name>
    <email>dmarc-reports@receiver.example</email>
    <report_id>${o.reportId ?? "rcv-2026-12-01-0001"}</report_id>
    <date_range><begin>1796169600</begin><end>1796255999</end></date_range>
    <generator>Receiver DMARC 3.1</generator>
  </report_metadata>
  <policy_published>
    <domain>${domain}</domain>
    <p>reject</p>
    <sp>reject</sp>
    <np>reject</np>
    <adkim>s</adkim>
    <aspf>r</aspf>
    <discovery_method>treewalk</discovery_method>
    <testing>n</testing>
  </policy_published>
  <record>
    <row>
      <source_ip>203.0.113.50</source_ip>
      <count>7</count>
      <policy_evaluated>
        <disposition>reject</disposition>
        <dkim>fail</dkim>
        <spf>fail</spf>
        <reason><type>local_policy</type><comment>arc=fail</comment></reason>
      </policy_evaluated>
    </row>
    <identifiers>
      <header_from>${domain}</header_from>
      <envelope_from>spoof.example.org</envelope_from>
    </identifiers>
    <auth_results>
      <spf><domain>spoof.example.org</domain><scope>mfrom</scope><result>fail</result></spf>
    </auth_results>
  </record>
  <record>
    <row>
      <source_ip>192.0.2.10</source_ip>
      <count>40</count>
      <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated>
    </row>
    <identifiers><header_from>${domain}</header_from><envelope_from>bounces.${domain}</envelope_from></identifiers>
    <auth_results>
      <dkim><domain>${domain}</domain><selector>k1</selector><result>pass</result></dkim>
      <spf><domain>bounces.${domain}</domain><scope>mfrom</scope><result>pass</result></spf>
    </auth_results>
  </record>
</feedback>
`;
}

/** RFC 8460 §4.4's example shape: one STS policy with failures, one with none. */
export function tlsReportJson(o: { reportId?: string; policyDomain?: string } = {}): string {
  return JSON.stringify(
    {
      "organization-name": "Sender Example Inc.",
      "date-range": { "start-datetime": "2026-12-01T00:00:00Z", "end-datetime": "2026-12-01T23:59:59Z" },
      "contact-info": "smtp-tls-reporting@sender.example",
      "report-id": o.reportId ?? "2026-12-01T00:00:00Z_bounces.example.com",
      policies: [
        {
          policy: {
            "policy-type": "sts",
            "policy-string": [
              "version: STSv1",
              "mode: enforce",
              "mx: mx1.bounces.example.com",
              "max_age: 86400",
            ],
            "policy-domain": o.policyDomain ?? "bounces.example.com",
            "mx-host": ["mx1.bounces.example.com"],
          },
          summary: { "total-successful-session-count": 5326, "total-failure-session-count": 303 },
          "failure-details": [
            {
              "result-type": "certificate-expired",
              "sending-mta-ip": "2001:db8:abcd:12::1",
              "receiving-mx-hostname": "mx1.bounces.example.com",
              "failed-session-count": 200,
            },
            {
              "result-type": "starttls-not-supported",
              "sending-mta-ip": "198.51.100.62",
              "receiving-mx-hostname": "mx1.bounces.example.com",
              "receiving-ip": "192.0.2.25",
              "failed-session-count": 103,
              "failure-reason-code": "STARTTLS refused",
            },
          ],
        },
        {
          policy: { "policy-type": "no-policy-found", "policy-domain": "fbl.example.com" },
          summary: { "total-successful-session-count": 12, "total-failure-session-count": 0 },
        },
      ],
    },
    null,
    2,
  );
}

export const gzip = (s: string | Uint8Array): Buffer => gzipSync(typeof s === "string" ? Buffer.from(s) : s);

/** A zip archive of one file, with a fixed time so the bytes are the same on every run. */
export const zip = (name: string, content: string | Uint8Array): Buffer =>
  Buffer.from(
    zipSync({
      [name]: [
        typeof content === "string" ? Buffer.from(content) : content,
        { mtime: new Date("2026-12-02T00:00:00Z") },
      ],
    }),
  );

function base64Lines(b: Buffer): string {
  return (b.toString("base64").match(/.{1,76}/g) ?? []).join("\r\n");
}

export interface AttachmentMail {
  to?: string;
  from?: string;
  subject?: string;
  messageId?: string;
  contentType: string;
  filename: string;
  content: Buffer;
  /** The attachment alone as the mail's body (Yahoo's way), not in a multipart/mixed. */
  bare?: boolean;
}

/** A DMARC aggregate report mail (RFC 7489 §7.2.1.1), CRLF line endings. */
export function dmarcMail(m: AttachmentMail): string {
  const head = [
    `From: ${m.from ?? "noreply-dmarc-support@google.com"}`,
    `To: ${m.to ?? "dmarc@bounces.example.com"}`,
    `Subject: ${m.subject ?? "Report domain: shop.example.com Submitter: google.com Report-ID: 4471283650917365210"}`,
    `Date: Wed, 02 Dec 2026 08:14:09 -0800`,
    `Message-ID: ${m.messageId ?? "<4471283650917365210@google.com>"}`,
    `MIME-Version: 1.0`,
  ];
  const attachmentHeaders = [
    `Content-Type: ${m.contentType}; name="${m.filename}"`,
    `Content-Disposition: attachment; filename="${m.filename}"`,
    `Content-Transfer-Encoding: base64`,
  ];
  if (m.bare) return [...head, ...attachmentHeaders, "", base64Lines(m.content), ""].join("\r\n");
  return [
    ...head,
    `Content-Type: multipart/mixed; boundary="dmarc-b1"`,
    "",
    "--dmarc-b1",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    "This is an aggregate report from the mail receiver.",
    "",
    "--dmarc-b1",
    ...attachmentHeaders,
    "",
    base64Lines(m.content),
    "--dmarc-b1--",
    "",
  ].join("\r\n");
}

/** An SMTP TLS report mail (RFC 8460 §5.3): multipart/report; report-type="tlsrpt", CRLF line endings. */
export function tlsMail(o: { gz: Buffer; to?: string; messageId?: string; reportId?: string }): string {
  return [
    "From: tlsrpt-noreply@sender.example",
    `To: ${o.to ?? "tlsrpt@bounces.example.com"}`,
    "Subject: Report Domain: bounces.example.com Submitter: sender.example Report-ID: <2026.12.01T00.00.00Z+bounces.example.com@sender.example>",
    "Date: Wed, 02 Dec 2026 01:02:03 +0000",
    `Message-ID: ${o.messageId ?? "<tlsrpt-20261201@sender.example>"}`,
    "TLS-Report-Domain: bounces.example.com",
    "TLS-Report-Submitter: sender.example",
    "MIME-Version: 1.0",
    'Content-Type: multipart/report; report-type="tlsrpt"; boundary="tls-b1"',
    "",
    "--tls-b1",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    "This is an aggregate TLS report from sender.example.",
    "",
    "--tls-b1",
    "Content-Type: application/tlsrpt+gzip",
    "Content-Transfer-Encoding: base64",
    'Content-Disposition: attachment; filename="sender.example!bounces.example.com!1796169600!1796255999!001.json.gz"',
    "",
    base64Lines(o.gz),
    "--tls-b1--",
    "",
  ].join("\r\n");
}
