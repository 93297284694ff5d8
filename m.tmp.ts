import { classify } from "./src/core/classify.js";
import * as h from "./test/helpers/aggregate-reports.js";
for (const n of [1000, 10000, 24000]) {
  const rows = Array.from({ length: n }, (_, i) => ({ ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, count: 1 + (i % 7), dkim: (i % 3 ? "pass" : "fail") as "pass" | "fail", spf: "pass" as const }));
  const xml = h.googleXml({ rows });
  const mail = h.dmarcMail({ contentType: "application/zip", filename: "google.com!a.example!1!2.zip", content: h.zip("a.xml", xml) });
  for (let k = 0; k < 3; k++) {
    const t = process.hrtime.bigint();
    const r = classify(mail);
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    console.log(`${n} records, XML ${(xml.length / 1048576).toFixed(1)} MiB, mail ${(mail.length / 1024).toFixed(0)} KiB: ${ms.toFixed(0)} ms (${r.dmarc?.records.length})`);
  }
}
