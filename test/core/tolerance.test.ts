import { describe, expect, it } from "vitest";
import { classify } from "../../src/core/classify.js";
import { parseMail } from "../../src/core/mime.js";
import { decideReason } from "../../src/core/reason.js";

const dsnMail = (status: string, diagnostic: string): string =>
  [
    "From: MAILER-DAEMON@mx.example.net",
    "To: sender@example.com",
    "Subject: Delivery Status Notification (Failure)",
    "MIME-Version: 1.0",
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
    "",
    "--B",
    "Content-Type: text/plain",
    "",
    "Delivery failed.",
    "--B",
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns; mx.example.net",
    "",
    "Final-Recipient: rfc822; someone@example.org",
    "Action: failed",
    `Status: ${status}`,
    `Diagnostic-Code: ${diagnostic}`,
    "--B--",
    "",
  ].join("\r\n");

describe("tolerant MIME reading", () => {
  it("reads an unindented line without a colon after a header as that header's continuation", () => {
    const mail = parseMail(
      'From: a@example.com\nContent-Type: multipart/mixed\nboundary="XYZ"\n\n--XYZ\nContent-Type: text/plain\n\nhello\n--XYZ--\n',
    );
    expect(mail.root.contentType).toBe("multipart/mixed");
    expect(mail.root.params["boundary"]).toBe("XYZ");
    expect(mail.text).toBe("hello");
  });

  it("reads a Content-Type folded without a semicolon as its type and parameters", () => {
    const mail = parseMail("From: a@example.com\nContent-Type: text/plain\n charset=iso-8859-1\n\ncaf\xe9\n");
    expect(mail.root.contentType).toBe("text/plain");
    expect(mail.root.params["charset"]).toBe("iso-8859-1");
  });

  it("splits a multipart whose declared boundary matches nothing on the body's first delimiter line", () => {
    const mail = parseMail(
      'From: a@example.com\nContent-Type: multipart/mixed; boundary="WRONG"\n\n------=_abc\nContent-Type: text/plain\n\nhello\n------=_abc--\n',
    );
    expect(mail.root.parts).toHaveLength(1);
    expect(mail.text).toBe("hello");
  });
});

describe("reason evidence", () => {
  it("reads the Status field's comment like a reply text: a disabled mailbox is suspend", () => {
    const r = classify(
      dsnMail(
        "5.2.1 (mailbox disabled, not accepting messages)",
        "smtp;550 5.2.1 <someone@example.org>... User Unknown",
      ),
    );
    expect(r.recipients[0]?.reason).toBe("suspend");
    expect(r.recipients[0]?.rule).toMatch(/^dsn\.status-comment:/);
  });

  it("reads an X-Unix diagnostic as a mailer error, unless it says the mailbox is full", () => {
    expect(classify(dsnMail("5.0.0", "X-Unix; 127")).recipients[0]?.reason).toBe("mailererror");
    expect(
      decideReason({ status: "4.3.0", diagnostic: "Disk quota exceeded", diagnosticType: "x-unix" }).reason,
    ).toBe("mailboxfull");
  });

  it("never lets a reply text override an extractor-stated complaint", () => {
    expect(
      decideReason({ reason: "feedback", rule: "lhost:x", diagnostic: "550 5.1.1 user unknown" }).reason,
    ).toBe("feedback");
  });
});
