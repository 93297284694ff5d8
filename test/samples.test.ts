// The team's own sample mails (samples/NAME.eml beside NAME.expected.json): each is classified as expected.
// An expected file is a subset of the Report: `kind` (or a list of acceptable kinds), `recipients` compared in
// order (same count; each listed key must be equal, keys left out are not checked), and `original` (listed keys;
// its `headers`, when given, also compared by the listed keys only).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { classify } from "../src/core/classify.js";
import { CLASSES, KINDS, REASONS, classOf, isReason } from "../src/core/report.js";
import type { Report } from "../src/core/report.js";

const dir = fileURLToPath(new URL("../samples/", import.meta.url));
const files = readdirSync(dir);
const mails = files.filter((f) => f.endsWith(".eml")).sort();

interface Expected {
  kind: string | string[];
  recipients: Record<string, unknown>[];
  original?: Record<string, unknown>;
}

const readExpected = (mail: string): Expected =>
  JSON.parse(readFileSync(join(dir, mail.replace(/\.eml$/, ".expected.json")), "utf8")) as Expected;

/** The keys of `wanted` taken from `actual`, so that a failure shows a small, readable diff. */
function pick(actual: object, wanted: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(wanted)) out[key] = (actual as Record<string, unknown>)[key];
  return out;
}

function lineEnding(raw: Buffer): "crlf" | "cr" | "lf" | "none" {
  const s = raw.toString("latin1");
  if (s.includes("\r\n")) return "crlf";
  if (s.includes("\r")) return "cr";
  return s.includes("\n") ? "lf" : "none";
}

describe("samples", () => {
  it("has at least 60 samples, each with its expected result, in all three line-ending styles", () => {
    expect(mails.length).toBeGreaterThanOrEqual(60);
    const jsons = files.filter((f) => f.endsWith(".expected.json"));
    expect(jsons.map((f) => f.replace(/\.expected\.json$/, ".eml")).sort()).toEqual(mails);
    const styles: Record<string, number> = {};
    for (const mail of mails) {
      const style = lineEnding(readFileSync(join(dir, mail)));
      styles[style] = (styles[style] ?? 0) + 1;
    }
    expect(styles.lf ?? 0).toBeGreaterThanOrEqual(3);
    expect(styles.crlf ?? 0).toBeGreaterThanOrEqual(3);
    expect(styles.cr ?? 0).toBeGreaterThanOrEqual(3);
  });

  it("has expected files that use only the report's vocabularies, with classes that agree with classOf", () => {
    const kindsSeen = new Set<string>();
    const classesSeen = new Set<string>();
    for (const mail of mails) {
      const exp = readExpected(mail);
      for (const kind of [exp.kind].flat()) {
        expect(KINDS, mail).toContain(kind);
        kindsSeen.add(kind);
      }
      expect(Array.isArray(exp.recipients), mail).toBe(true);
      for (const rcpt of exp.recipients) {
        expect(typeof rcpt.recipient, mail).toBe("string");
        if (rcpt.class !== undefined) {
          expect(CLASSES, mail).toContain(rcpt.class);
          classesSeen.add(String(rcpt.class));
        }
        if (rcpt.reason !== undefined) {
          expect(REASONS, mail).toContain(rcpt.reason);
          const reason = String(rcpt.reason);
          if (isReason(reason) && rcpt.class !== undefined) {
            const status = typeof rcpt.status === "string" ? rcpt.status : undefined;
            const code = typeof rcpt.smtpCode === "number" ? rcpt.smtpCode : undefined;
            const permanent = typeof rcpt.permanent === "boolean" ? rcpt.permanent : null;
            expect(rcpt.class, `${mail}: class of ${reason}`).toBe(classOf(reason, status, code, permanent));
          }
        }
      }
    }
    // Together the samples cover every kind and every class.
    expect([...kindsSeen].sort()).toEqual([...KINDS].sort());
    expect([...classesSeen].sort()).toEqual([...CLASSES].sort());
  });

  /** The facts of a report that must not depend on line endings. */
  const facts = (report: Report) => ({
    kind: report.kind,
    messageId: report.original.messageId,
    recipients: report.recipients.map((r) => [
      r.recipient,
      r.reason,
      r.class,
      r.status,
      r.smtpCode,
      r.action,
      r.rule,
    ]),
  });

  for (const mail of mails) {
    const raw = readFileSync(join(dir, mail));
    const style = lineEnding(raw);
    // Binary junk keeps its stray CR and LF bytes as they are.
    if (style === "none" || mail === "binary-junk.eml") continue;
    it(`samples/${mail} is classified the same with LF, CRLF and CR-only line endings`, () => {
      const lf = raw.toString("latin1").replace(/\r\n?/g, "\n");
      const expected = facts(classify(raw));
      for (const eol of ["\n", "\r\n", "\r"]) {
        const variant = Buffer.from(lf.replace(/\n/g, eol), "latin1");
        expect(facts(classify(variant)), `${mail} with ${JSON.stringify(eol)}`).toEqual(expected);
      }
    });
  }

  for (const mail of mails) {
    it(`samples/${mail} is classified as expected`, () => {
      const raw = readFileSync(join(dir, mail));
      const exp = readExpected(mail);
      const report: Report = classify(raw);

      const kinds = [exp.kind].flat();
      expect(kinds, `kind of ${mail}`).toContain(report.kind);

      expect(
        report.recipients.map((r, i) => pick(r, exp.recipients[i] ?? { recipient: "" })),
        `recipients of ${mail}`,
      ).toEqual(exp.recipients);

      if (exp.original) {
        // `headers` is itself a subset: the listed (lower-cased) X-/List-/Feedback-ID headers of the original.
        const { headers, ...fields } = exp.original;
        expect(pick(report.original, fields), `original of ${mail}`).toEqual(fields);
        if (headers && typeof headers === "object") {
          expect(pick(report.original.headers, headers), `original headers of ${mail}`).toEqual(headers);
        }
      }

      for (const r of report.recipients) {
        // Every result carries its evidence, and its class is the one the vocabulary gives its reason.
        expect(r.rule, `rule of ${r.recipient}`).toMatch(/\S/);
        expect(r.class, `class of ${r.recipient}`).toBe(classOf(r.reason, r.status, r.smtpCode, r.permanent));
        // Every recipient says whether its failure is permanent (null: unknown, or no failure at all).
        expect([true, false, null], `permanent of ${r.recipient}`).toContain(r.permanent);
        if (["delivered", "feedback", "vacation"].includes(r.reason)) expect(r.permanent).toBeNull();
        // `undetermined` only when neither the reason nor the permanence is known.
        if (r.class === "undetermined")
          expect(r.permanent, `permanent of undetermined ${r.recipient}`).toBeNull();
        // A deferral (delayed, 4.x.x) never condemns the address.
        if (r.action === "delayed") {
          expect(r.class, `class of delayed ${r.recipient}`).not.toBe("hard");
          expect(r.permanent, `permanent of delayed ${r.recipient}`).toBe(false);
        }
      }
    });
  }
});
