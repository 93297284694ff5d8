// Blind round 8's general shapes and readings, in wordings of our own (not the samples'): local parts under a domain
// named once, `[SMTP:addr]` recipients, a list server's refusal, a bare Status comment, a syntax error at MAIL FROM,
// RFC 3207's STARTTLS-first reply from Gmail and from anyone else, Action failed beside a 4.x.x of no known cause.
import { describe, expect, it } from "vitest";
import { classify } from "../../../src/core/classify.js";
import { decideReason, permanenceOf } from "../../../src/core/reason.js";

const notice = (
  body: string,
  subject = "Undeliverable mail",
  from = "MAILER-DAEMON@mx.example.net",
): string =>
  `From: ${from}\nTo: desk@sender.example\nSubject: ${subject}\nDate: Tue, 3 Mar 2026 10:11:12 +0100\nMessage-ID: <r8@mx.example.net>\n\n${body}`;

const found = (raw: string): [string, string, boolean | null][] =>
  classify(Buffer.from(raw)).recipients.map((r) => [r.recipient, r.reason, r.permanent]);

describe("round 8 shapes", () => {
  it("reads local parts under an announcement that names their domain once, wrapped or not", () => {
    const raw = notice(
      "The mail system could not deliver to the following local addresses in the domain\nharbour-lane.example:\n\n   pbrown  --  no such user here\n   jgreen  --  mailbox is full\n\nThis is a fatal error.\n",
      "Delivery failure",
    );
    expect(found(raw).map(([a, r]) => [a, r])).toEqual([
      ["pbrown@harbour-lane.example", "userunknown"],
      ["jgreen@harbour-lane.example", "mailboxfull"],
    ]);
  });

  it("takes an address written with its type (`[SMTP:addr]`) as a recipient, with the reason below it", () => {
    const raw = notice(
      "Message could not be delivered to some recipients.\n\nThe following recipient(s) could not be reached:\n\n\tRecipient: [SMTP:ann@oak-row.example]\n\tReason: user unknown\n\n\tRecipient: [SMTP:bo@oak-row.example]\n\tReason: mailbox full\n",
    );
    expect(found(raw).map(([a, r]) => [a, r])).toEqual([
      ["ann@oak-row.example", "userunknown"],
      ["bo@oak-row.example", "mailboxfull"],
    ]);
  });

  it("reads a list server's refusal of the sender's post as rejected, the list being the recipient", () => {
    const raw = notice(
      "You  are  not  allowed  to post  to  the  GARDENS-L list from your desk@sender.example address.\n\n----- Rejected message -----\nDate: Tue, 3 Mar 2026 09:00:00 +0100\nFrom: Desk <desk@sender.example>\nTo: gardens-l@lists.example.org\nSubject: Spring seeds\n\nSeeds.\n",
      'Message ("Spring seeds") was rejected',
      "LISTSERV@LISTS.EXAMPLE.ORG",
    );
    expect(found(raw).map(([a, r]) => [a, r])).toEqual([["gardens-l@lists.example.org", "rejected"]]);
  });

  it("reads the words after a bare Status code as the recipient's diagnostic", () => {
    const raw = notice(
      "Your message to the following recipient has been deferred:\n\n  <kay@fen.example>\n\n  Status: 4.2.0 held for review by the domain's administrator\n",
      "Message delivery deferred",
    );
    expect(found(raw)).toEqual([["kay@fen.example", "onhold", false]]);
  });
});

describe("round 8 readings", () => {
  it("reads a 501-507 reply to MAIL FROM as the command's syntax error, not a refused sender", () => {
    const d = decideReason({
      status: "5.5.2",
      smtpCode: 501,
      command: "MAIL",
      diagnostic: "501 5.5.2 Syntax error in MAIL FROM parameters",
    });
    expect(d.reason).toBe("syntaxerror");
    expect(
      decideReason({ status: "5.0.0", smtpCode: 550, command: "MAIL", diagnostic: "550 5.0.0 Nope" }).reason,
    ).toBe("rejected");
  });

  it("reads RFC 3207's STARTTLS-first reply as failedstarttls from Gmail only, else as a security error", () => {
    const diagnostic = "530 5.7.0 Must issue a STARTTLS command first.";
    expect(
      decideReason({ status: "5.7.0", smtpCode: 530, diagnostic, remoteMta: "gmail-smtp-in.l.google.com" })
        .reason,
    ).toBe("failedstarttls");
    expect(
      decideReason({
        status: "5.7.0",
        smtpCode: 530,
        command: "MAIL",
        diagnostic,
        remoteMta: "mx.fen.example",
      }).reason,
    ).toBe("securityerror");
  });

  it("reads a failure of no known cause given up with a 4.x.x (Action failed) as permanent", () => {
    expect(
      permanenceOf("onhold", "4.0.0", 450, "failed", "450 4.0.0 Requested mail action not taken").permanent,
    ).toBe(true);
    expect(permanenceOf("mailboxfull", "4.2.2", 452, "failed", "452 4.2.2 Mailbox full").permanent).toBe(
      false,
    );
  });
});
