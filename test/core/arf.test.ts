import { describe, expect, it } from "vitest";
import { parseFeedbackReport, readComplaint, UNDISCLOSED_RECIPIENT } from "../../src/core/arf.js";
import { parseMail } from "../../src/core/mime.js";
import { fixture } from "./fixtures.js";

describe("feedback reports", () => {
  it("reads every RFC 5965 field of the report", () => {
    const c = readComplaint(parseMail(fixture("arf-abuse.eml")));
    expect(c?.recipients).toEqual(["carol@example.com"]);
    expect(c?.rule).toBe("arf.original-rcpt-to");
    expect(c?.arf).toEqual({
      feedbackType: "abuse",
      userAgent: "SomeGenerator/1.0",
      version: "1",
      originalMailFrom: "bounces+carol=example.com@bounce.example.org",
      originalRcptTo: ["carol@example.com"],
      arrivalDate: "Wed, 4 Nov 2026 11:00:00 +0000",
      sourceIp: "192.0.2.1",
      reportedDomain: ["example.org"],
      reportedUri: ["http://example.org/offer"],
      authenticationResults: "mail.example.net; spf=pass smtp.mailfrom=example.org",
      incidents: 3,
    });
  });

  it("takes the complaining recipient from the original's To when Original-Rcpt-To is missing", () => {
    const c = readComplaint(parseMail(fixture("arf-no-rcpt.eml")));
    expect(c?.recipients).toEqual(["Dave@Example.COM"]);
    expect(c?.rule).toBe("arf.original-to");
    expect(c?.arf.feedbackType).toBe("opt-out");
  });

  it("falls back to a VERP address, then to the undisclosed placeholder", () => {
    const verp = readComplaint(
      parseMail(
        "To: bounces+erin=example.com@bounce.example.org\nContent-Type: multipart/report; report-type=feedback-report; boundary=x\n\n--x\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n--x--\n",
      ),
    );
    expect(verp?.recipients).toEqual(["erin@example.com"]);
    const none = readComplaint(
      parseMail(
        "To: abuse@example.org\nContent-Type: multipart/report; report-type=feedback-report; boundary=x\n\n--x\nContent-Type: message/feedback-report\n\nFeedback-Type: fraud\n--x--\n",
      ),
    );
    expect(none?.recipients).toEqual([UNDISCLOSED_RECIPIENT]);
    expect(none?.arf.feedbackType).toBe("fraud");
  });

  it("takes no recipient from an original's To whose local part is redacted, falling back to the placeholder", () => {
    const report = (to: string) =>
      readComplaint(
        parseMail(
          `To: fbl@example.org\nContent-Type: multipart/report; report-type=feedback-report; boundary=x\n\n--x\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n\n--x\nContent-Type: text/rfc822-headers\n\nFrom: news@example.org\nTo: ${to}\n\n--x--\n`,
        ),
      );
    for (const to of ["redacted@mail.example", "[redacted]@mail.example", "xxxxxxxx@mail.example"]) {
      expect(report(to)?.recipients, to).toEqual([UNDISCLOSED_RECIPIENT]);
      expect(report(to)?.rule, to).toBe("arf.no-recipient");
    }
    expect(report("rex@mail.example")?.recipients).toEqual(["rex@mail.example"]);
  });

  it("recognises Microsoft JMRP reports by X-HmXmrOriginalRecipient", () => {
    const c = readComplaint(
      parseMail(
        "From: staff@hotmail.example\nSubject: complaint about message from 192.0.2.1\nContent-Type: multipart/mixed; boundary=j\n\n--j\nContent-Type: text/plain\n\nJunk mail report\n--j\nContent-Type: message/rfc822\n\nX-HmXmrOriginalRecipient: <ivan@hotmail.example>\nFrom: news@example.org\nTo: ivan@hotmail.example\n\nhi\n--j--\n",
      ),
    );
    expect(c?.recipients).toEqual(["ivan@hotmail.example"]);
    expect(c?.rule).toBe("arf.microsoft-jmrp");
  });

  it("reads multiple Original-Rcpt-To and Reported-Domain fields and folded values", () => {
    const arf = parseFeedbackReport(
      "Feedback-Type: auth-failure\nOriginal-Rcpt-To: a@example.com\nOriginal-Rcpt-To: b@example.com\nReported-Domain: example.org\nReported-Domain: example.net\nAuthentication-Results: mx.example.com;\n  dkim=fail\n",
    );
    expect(arf.originalRcptTo).toEqual(["a@example.com", "b@example.com"]);
    expect(arf.reportedDomain).toEqual(["example.org", "example.net"]);
    expect(arf.authenticationResults).toBe("mx.example.com; dkim=fail");
  });
});
