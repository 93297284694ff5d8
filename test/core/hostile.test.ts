// classify() answers every mail of the hostile suite (test/core/hostile.mjs): for each context the classifier
// reads, 64 KB runs of each character class a pattern there might loop on. How long each takes is the bench's
// business (`node bench/classify.mjs --hostile`); a super-linear pattern shows here as a test that never ends.
import { describe, expect, it } from "vitest";
import { classify } from "../../src/core/classify.js";
import { KINDS, type Report } from "../../src/core/report.js";
import { CONTEXTS, UNITS, hostileMails } from "./hostile.mjs";

function expectReport(r: Report, what: string): void {
  expect(KINDS, what).toContain(r.kind);
  expect(Array.isArray(r.recipients), what).toBe(true);
  expect(r.original, what).toBeTypeOf("object");
  if (r.kind === "unparsable") expect(r.error, what).toBeTruthy();
}

describe("classify on the hostile suite", () => {
  it("covers every context with every unit", () => {
    const names = CONTEXTS.map((c) => c.name);
    for (const want of [
      "text-line",
      "dsn-diagnostic",
      "header-folded",
      "html",
      "quoted-printable",
      "base64-raw",
    ])
      expect(names).toContain(want);
    for (const want of ["original-rfc822", "original-headers", "verp-addresses"])
      expect(names).toContain(want);
    expect(UNITS.length).toBeGreaterThan(50);
    // each mail carries its run in full
    for (const { mail } of hostileMails(65536, { contexts: CONTEXTS.slice(0, 1), units: ["-"] }))
      expect(mail).toContain("-".repeat(65536));
  });

  for (const context of CONTEXTS) {
    it(`answers a valid report for 64 KB runs in ${context.name}`, () => {
      let n = 0;
      for (const { unit, mail } of hostileMails(65536, { contexts: [context] })) {
        expectReport(classify(mail), `${context.name} ${JSON.stringify(unit)}`);
        n++;
      }
      expect(n).toBe(UNITS.length);
    });
  }

  it("reads the recipient of a bounce whose text holds a line of 4,000 dashes", () => {
    const text = CONTEXTS.find((c) => c.name === "text-line")!;
    const reply = "<rcpt@example.net>: host mx.example.net[192.0.2.1] said: 550 5.1.1 User unknown\n";
    const r = classify(text.mail(reply + "-".repeat(4000) + "x", "-"));
    expect(r.kind).toBe("bounce");
    expect(r.recipients.map((x) => [x.recipient, x.reason])).toEqual([["rcpt@example.net", "userunknown"]]);
  });
});
