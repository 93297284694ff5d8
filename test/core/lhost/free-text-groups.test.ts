import { describe, expect, it } from "vitest";
import { classify } from "../../../src/core/classify.js";

const notice = (body: string, extra = ""): string =>
  `From: MAILER-DAEMON@mx.example.net\nTo: list@sender.example\nSubject: Undeliverable mail\nDate: Tue, 3 Mar 2026 10:11:12 +0100\nMessage-ID: <n1@mx.example.net>\n${extra}\n${body}`;

const found = (raw: string): [string, string][] =>
  classify(Buffer.from(raw)).recipients.map((r) => [r.recipient, r.reason]);

describe("free-text finder: groups of recipients", () => {
  it("takes every address of a line that lists addresses only, and gives each the words below", () => {
    const raw = notice(
      "Your message could not be delivered to:\n\n  ada@example.net; <bo@example.net>\n\nReason: mailbox full\n",
    );
    expect(found(raw)).toEqual([
      ["ada@example.net", "mailboxfull"],
      ["bo@example.net", "mailboxfull"],
    ]);
  });

  it("does not read a sentence with commas and one address as a list", () => {
    const raw = notice(
      "Your message could not be delivered to ada@example.net, sorry, because: mailbox full\n",
    );
    expect(found(raw).map(([a]) => a)).toEqual(["ada@example.net"]);
  });

  it("gives recipient lines that follow one another the words below the last of them", () => {
    const raw = notice(
      "Your message could not be delivered to the following addresses:\n\n<ada@example.net>\n<bo@example.net>\n\nReason: user unknown\n",
    );
    expect(found(raw)).toEqual([
      ["ada@example.net", "userunknown"],
      ["bo@example.net", "userunknown"],
    ]);
  });

  it("keeps each recipient's own words when each has some", () => {
    const raw = notice(
      "Your message could not be delivered to the following addresses:\n\n<ada@example.net>:\nmailbox full\n\n<bo@example.net>:\nuser unknown\n",
    );
    expect(found(raw)).toEqual([
      ["ada@example.net", "mailboxfull"],
      ["bo@example.net", "userunknown"],
    ]);
  });

  it("takes the returned original's recipient when the notice names it by its local part alone, and not otherwise", () => {
    const mime = (line: string): string =>
      notice(
        `--B1\nContent-Type: text/plain\n\nThe message that you sent was undeliverable to the following:\n\t${line}\n\n--B1\nContent-Type: message/rfc822\n\nFrom: list@sender.example\nTo: kim.lee@example.org\nSubject: hi\n\nhi\n--B1--\n`,
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="B1"\n',
      );
    expect(found(mime("kim.lee (user not found)"))).toEqual([["kim.lee@example.org", "userunknown"]]);
    // a longer name that only contains the local part is another mailbox
    expect(found(mime("kim.leeson (user not found)"))).toEqual([]);
  });
});
