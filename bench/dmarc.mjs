#!/usr/bin/env node
// classify() on DMARC aggregate reports of growing size (zipped, in a multipart/mixed mail, as Google sends them)
// and on a zip bomb: per size, the best of --rounds runs (ms), the XML's size and MiB/s of XML. The worker gives a
// mail REBOUND_CLASSIFY_TIMEOUT_MS (default 2 s) in its classifier thread: a report slower than that is kept as
// failed (`classify_timeout`), re-processable with a longer deadline. Needs `npm run build` first.
//
//   node bench/dmarc.mjs [--records 1000,10000,25000] [--rounds 3]
import { join } from "node:path";
import { zipSync } from "fflate";
import { opt, root } from "./lib/args.mjs";

const sizes = opt("--records", "1000,10000,25000").split(",").map(Number);
const rounds = Number(opt("--rounds", "3"));
const { classify } = await import(join(root, "dist", "src", "core", "classify.js"));

function xmlOf(n) {
  const rows = [];
  for (let i = 0; i < n; i++) {
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const dkim = i % 3 ? "pass" : "fail";
    rows.push(`  <record>
    <row><source_ip>${ip}</source_ip><count>${1 + (i % 7)}</count>
      <policy_evaluated><disposition>none</disposition><dkim>${dkim}</dkim><spf>pass</spf></policy_evaluated></row>
    <identifiers><header_from>shop.example.com</header_from></identifiers>
    <auth_results>
      <dkim><domain>shop.example.com</domain><result>${dkim}</result><selector>s1</selector></dkim>
      <spf><domain>bounces.shop.example.com</domain><result>pass</result></spf>
    </auth_results>
  </record>`);
  }
  return `<?xml version="1.0" encoding="UTF-8" ?>
<feedback>
  <report_metadata><org_name>google.com</org_name><email>noreply-dmarc-support@google.com</email>
    <report_id>${n}</report_id><date_range><begin>1796169600</begin><end>1796255999</end></date_range></report_metadata>
  <policy_published><domain>shop.example.com</domain><adkim>r</adkim><aspf>r</aspf><p>none</p><sp>none</sp><pct>100</pct></policy_published>
${rows.join("\n")}
</feedback>
`;
}

function mailOf(content) {
  const name = "google.com!shop.example.com!1796169600!1796255999";
  const zip = Buffer.from(zipSync({ [`${name}.xml`]: content }));
  return Buffer.from(
    [
      "From: noreply-dmarc-support@google.com",
      "To: dmarc@bounces.example.com",
      `Subject: Report domain: shop.example.com Submitter: google.com Report-ID: 1`,
      "MIME-Version: 1.0",
      'Content-Type: multipart/mixed; boundary="b"',
      "",
      "--b",
      `Content-Type: application/zip; name="${name}.zip"`,
      "Content-Transfer-Encoding: base64",
      "",
      zip.toString("base64").replace(/.{76}/g, "$&\r\n"),
      "--b--",
      "",
    ].join("\r\n"),
  );
}

function best(mail) {
  let min = Infinity;
  let report;
  for (let i = 0; i < rounds; i++) {
    const t = process.hrtime.bigint();
    report = classify(mail);
    min = Math.min(min, Number(process.hrtime.bigint() - t) / 1e6);
  }
  return { ms: min, report };
}

classify(mailOf(Buffer.from(xmlOf(200)))); // warm-up
for (const n of sizes) {
  const xml = Buffer.from(xmlOf(n));
  const mail = mailOf(xml);
  const { ms, report } = best(mail);
  const mib = xml.length / 1048576;
  console.log(
    `${String(n).padStart(7)} records  XML ${mib.toFixed(1).padStart(5)} MiB  mail ${(mail.length / 1024).toFixed(0).padStart(5)} KiB  ` +
      `${ms.toFixed(0).padStart(6)} ms  ${(mib / (ms / 1000)).toFixed(1)} MiB/s  ${report.kind} ${report.dmarc ? report.dmarc.records.length + " rows" : report.error}`,
  );
}
const bomb = mailOf(new Uint8Array(256 * 1048576));
const { ms, report } = best(bomb);
console.log(
  `zip bomb: 256 MiB of zeros in a ${(bomb.length / 1024).toFixed(0)} KiB mail  ${ms.toFixed(0)} ms  ${report.error}`,
);
