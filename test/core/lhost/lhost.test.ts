import { describe, expect, it } from "vitest";
import { inHead } from "../../../src/core/lhost/engine.js";
import { lhostParsers } from "../../../src/core/lhost/index.js";
import { LAYOUTS } from "../../../src/core/lhost/families/index.js";
import type { ExtractedRecipient } from "../../../src/core/lhost/types.js";
import type { ParsedMail } from "../../../src/core/mail.js";
import { parseMail } from "../../../src/core/mime.js";
import { FIXTURES, NOT_BOUNCES } from "./fixtures.js";

/** What the pipeline does: the first parser that recognises the mail and finds recipients. */
function run(mail: ParsedMail): { id: string; found: ExtractedRecipient[] } | undefined {
  for (const p of lhostParsers) {
    if (!p.detect(mail)) continue;
    const found = p.extract(mail);
    if (found && found.length > 0) return { id: p.id, found };
  }
  return undefined;
}

describe("lhost extractors", () => {
  for (const f of FIXTURES) {
    it(`find every failed recipient and the remote server's words in ${f.name}`, () => {
      const got = run(parseMail(f.raw));
      expect(got?.id).toBe(f.parser);
      expect(got!.found.map((r) => r.recipient)).toEqual(f.expected.map((e) => e.recipient));
      f.expected.forEach((e, i) => {
        const r = got!.found[i]!;
        if (e.status) expect(r.status).toBe(e.status);
        if (e.smtpCode) expect(r.smtpCode).toBe(e.smtpCode);
        if (e.reason) expect(r.reason).toBe(e.reason);
        if (e.command) expect(r.command).toBe(e.command);
        if (e.remoteMta) expect(r.remoteMta).toBe(e.remoteMta);
        if (e.diagnostic) expect(r.diagnostic).toContain(e.diagnostic);
      });
    });
  }

  for (const n of NOT_BOUNCES) {
    it(`find no failed recipient in ${n.name}`, () => {
      expect(run(parseMail(n.raw))).toBeUndefined();
    });
  }

  it("read the same bounce alike with CRLF, LF and CR-only line endings", () => {
    const lf = FIXTURES.find((f) => f.parser === "sendmail")!.raw;
    const ids = [lf, lf.replace(/\n/g, "\r\n"), lf.replace(/\n/g, "\r")].map((raw) =>
      run(parseMail(raw))?.found.map((r) => [r.recipient, r.status, r.smtpCode]),
    );
    expect(ids[1]).toEqual(ids[0]);
    expect(ids[2]).toEqual(ids[0]);
  });

  it("give every family layout an id of its own and a fixture that exercises it", () => {
    const ids = LAYOUTS.map((l) => l.id);
    expect(new Set(ids).size).toBe(ids.length);
    const covered = new Set(FIXTURES.map((f) => f.parser));
    const untested = ids.filter((id) => !covered.has(id));
    // families whose fixtures live in the corpus-only formats are listed here on purpose
    expect(untested.sort()).toEqual(
      [
        "amazonworkmail",
        "biglobe",
        "ezweb",
        "googlegroups",
        "mailfoundry",
        "mailmarshal",
        "mfilter",
        "notes",
        "trendmicro",
        "verizon",
        "delivery-errors-list",
        "unable-to-deliver-list",
        "dsn-subject-star-list",
      ].sort(),
    );
  });

  it("stay fast on a huge bounce-looking text (bounded scan)", () => {
    const body =
      "This message was created automatically by mail delivery software.\n" + "  x".repeat(2_000_000);
    const raw = `From: Mailer-Daemon@example.org\nSubject: Mail delivery failed\n\n${body}`;
    const mail = parseMail(raw);
    expect(() => run(mail)).not.toThrow();
  });
});

describe("inHead", () => {
  it("answers as the pattern does, whatever the case, skipping the pattern only when its words are absent", () => {
    const patterns = [
      /This is the qmail-send program|I'm afraid I wasn't able to deliver/i,
      /^\s*was not delivered to:\s*$/im,
      /google ?groups|googlegroups/i,
      /\(#[45]\.\d+\.\d+\)/,
      /^Sent <<< RCPT TO:/m,
    ];
    const heads = [
      "Hi. THIS IS THE QMAIL-SEND PROGRAM at mx.example.jp.",
      "Your message\n\n   was not delivered to:\n\n kijitora@example.jp",
      "Google Groups: you can't post",
      "Sorry, no mailbox here by that name. (#5.1.1)",
      "Sent <<< RCPT TO:<kijitora@example.jp>",
      "sent <<< rcpt to:<kijitora@example.jp>",
      "nothing to see here",
    ];
    for (const re of patterns)
      for (const head of heads) expect(inHead(head, re), `${re} on ${head}`).toBe(re.test(head));
  });
});

describe("qmail detection by Received header", () => {
  const qmail = lhostParsers.find((p) => p.id === "qmail")!;
  const mail = (received: string): ParsedMail =>
    parseMail(
      `Received: ${received}\nFrom: MAILER-DAEMON@example.org\nSubject: hello\n\nNothing telling here.\n`,
    );
  it("reads the Received headers as decoded: folded, or in an encoded word, the words still count", () => {
    expect(qmail.detect(mail("(qmail 123 invoked for bounce); 1 Jan 2026"))).toBe(true);
    expect(qmail.detect(mail("(qmail 123 invoked\n for bounce); 1 Jan 2026"))).toBe(true);
    expect(qmail.detect(mail("=?us-ascii?Q?=28qmail_123_invoked_for_bounce=29?="))).toBe(true);
    expect(qmail.detect(mail("from mx.example.org by mx2.example.org; 1 Jan 2026"))).toBe(false);
    expect(qmail.detect(mail("(qmail 123 invoked by uid 0); 1 Jan 2026"))).toBe(false);
  });
});

describe("the general recipient finder", () => {
  const bounce = (body: string) =>
    parseMail(
      [
        "From: Mail System <mailer@relay.example.net>",
        "To: news+b@letters.example.com",
        "Subject: Message not delivered",
        "",
        body,
      ].join("\n"),
    );

  it("never takes the bounce's own addresses or the returned original's sender for a failed recipient", () => {
    const got = run(
      bounce(
        [
          "Your message could not be delivered to the following recipient:",
          "",
          "  rita.vance@example.net: mailbox unavailable",
          "",
          "Please contact news+b@letters.example.com or news@letters.example.com if in doubt.",
          "",
          "--- Original message follows ---",
          "From: News <news@letters.example.com>",
          "To: rita.vance@example.net",
          "Subject: Hello",
        ].join("\n"),
      ),
    );
    expect(got?.id).toBe("general");
    expect(got!.found.map((r) => r.recipient)).toEqual(["rita.vance@example.net"]);
  });

  it("finds the address in a quoted dialogue and knows the reply answered RCPT TO", () => {
    const got = run(
      bounce(
        [
          "Delivery to the following recipient failed.",
          "",
          "  MAIL FROM:<news+b@letters.example.com>",
          "  250 OK",
          "  RCPT TO:<sam.oduya@example.net>",
          "  550 No such user here",
        ].join("\n"),
      ),
    );
    expect(got!.found).toHaveLength(1);
    expect(got!.found[0]).toMatchObject({ recipient: "sam.oduya@example.net", smtpCode: 550 });
    expect(got!.found[0]!.diagnostic).toMatch(/^RCPT TO 550 No such user here/);
  });

  it("finds the recipients of an announcement in Japanese, Chinese and a label line of each language", () => {
    for (const [intro, line] of [
      ["以下の宛先へメールを配信できませんでした。", "宛先: aiko@example.jp"],
      ["您发送的邮件无法投递到以下收件人：", "收件人：li.na@example.cn"],
      ["Ihre Nachricht konnte nicht zugestellt werden.", "Empfänger: jonas@example.de"],
      ["Не удалось доставить письмо.", "Получатель: oleg@example.ru"],
      ["Échec de la remise du message.", "Destinataire : chloe@example.fr"],
    ] as const) {
      const got = run(bounce(`${intro}\n\n${line}\n`));
      expect(
        got?.found.map((r) => r.recipient),
        intro,
      ).toEqual([line.split(/[:：] ?/)[1]!.trim()]);
    }
  });
});

describe("a mail system's notice of no known layout", () => {
  const notice = (from: string, subject: string, body: string, extraHead = "") =>
    parseMail(
      [`From: ${from}`, "To: orders@shop.example", `Subject: ${subject}`, extraHead, "", body]
        .filter((l, i) => i !== 3 || l)
        .join("\n"),
    );
  const prose = [
    "Hello,",
    "",
    "I tried to hand your message over to the server that receives mail for the address",
    'ada.lind@library.example, but it answered "553 5.7.1 <orders@shop.example>: Sender',
    'address rejected: not accepted here". I will not try again.',
  ].join("\n");

  it("is a bounce when a daemon or postmaster sends it under a subject of failure (in any of its languages) with a failure reply in its prose", () => {
    for (const subject of [
      "Your message could not be delivered",
      "Olevererbart meddelande",
      "İleti teslim edilemedi",
      "Wiadomość niedoręczona",
      "Nedoručitelná zpráva",
    ]) {
      const got = run(notice("Mail server <postmaster@shop.example>", subject, prose));
      expect(got?.id, subject).toBe("general");
      expect(got!.found.map((r) => r.recipient)).toEqual(["ada.lind@library.example"]);
      expect(got!.found[0]!.diagnostic).toContain("Sender address rejected");
    }
  });

  it("is not one from a person, under an ordinary subject, without failure words, or beside a delivery-status part", () => {
    expect(
      run(notice("Ann Smith <ann@shop.example>", "Your message could not be delivered", prose)),
    ).toBeUndefined();
    expect(
      run(notice("Mail server <postmaster@shop.example>", "Our new opening hours", prose)),
    ).toBeUndefined();
    expect(
      run(
        notice(
          "Mail server <postmaster@shop.example>",
          "Your message could not be delivered",
          "Ada Lind (ada.lind@library.example) now works at the new branch office.",
        ),
      ),
    ).toBeUndefined();
    expect(
      run(
        notice(
          "Mail server <postmaster@shop.example>",
          "Mail delivery failed",
          "Our newsletter: 550 readers opened it, ask ada.lind@library.example for the figures.",
        ),
      ),
    ).toBeUndefined();
    const report = parseMail(
      [
        "From: postmaster@shop.example",
        "To: orders@shop.example",
        "Subject: Delivery Status Notification",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
        "",
        "--b",
        "Content-Type: text/plain",
        "",
        prose,
        "--b",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mx.shop.example",
        "",
        "Final-Recipient: rfc822; other@library.example",
        "Action: relayed",
        "Status: 2.0.0",
        "--b--",
      ].join("\n"),
    );
    expect(
      lhostParsers.filter((p) => p.id === "general").some((p) => p.detect(report) && p.extract(report)),
    ).toBe(false);
  });

  it("finds the recipients of announcements in Czech, Polish, Swedish, Korean and a French delay", () => {
    for (const [subject, intro] of [
      ["Nedoručitelná zpráva", "Vaši zprávu se nepodařilo doručit těmto příjemcům:"],
      ["Wiadomość niedoręczona", "Twoja wiadomość nie mogła zostać doręczona do adresata:"],
      ["Försenad leverans", "Ditt meddelande har ännu inte kunnat levereras till följande mottagare:"],
      ["[메일 발송 실패]", "보내신 메일이 다음 주소로 전달되지 않았습니다."],
      [
        "Avertissement : message non encore distribué",
        "Votre message n'a pas encore pu être distribué au destinataire suivant :",
      ],
    ] as const) {
      const got = run(
        notice("<MAILER-DAEMON@mx.shop.example>", subject, `${intro}\n\n  ada.lind@library.example\n`),
      );
      expect(
        got?.found.map((r) => r.recipient),
        intro,
      ).toEqual(["ada.lind@library.example"]);
    }
  });

  it("takes no id from a session log for a recipient, and keeps the lines of a reply wrapped below its code", () => {
    const log = run(
      notice(
        "MDaemon <MDaemon@mx.shop.example>",
        "Permanent Delivery Failure",
        [
          "The attached message had PERMANENT fatal delivery errors!",
          "",
          " 11:20:11: *  To: ada.lind@library.example",
          " 11:20:11: *  Message-ID: <20261207.2D41@shop.example>",
          " 11:20:14: <-- 554 5.7.1 Client host [192.0.2.1] blocked using zen.spamhaus.org",
        ].join("\n"),
      ),
    );
    expect(log?.found.map((r) => r.recipient)).toEqual(["ada.lind@library.example"]);
    const wrapped = run(
      notice(
        "<MAILER-DAEMON@mx.shop.example>",
        "Correo no entregado",
        [
          "No se ha podido entregar su mensaje a los siguientes destinatarios:",
          "",
          "  ada.lind@library.example",
          "",
          "El servidor del destinatario rechazó la conexión con este mensaje:",
          "",
          "  550 5.7.1 Servicio no disponible: la dirección IP 192.0.2.1 de su",
          "  servidor figura en una lista negra.",
        ].join("\n"),
      ),
    );
    expect(wrapped?.found[0]?.diagnostic).toContain("servidor figura en una lista negra");
  });
});

describe("family detection by the family's own signs, not by wording other servers share", () => {
  const parser = (id: string) => lhostParsers.find((p) => p.id === id)!;
  const mail = (head: string, body: string): ParsedMail => parseMail(`${head}\n\n${body}\n`);
  it("gmail takes Google's notice (its From, Received or id) and not another MTA's with the same subject and words", () => {
    const words = "Delivery to the following recipient failed permanently:\n\n     ann@example.org\n";
    const subject = "Subject: Delivery Status Notification (Failure)";
    expect(
      parser("gmail").detect(
        mail(`From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\n${subject}`, words),
      ),
    ).toBe(true);
    expect(
      parser("gmail").detect(
        mail(
          `Received: by mail-yw1-f69.google.com with SMTP id a1\nFrom: postmaster@relay.example.net\n${subject}`,
          words,
        ),
      ),
    ).toBe(true);
    expect(parser("gmail").detect(mail(`From: postmaster@relay.example.net\n${subject}`, words))).toBe(false);
  });
  it("ezweb takes au/EZweb's notice and not the old Netscape wording under the same subject", () => {
    const subject = "Subject: Mail System Error - Returned Mail";
    const words = "This Message was undeliverable due to the following reason:\n\n<ann@example.org>\n";
    expect(parser("ezweb").detect(mail(`From: Postmaster@ezweb.ne.jp\n${subject}`, words))).toBe(true);
    expect(
      parser("ezweb").detect(
        mail(
          `Received: from mail101.ezweb.ne.jp by mx.example.jp\nFrom: Postmaster@mx.example.jp\n${subject}`,
          words,
        ),
      ),
    ).toBe(true);
    expect(
      parser("ezweb").detect(mail(`From: Mail Administrator <Postmaster@hotpop.example>\n${subject}`, words)),
    ).toBe(false);
    expect(parser("ezweb").detect(mail(`From: Postmaster@bureau.com\n${subject}`, words))).toBe(false);
  });
});
