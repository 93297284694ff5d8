import { describe, expect, it } from "vitest";
import { addressOf, parseDeliveryStatus } from "../../src/core/dsn.js";

describe("parseDeliveryStatus", () => {
  it("reads per-message fields and every per-recipient block with folded lines", () => {
    const dsn = parseDeliveryStatus(
      [
        "Reporting-MTA: dns; mx.example.org",
        "X-Postfix-Queue-ID: 4AbCdE",
        "Arrival-Date: Mon, 2 Nov 2026 09:59:58 +0000",
        "",
        "Final-Recipient: rfc822; a@example.com",
        "Original-Recipient: rfc822; A@Example.com",
        "Action: failed",
        "Status: 5.1.1",
        "Remote-MTA: dns; mail.example.com",
        "Diagnostic-Code: smtp; 550 5.1.1 <a@example.com>: Recipient address",
        "    rejected: User unknown",
        "Last-Attempt-Date: Mon, 2 Nov 2026 10:00:00 +0000",
        "X-Actual-Recipient: rfc822; a@internal.example.com",
        "",
        "Final-Recipient: rfc822; b@example.com",
        "Action: delayed",
        "Status: 4.4.1",
        "Will-Retry-Until: Tue, 3 Nov 2026 10:00:00 +0000",
        "",
      ].join("\n"),
    );
    expect(dsn.reportingMta).toBe("mx.example.org");
    expect(dsn.messageFields["x-postfix-queue-id"]).toBe("4AbCdE");
    expect(dsn.messageFields["arrival-date"]).toBe("Mon, 2 Nov 2026 09:59:58 +0000");
    expect(dsn.recipients).toHaveLength(2);
    const [a, b] = dsn.recipients;
    expect(a).toMatchObject({
      recipient: "a@example.com",
      originalRecipient: "A@Example.com",
      action: "failed",
      status: "5.1.1",
      remoteMta: "mail.example.com",
      diagnosticType: "smtp",
      diagnostic: "550 5.1.1 <a@example.com>: Recipient address rejected: User unknown",
      lastAttemptDate: "Mon, 2 Nov 2026 10:00:00 +0000",
    });
    expect(a!.fields["x-actual-recipient"]).toBe("rfc822; a@internal.example.com");
    expect(b).toMatchObject({
      recipient: "b@example.com",
      action: "delayed",
      status: "4.4.1",
      willRetryUntil: "Tue, 3 Nov 2026 10:00:00 +0000",
    });
  });

  it("separates recipients that have no blank line between them and keeps unindented continuations", () => {
    const dsn = parseDeliveryStatus(
      "Reporting-MTA: relay.example.com\nFinal-Recipient: <one@example.com>\nAction: Failed\nStatus: 5.2.2 (mailbox full)\nDiagnostic-Code: smtp; 552 over quota and\ncannot accept more\nFinal-Recipient: RFC822; two@example.com\nAction: delayed\nStatus: 4.4.1\n",
    );
    expect(dsn.reportingMta).toBe("relay.example.com");
    expect(dsn.recipients.map((r) => [r.recipient, r.action, r.status])).toEqual([
      ["one@example.com", "failed", "5.2.2"],
      ["two@example.com", "delayed", "4.4.1"],
    ]);
    expect(dsn.recipients[0]!.diagnostic).toBe("552 over quota and cannot accept more");
  });

  it("takes the Original-Recipient when the Final-Recipient is a source route to a bare host", () => {
    const dsn = parseDeliveryStatus(
      "Original-recipient: rfc822;kim@example.net\nFinal-recipient: rfc822;@smtp.example.net:kim@server\nAction: failed\nStatus: 5.2.0\n",
    );
    expect(dsn.recipients[0]!.recipient).toBe("kim@example.net");
  });
});

describe("addressOf", () => {
  it("strips address types, angle brackets and keeps quoted local parts", () => {
    expect(addressOf("rfc822; <a@example.com>")).toBe("a@example.com");
    expect(addressOf("RFC822; b@example.com.")).toBe("b@example.com");
    expect(addressOf('rfc822; "odd..name"@example.com')).toBe('"odd..name"@example.com');
    expect(addressOf("rfc822; nobody")).toBeUndefined();
  });
});
