import { describe, expect, it } from "vitest";
import { decodeEncodedWords } from "../../src/core/charset.js";
import { DEFAULT_LIMITS, findInlineOriginal, parseContentType, parseMail } from "../../src/core/mime.js";
import { fixture } from "./fixtures.js";

describe("parseMail", () => {
  it("splits a multipart/report into its notification, status and returned original", () => {
    const mail = parseMail(fixture("dsn-two-recipients.eml"));
    expect(mail.reportType).toBe("delivery-status");
    expect(mail.root.parts.map((p) => p.contentType)).toEqual([
      "text/plain",
      "message/delivery-status",
      "message/rfc822",
    ]);
    expect(mail.statusText).toContain("Final-Recipient: rfc822; full@EXAMPLE.COM");
    expect(mail.text).toContain("I'm sorry to have to inform you");
    expect(mail.originalHeaders?.get("message-id")).toBe("<campaign-42.1@example.org>");
    expect(mail.originalHeaders?.get("subject")).toBe("Café news");
    expect(mail.originalBody?.trim()).toBe("Hello.");
  });

  it("unfolds header lines and looks names up case-insensitively", () => {
    const mail = parseMail("Subject: a long\r\n\tfolded subject\r\nX-Thing: 1\r\nx-thing: 2\r\n\r\nbody");
    expect(mail.headers.get("SUBJECT")).toBe("a long folded subject");
    expect(mail.headers.getAll("X-Thing")).toEqual(["1", "2"]);
    expect(mail.text).toBe("body");
  });

  it("reads parameters that a broken MTA put on an unindented line after a `;`", () => {
    const mail = parseMail(
      'Content-Type: multipart/alternative;\nboundary="B"\nSubject: x\n\n--B\nContent-Type: text/plain\n\nhello\n--B--\n',
    );
    expect(mail.root.params["boundary"]).toBe("B");
    expect(mail.headers.get("subject")).toBe("x");
    expect(mail.text).toBe("hello");
  });

  it("reads CRLF, LF and CR-only line endings alike", () => {
    const lf = fixture("dsn-two-recipients.eml").toString("latin1").replace(/\r\n/g, "\n");
    const crlf = lf.replace(/\n/g, "\r\n");
    const cr = lf.replace(/\n/g, "\r");
    const a = parseMail(Buffer.from(lf, "latin1"));
    for (const variant of [crlf, cr]) {
      const b = parseMail(Buffer.from(variant, "latin1"));
      expect(b.statusText).toBe(a.statusText);
      expect(b.text).toBe(a.text);
      expect(b.originalHeaders?.get("message-id")).toBe(a.originalHeaders?.get("message-id"));
    }
  });

  it("decodes quoted-printable and base64 text leaves in their charset", () => {
    const qp = parseMail(
      "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nB=FCro =\nzu\n",
    );
    expect(qp.text).toBe("Büro zu\n");
    const b64 = parseMail(
      `Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n${Buffer.from("Größe überschritten").toString("base64")}\n`,
    );
    expect(b64.text).toBe("Größe überschritten");
  });

  it("decodes ISO-2022-JP bodies of Japanese carriers", () => {
    const jis = Buffer.from("1b24422433244e2561213c256b244f1b2842", "hex"); // "このメールは" in ISO-2022-JP
    const mail = parseMail(
      Buffer.concat([Buffer.from("Content-Type: text/plain; charset=ISO-2022-JP\n\n"), jis]),
    );
    expect(mail.text).toBe("このメールは");
  });

  it("decodes RFC 2047 encoded words, joining adjacent ones", () => {
    expect(decodeEncodedWords("=?UTF-8?B?44GT44KT?= =?UTF-8?B?44Gr44Gh44Gv?=")).toBe("こんにちは");
    expect(decodeEncodedWords("Re: =?iso-8859-1?q?Caf=E9?= ok")).toBe("Re: Café ok");
  });

  it("parses content-type parameters, quoted or not, and RFC 2231 continuations", () => {
    expect(parseContentType('multipart/report; report-type="delivery-status"; boundary=abc')).toEqual({
      type: "multipart/report",
      params: { "report-type": "delivery-status", boundary: "abc" },
    });
    expect(parseContentType('text/plain; name*0="a"; name*1="b.txt"').params["name"]).toBe("ab.txt");
    expect(parseContentType(undefined).type).toBe("text/plain");
  });

  it("reads global (RFC 6533) status and header parts as UTF-8", () => {
    const mail = parseMail(fixture("dsn-global.eml"));
    expect(mail.reportType).toBe("global-delivery-status");
    expect(mail.statusText).toContain("用户@xn--r8jz45g.jp");
    expect(mail.originalHeaders?.get("subject")).toBe("こんにちは");
  });

  it("finds an original quoted inline in a plain bounce", () => {
    const mail = parseMail(
      "From: MAILER-DAEMON@x.example\nSubject: failure notice\n\nSorry.\n\n--- Below this line is a copy of the message.\n\nReturn-Path: <a@example.org>\nFrom: a@example.org\nTo: b@example.com\nMessage-ID: <inline-1@example.org>\nSubject: hi\n\nbody\n",
    );
    expect(mail.originalHeaders?.get("message-id")).toBe("<inline-1@example.org>");
  });

  it("stops nesting at the depth limit instead of recursing without end", () => {
    let body = "leaf\n";
    for (let i = 0; i < 1000; i++)
      body = `Content-Type: multipart/mixed; boundary="b${i}"\n\n--b${i}\n${body}\n--b${i}--\n`;
    const mail = parseMail(body);
    let depth = 0;
    for (let p = mail.root; p.parts[0]; p = p.parts[0]) depth++;
    expect(depth).toBeLessThanOrEqual(21);
  });
});

describe("header blocks", () => {
  it("ends the header block at the first empty line, also when the fields are cut at the limit", () => {
    const raw = "A: 1\nB: 2\nC: 3\n\nthe body\n\nmore";
    const whole = parseMail(raw);
    expect(whole.headers.get("c")).toBe("3");
    expect(whole.root.body).toBe("the body\n\nmore");
    const cut = parseMail(raw, { ...DEFAULT_LIMITS, maxHeaderLines: 2 });
    expect(cut.headers.get("b")).toBe("2");
    expect(cut.headers.get("c")).toBeUndefined();
    expect(cut.root.body).toBe("the body\n\nmore");
  });

  it("reads a header block without an empty line after it to the end of the entity", () => {
    const mail = parseMail("Subject: only headers\nX-Folded: a\n b");
    expect(mail.headers.get("x-folded")).toBe("a b");
    expect(mail.root.body).toBe("");
  });
});

describe("findInlineOriginal", () => {
  it("finds a quoted original after LF, CR and U+2028 line breaks alike", () => {
    const quoted = "Subject: hello\nFrom: a@example.org\nTo: b@example.com";
    for (const br of ["\n", "\r", "\u2028"]) {
      const text = ["Your message could not be delivered.", "", ...quoted.split("\n")].join(br);
      const found = findInlineOriginal(text);
      expect(found?.headers.get("subject"), JSON.stringify(br)).toBe(br === "\n" ? "hello" : undefined);
    }
    expect(findInlineOriginal("> From: a@example.org\n> Subject: hi\n\nbody")?.headers.get("from")).toBe(
      "a@example.org",
    );
    expect(findInlineOriginal("no header here\nnor: here")).toBeUndefined();
  });
});

describe("HTML parts to text", () => {
  it("decodes HTML named entities (any of them), numeric ones, and each only once", () => {
    const mail = parseMail(
      [
        "From: postmaster@example.net",
        "Subject: Undeliverable",
        "Content-Type: text/html; charset=utf-8",
        "",
        "<p>Invoice &ndash; due&nbsp;now &eacute;t&eacute; &rsquo;x&rsquo; &#39;y&#x27; &amp;lt;kept&amp;gt; a?b=1&not=2</p>",
      ].join("\n"),
    );
    expect(mail.text).toContain(
      "Invoice \u2013 due now \u00e9t\u00e9 \u2019x\u2019 'y' &lt;kept&gt; a?b=1&not=2",
    );
  });
});
