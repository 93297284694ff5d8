// classify() never throws and stays bounded on hostile input: mutated and truncated mails, junk, huge mails.
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { classify } from "../../src/core/classify.js";
import { KINDS, type Report } from "../../src/core/report.js";
import { FIXTURES, fixture } from "./fixtures.js";
import { mutate, rng } from "./hostile.mjs";

function expectReport(r: Report): void {
  expect(KINDS).toContain(r.kind);
  expect(Array.isArray(r.recipients)).toBe(true);
  expect(r.original).toBeTypeOf("object");
  if (r.kind === "unparsable") expect(r.error).toBeTruthy();
}

const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith(".eml"))
  .map((f) => fixture(f));

describe("classify on hostile input", () => {
  it("never throws on mutated fixtures", () => {
    const rand = rng(20261127);
    for (let i = 0; i < 1500; i++) expectReport(classify(mutate(fixtures[i % fixtures.length]!, rand)));
  });

  it("never throws on every truncation of a DSN", () => {
    const src = fixture("dsn-two-recipients.eml");
    for (let n = 0; n <= src.length; n += 7) expectReport(classify(src.subarray(0, n)));
  });

  it("answers an empty mail and binary junk", () => {
    expectReport(classify(Buffer.alloc(0)));
    expectReport(classify(""));
    const rand = rng(7);
    for (let i = 0; i < 50; i++) {
      const junk = Buffer.alloc(1 + Math.floor(rand() * 5000));
      for (let k = 0; k < junk.length; k++) junk[k] = Math.floor(rand() * 256);
      expectReport(classify(junk));
    }
  });

  it("answers 1,000 nested multiparts", () => {
    let body =
      "Content-Type: message/delivery-status\n\nFinal-Recipient: rfc822; deep@example.com\nAction: failed\nStatus: 5.1.1\n";
    for (let i = 0; i < 1000; i++)
      body = `Content-Type: multipart/mixed; boundary="n${i}"\n\n--n${i}\n${body}\n--n${i}--\n`;
    expectReport(classify(body));
  });

  it("answers 10,000 header lines and a 10,000-line folded header", () => {
    const many = Array.from({ length: 10_000 }, (_, i) => `X-H${i}: v${i}`).join("\n") + "\n\nbody\n";
    expectReport(classify(many));
    const folded = "Subject: x\n" + Array.from({ length: 10_000 }, () => "  more").join("\n") + "\n\nbody\n";
    expectReport(classify(folded));
  });

  it("answers a bounce with a 50 MB attachment", () => {
    const dsn = fixture("dsn-two-recipients.eml").toString("latin1");
    const big = Buffer.alloc(
      50 * 1024 * 1024,
      "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\n",
    );
    const mail = Buffer.concat([
      Buffer.from(
        dsn.replace(
          "--4AbCdE.1793613600/mx.example.org--",
          "--4AbCdE.1793613600/mx.example.org\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n",
        ),
        "latin1",
      ),
      big,
      Buffer.from("\n--4AbCdE.1793613600/mx.example.org--\n"),
    ]);
    const r = classify(mail);
    expectReport(r);
    expect(r.recipients.map((x) => x.recipient)).toEqual(["nobody@example.net", "full@example.com"]);
  });

  it("reads CR-only mails", () => {
    const r = classify(fixture("dsn-two-recipients.eml").toString("latin1").replace(/\r?\n/g, "\r"));
    expect(r.recipients).toHaveLength(2);
  });

  it("answers wrong and unknown charsets", () => {
    expectReport(
      classify(
        "Content-Type: text/plain; charset=x-no-such-charset\nContent-Transfer-Encoding: base64\n\n////\n",
      ),
    );
    expectReport(classify("Subject: =?bogus?Q?=FF=FE?= =?utf-8?B?****?=\n\nhi"));
  });
});
