import { describe, expect, it } from "vitest";
import { classify } from "../../src/core/classify.js";
import { givenUpIn } from "../../src/core/reason.js";

const dsn = (id: string, rcpt: string, status: string, reply: string): string =>
  [
    "From: MAILER-DAEMON@relay.example.net (Mail Delivery System)",
    "To: bounces@sender.example.org",
    "Subject: Undelivered Mail Returned to Sender",
    `Message-ID: <${id}@relay.example.net>`,
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type=delivery-status; boundary="r-${id}"`,
    "",
    `--r-${id}`,
    "Content-Type: text/plain",
    "",
    `<${rcpt}>: host mx.example.net said: ${reply}`,
    "",
    `--r-${id}`,
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns; relay.example.net",
    "",
    `Final-Recipient: rfc822; ${rcpt}`,
    "Action: failed",
    `Status: ${status}`,
    `Diagnostic-Code: smtp; ${reply}`,
    "",
    `--r-${id}--`,
    "",
  ].join("\n");

describe("a gateway's batch of notices", () => {
  it("reports the recipients of every DSN of a multipart/digest, in order", () => {
    const mail = [
      "From: Gateway <postmaster@gw.example.net>",
      "To: bounces@sender.example.org",
      "Subject: Delivery failures (2 notices)",
      "MIME-Version: 1.0",
      'Content-Type: multipart/mixed; boundary="outer"',
      "",
      "--outer",
      "Content-Type: text/plain",
      "",
      "Two notices follow.",
      "",
      "--outer",
      'Content-Type: multipart/digest; boundary="dig"',
      "",
      "--dig",
      "",
      dsn("a1", "ann@example.net", "5.1.1", "550 5.1.1 User unknown"),
      "--dig",
      "",
      dsn("b2", "bob@example.net", "5.2.2", "552 5.2.2 Mailbox full"),
      "--dig--",
      "",
      "--outer--",
      "",
    ].join("\n");
    const r = classify(mail);
    expect(r.kind).toBe("bounce");
    expect(r.recipients.map((x) => [x.recipient, x.reason])).toEqual([
      ["ann@example.net", "userunknown"],
      ["bob@example.net", "mailboxfull"],
    ]);
  });
});

describe("look-alikes of delivery notices", () => {
  it("reads a calendar invitation about bounces as no report", () => {
    const mail = [
      "From: Ana <ana@example.org>",
      "To: ops@example.net",
      "Subject: Invitation: Bounce review - undeliverable mail @ Wed 14:00",
      "MIME-Version: 1.0",
      'Content-Type: multipart/alternative; boundary="c"',
      "",
      "--c",
      "Content-Type: text/plain",
      "",
      'Agenda: why mail to ap@example.org returned "550 5.7.1 Delivery not authorized".',
      "",
      "--c",
      "Content-Type: text/calendar; method=REQUEST",
      "",
      "BEGIN:VCALENDAR",
      "METHOD:REQUEST",
      "END:VCALENDAR",
      "",
      "--c--",
      "",
    ].join("\n");
    expect(classify(mail)).toMatchObject({ kind: "not_a_report", recipients: [] });
  });

  it("reads a notice naming only its own addressee as failed, with nothing returned, as no report", () => {
    const mail = [
      "From: MAILER-DAEMON <mailer@notify.example.com>",
      "To: rita@example.org",
      "Subject: Undelivered Mail Returned to Sender",
      "Content-Type: text/plain",
      "",
      "This is the mail system at host notify.example.com.",
      "",
      "Your messages could not be delivered. Restore them: https://restore.example.com/",
      "",
      "<rita@example.org>: message blocked, 550 5.7.1",
      "",
    ].join("\n");
    expect(classify(mail)).toMatchObject({ kind: "not_a_report", recipients: [] });
    // the same notice for another address is a bounce
    expect(classify(mail.replace("<rita@example.org>:", "<tom@example.net>:")).kind).toBe("bounce");
  });
});

describe("an abuse desk's complaint in plain words", () => {
  const mail = (from: string, words: string): string =>
    [
      `From: Abuse Desk <${from}>`,
      "To: abuse@sender.example.org",
      "Subject: [#AB-1] Unsolicited mail from your network",
      "Content-Type: text/plain",
      "",
      `Our subscriber, lena@isp.example.net, ${words} unsolicited mail from your network.`,
      "",
      "----- Begin quoted message -----",
      "> From: offers@shop.example.org",
      "> To: lena@isp.example.net",
      "> Subject: Offer",
      ">",
      "> Buy now.",
      "----- End quoted message -----",
      "",
    ].join("\n");

  it("is a complaint of the subscriber the desk names and the quoted message was sent to", () => {
    const r = classify(mail("abuse@isp.example.net", "has complained about"));
    expect(r.kind).toBe("complaint");
    expect(r.recipients).toMatchObject([
      { recipient: "lena@isp.example.net", reason: "feedback", rule: "complaint.abuse-desk" },
    ]);
  });

  it("needs the abuse mailbox and the words of a complaint", () => {
    expect(classify(mail("support@isp.example.net", "has complained about")).kind).not.toBe("complaint");
    expect(classify(mail("abuse@isp.example.net", "asked about")).kind).not.toBe("complaint");
  });
});

describe("gave-up words of Chinese notices", () => {
  it("reads 'still undelivered after many attempts' and 'past the longest delivery time' as given up", () => {
    expect(givenUpIn("在系统多次尝试投递后仍未成功，已超过最长投递时间（5天），现退回给您。")).toBe(true);
    expect(givenUpIn("已超過最長投遞時間")).toBe(true);
    expect(givenUpIn("邮件正在重试投递")).toBeNull();
  });
});
