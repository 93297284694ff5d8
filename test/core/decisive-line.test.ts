import { describe, expect, it } from "vitest";
import { decisiveLine } from "../../src/core/decisive-line.js";

const DSN = [
  "Subject: Mail delivery failed",
  "",
  "  jane@example.org",
  "    550 5.1.1 <jane@example.org>: No such user here",
  "",
  "Reporting-MTA: dns; relay.example.org",
  "Status: 5.1.1",
  "Diagnostic-Code: smtp; 550 5.1.1 <jane@example.org>: No such user here",
].join("\r\n");

const none = { diagnostic: null, status: null, feedbackType: null };

describe("decisiveLine", () => {
  it("points at the report's Diagnostic-Code line rather than the human part that repeats it", () => {
    const d = decisiveLine(DSN, {
      ...none,
      diagnostic: "smtp; 550 5.1.1 <jane@example.org>: No such user here",
    });
    expect(d).toEqual({
      line: 8,
      text: "Diagnostic-Code: smtp; 550 5.1.1 <jane@example.org>: No such user here",
    });
  });

  it("finds a folded diagnostic by its first words, whitespace and case aside", () => {
    const raw =
      "Status: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 <Jane@Example.org>: Recipient address\n  rejected: unknown";
    const d = decisiveLine(raw, {
      ...none,
      diagnostic: "smtp; 550   5.1.1 <jane@example.org>: Recipient address rejected: unknown",
    });
    expect(d.line).toBe(2);
  });

  it("falls back to the Status or Feedback-Type field, and says null when nothing tells", () => {
    expect(decisiveLine("a\nStatus: 4.2.2\n", { ...none, status: "4.2.2" }).line).toBe(2);
    expect(decisiveLine("x\nFeedback-Type: abuse", { ...none, feedbackType: "abuse" })).toEqual({
      line: 2,
      text: "Feedback-Type: abuse",
    });
    expect(decisiveLine("nothing here", { ...none, diagnostic: "a diagnostic that is not there" })).toEqual({
      line: null,
      text: null,
    });
  });

  it("stays linear on a long line without any line break", () => {
    const raw = "x".repeat(2_000_000);
    expect(decisiveLine(raw, { ...none, diagnostic: "smtp; 550 " + "x".repeat(39) + "y" }).line).toBeNull();
  });
});
