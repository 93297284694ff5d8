// Postfix log lines -> delivery records: each line format, a mail's lines brought together by queue id,
// deferrals, expiry, and what a restart carries over.
import { describe, expect, it } from "vitest";
import { PostfixLogReader, splitLine } from "../../src/core/postfix-log.js";

const NOW = new Date("2026-12-07T12:00:00Z");

function read(lines: string[], reader = new PostfixLogReader()) {
  return lines.flatMap((l) => reader.push(l, NOW));
}

const MAIL = [
  "Dec  7 04:38:46 relay postfix/smtpd[11610]: 9D41320EF77: client=app.internal[10.0.0.5]",
  "Dec  7 04:38:46 relay postfix/cleanup[11612]: 9D41320EF77: message-id=<order-77@shop.example>",
  "Dec  7 04:38:46 relay postfix/qmgr[11608]: 9D41320EF77: from=<orders@shop.example>, size=341, nrcpt=2 (queue active)",
  "Dec  7 04:38:47 relay postfix/smtp[11613]: 9D41320EF77: to=<fine@example.org>, relay=mx.example.org[192.0.2.10]:25, delay=0.14, delays=0.02/0.01/0.11/0.01, dsn=2.0.0, status=sent (250 2.0.0 OK: queued as 4Xyz)",
  "Dec  7 04:38:47 relay postfix/smtp[11613]: 9D41320EF77: to=<gone@example.org>, relay=mx.example.org[192.0.2.10]:25, delay=0.2, delays=0.02/0.01/0.1/0, dsn=5.1.1, status=bounced (host mx.example.org[192.0.2.10] said: 550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command))",
  "Dec  7 04:38:47 relay postfix/qmgr[11608]: 9D41320EF77: removed",
];

describe("splitLine", () => {
  it("reads traditional syslog, zero-padded days, RFC 3339 timestamps and journald JSON alike", () => {
    const a = splitLine("Dec  7 04:38:46 relay postfix/qmgr[1]: X: removed", NOW)!;
    const b = splitLine("Dec 07 04:38:46 relay postfix/qmgr[1]: X: removed", NOW)!;
    const c = splitLine("2026-12-07T04:38:46.123456+00:00 relay postfix-out/qmgr[1]: X: removed", NOW)!;
    const d = splitLine(
      JSON.stringify({
        MESSAGE: "X: removed",
        SYSLOG_IDENTIFIER: "postfix/qmgr",
        __REALTIME_TIMESTAMP: "1796618326123456",
        _HOSTNAME: "relay",
      }),
      NOW,
    )!;
    expect(a).toEqual({
      at: new Date("2026-12-07T04:38:46Z"),
      host: "relay",
      program: "qmgr",
      message: "X: removed",
    });
    expect(b.at).toEqual(a.at);
    expect(c).toMatchObject({
      program: "qmgr",
      message: "X: removed",
      at: new Date("2026-12-07T04:38:46.123Z"),
    });
    expect(d).toMatchObject({ program: "qmgr", host: "relay", message: "X: removed" });
  });

  it("puts a December line read in January in the year before", () => {
    const l = splitLine(
      "Dec 31 23:59:59 relay postfix/qmgr[1]: X: removed",
      new Date("2027-01-01T00:10:00Z"),
    )!;
    expect(l.at).toEqual(new Date("2026-12-31T23:59:59Z"));
  });

  it("ignores other programs, junk and overlong lines", () => {
    expect(splitLine("Dec  7 04:38:46 relay dovecot[1]: imap-login: Login", NOW)).toBeUndefined();
    expect(splitLine("not a log line", NOW)).toBeUndefined();
    expect(splitLine("{not json", NOW)).toBeUndefined();
    expect(splitLine("Dec  7 04:38:46 relay postfix/smtp[1]: " + "x".repeat(20_000), NOW)).toBeUndefined();
  });
});

describe("PostfixLogReader", () => {
  it("gives each recipient's outcome with the mail's sender and Message-ID, the reply without its parentheses", () => {
    const out = read(MAIL);
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({
      queueId: "9D41320EF77",
      from: "orders@shop.example",
      messageId: "order-77@shop.example",
      to: "fine@example.org",
      relay: "mx.example.org[192.0.2.10]:25",
      dsn: "2.0.0",
      status: "sent",
      reply: "250 2.0.0 OK: queued as 4Xyz",
      program: "smtp",
      again: false,
    });
    expect(out[1]).toMatchObject({ to: "gone@example.org", status: "bounced", dsn: "5.1.1" });
    expect(out[1]!.reply).toMatch(
      /^host mx\.example\.org\[192\.0\.2\.10\] said: 550 5\.1\.1 .*\(in reply to RCPT TO command\)$/,
    );
  });

  it("marks a recipient's later deferrals, and turns 'status=expired' into one record per deferred recipient", () => {
    const reader = new PostfixLogReader();
    const out = read(
      [
        "Dec  7 04:00:00 relay postfix/qmgr[1]: AAA111: from=<news@shop.example>, size=900, nrcpt=1 (queue active)",
        "Dec  7 04:00:05 relay postfix/smtp[2]: AAA111: to=<slow@example.net>, relay=mx.example.net[192.0.2.20]:25, delay=5, delays=0/0/5/0, dsn=4.2.2, status=deferred (host mx.example.net[192.0.2.20] said: 452 4.2.2 Mailbox full (in reply to RCPT TO command))",
        "Dec  7 05:00:05 relay postfix/smtp[2]: AAA111: to=<slow@example.net>, relay=mx.example.net[192.0.2.20]:25, delay=3605, delays=3600/0/5/0, dsn=4.2.2, status=deferred (host mx.example.net[192.0.2.20] said: 452 4.2.2 Mailbox full (in reply to RCPT TO command))",
        "Dec  7 06:00:00 relay postfix/qmgr[1]: AAA111: from=<news@shop.example>, status=expired, returned to sender",
        "Dec  7 06:00:00 relay postfix/qmgr[1]: AAA111: removed",
      ],
      reader,
    );
    expect(out.map((d) => [d.status, d.again])).toEqual([
      ["deferred", false],
      ["deferred", true],
      ["expired", false],
    ]);
    expect(out[2]).toMatchObject({
      to: "slow@example.net",
      dsn: "4.2.2",
      reply: expect.stringMatching(/Mailbox full/),
    });
  });

  it("keeps the sender of mails still queued over a restart (state), and forgets removed ones", () => {
    const first = new PostfixLogReader();
    read(MAIL.slice(0, 3), first);
    const second = new PostfixLogReader(100, first.state());
    const out = read(MAIL.slice(3), second);
    expect(out.map((d) => [d.from, d.messageId])).toEqual([
      ["orders@shop.example", "order-77@shop.example"],
      ["orders@shop.example", "order-77@shop.example"],
    ]);
    expect(second.state().open).toEqual([]);
  });

  it("holds at most maxOpen queued mails (the oldest go first)", () => {
    const r = new PostfixLogReader(2);
    read(
      ["A1111", "B2222", "C3333"].map(
        (id) =>
          `Dec  7 04:00:00 relay postfix/qmgr[1]: ${id}: from=<s@x.example>, size=1, nrcpt=1 (queue active)`,
      ),
      r,
    );
    expect(r.state().open.map(([id]) => id)).toEqual(["B2222", "C3333"]);
  });

  it("reads the null sender of Postfix's own notifications as an empty sender, and a recipient rewritten by an alias", () => {
    const out = read([
      "Dec  7 04:00:00 relay postfix/qmgr[1]: BBB222: from=<>, size=2211, nrcpt=1 (queue active)",
      "Dec  7 04:00:01 relay postfix/local[3]: BBB222: to=<root@relay.example>, orig_to=<postmaster@relay.example>, relay=local, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (delivered to mailbox)",
    ]);
    expect(out[0]).toMatchObject({
      from: "",
      to: "root@relay.example",
      origTo: "postmaster@relay.example",
      program: "local",
    });
  });
});
