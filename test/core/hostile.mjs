// Hostile mail, made by code: for each context the classifier reads, long runs of each character class a pattern
// there might loop on. Shared by test/core/hostile.test.ts (classify() answers every one) and
// `bench/classify.mjs --hostile` (how long it takes, per mail and per KB). Also the mutator of the fuzz tests.
// Plain JavaScript so that the bench (node, no TypeScript) and the tests (vitest) import the same code.

/** The pieces repeated into runs: single characters, and pairs or triples that alternate between classes. */
export const UNITS = [
  " ",
  "\t",
  "-",
  "=",
  "<",
  ">",
  "@",
  ".",
  "a",
  "A",
  "0",
  ":",
  ";",
  ",",
  '"',
  "'",
  "(",
  ")",
  "[",
  "*",
  "_",
  "/",
  "\\",
  "%",
  "+",
  "#",
  "&",
  "\u00a0",
  "é",
  "a@",
  "@a",
  "a.",
  "a-",
  "a ",
  " a",
  "a:",
  "0.",
  "--x",
  "- ",
  "= ",
  "=2",
  "=?",
  "?=",
  "<a",
  "<a ",
  "</",
  "<!--",
  "&#",
  "&nbsp;",
  "\n ",
  " \n",
  "\n\t",
  "\n\n",
  "\n-",
  "\n>",
  "> ",
  "a@b.",
  "a@b ",
  "<a@b>",
  "550 ",
  "5.1.1 ",
  "550-",
  "host a.b said: ",
  "Received: from a ",
  "To: ",
  "rfc822;",
  "dns;",
];

/** A run of `unit` of about `size` characters, ended by a character that matches little (a rejecting suffix). */
export function run(unit, size) {
  return unit.repeat(Math.max(1, Math.ceil(size / unit.length))) + "\u0001x";
}

/** The same run folded into lines of about `width` characters (the unit never split). */
export function foldedRun(unit, size, width = 76, fold = "\n ") {
  const per = Math.max(1, Math.floor(width / unit.length));
  const line = unit.repeat(per);
  return Array.from({ length: Math.max(1, Math.ceil(size / line.length)) }, () => line).join(fold) + "x";
}

const BOUNCE_HEAD =
  "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\n" +
  "To: bounces+1234@example.com\n" +
  "Subject: Undelivered Mail Returned to Sender\n" +
  "Date: Mon, 7 Dec 2026 04:00:00 +0000\n" +
  "Message-ID: <hostile@mx.example.org>\n" +
  "MIME-Version: 1.0\n";

const PLAIN = "Content-Type: text/plain; charset=utf-8\n\n";
const LEAD =
  "This is the mail system at host mx.example.org.\n\n" +
  "I'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n\n";

const ORIGINAL =
  "Return-Path: <bounces+1234@example.com>\nFrom: sender@example.com\nTo: rcpt@example.net\n" +
  "Subject: hello\nMessage-ID: <orig@example.com>\n\nbody\n";

function report(statusFields, originalPart = "Content-Type: message/rfc822\n\n" + ORIGINAL) {
  return (
    BOUNCE_HEAD +
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b0"\n\n' +
    "--b0\n" +
    PLAIN +
    LEAD +
    "<rcpt@example.net>: host mx.example.net[192.0.2.1] said: 550 5.1.1 User unknown\n\n" +
    "--b0\nContent-Type: message/delivery-status\n\n" +
    "Reporting-MTA: dns; mx.example.org\n\n" +
    statusFields +
    "\n--b0\n" +
    originalPart +
    "\n--b0--\n"
  );
}

const RCPT_FIELDS =
  "Final-Recipient: rfc822; rcpt@example.net\nAction: failed\nStatus: 5.1.1\n" +
  "Diagnostic-Code: smtp; 550 5.1.1 User unknown\n";

const b64 = (s) => Buffer.from(s, "utf8").toString("base64").replace(/.{76}/g, "$&\n");

/**
 * Each context: a name, and a function from a payload (the run) to a whole mail that puts the payload where
 * that context reads it.
 */
export const CONTEXTS = [
  // plain text: the run as one line of the bounce's text, then as many short lines
  { name: "text-line", mail: (p) => BOUNCE_HEAD + PLAIN + LEAD + p + "\n" },
  {
    name: "text-lines",
    mail: (p, u) => BOUNCE_HEAD + PLAIN + LEAD + foldedRun(u, p.length, 76, "\n") + "\n",
  },
  { name: "text-rcpt", mail: (p) => BOUNCE_HEAD + PLAIN + LEAD + "<rcpt@example.net>: " + p + "\n" },
  // DSN fields
  {
    name: "dsn-diagnostic",
    mail: (p) =>
      report(
        "Final-Recipient: rfc822; rcpt@example.net\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; " +
          p +
          "\n",
      ),
  },
  {
    name: "dsn-recipient",
    mail: (p) => report("Final-Recipient: rfc822; " + p + "\nAction: failed\nStatus: 5.0.0\n"),
  },
  {
    name: "dsn-status",
    mail: (p) =>
      report(
        "Final-Recipient: rfc822; rcpt@example.net\nAction: " +
          p +
          "\nStatus: " +
          p +
          "\nRemote-MTA: dns; " +
          p +
          "\n",
      ),
  },
  {
    name: "dsn-folded",
    mail: (p, u) =>
      report(
        "Final-Recipient: rfc822; rcpt@example.net\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; " +
          foldedRun(u, p.length) +
          "\n",
      ),
  },
  { name: "dsn-fieldnames", mail: (p) => report(RCPT_FIELDS + "\n" + p + ": x\n" + p + "\n") },
  // headers, one and folded
  { name: "header-subject", mail: (p) => BOUNCE_HEAD.replace("Subject: ", "Subject: " + p) + PLAIN + LEAD },
  {
    name: "header-from",
    mail: (p) => "From: " + p + "\n" + BOUNCE_HEAD.slice(BOUNCE_HEAD.indexOf("\n") + 1) + PLAIN + LEAD,
  },
  {
    name: "header-folded",
    mail: (p, u) =>
      BOUNCE_HEAD +
      "X-Failed-Recipients: " +
      foldedRun(u, p.length) +
      "\nReceived: from " +
      foldedRun(u, p.length) +
      "\n" +
      PLAIN +
      LEAD,
  },
  {
    name: "header-content-type",
    mail: (p) =>
      BOUNCE_HEAD + "Content-Type: multipart/report; boundary=" + p + "; " + p + "=" + p + "\n\n" + LEAD,
  },
  // HTML parts
  {
    name: "html",
    mail: (p) =>
      BOUNCE_HEAD +
      'Content-Type: multipart/alternative; boundary="b1"\n\n--b1\nContent-Type: text/html; charset=utf-8\n\n<html><body><p>' +
      LEAD +
      p +
      "</p></body></html>\n--b1--\n",
  },
  {
    name: "html-lines",
    mail: (p, u) =>
      BOUNCE_HEAD +
      "Content-Type: text/html; charset=utf-8\n\n<div>" +
      LEAD +
      foldedRun(u, p.length, 76, "\n") +
      "</div>\n",
  },
  // transfer encodings
  {
    name: "quoted-printable",
    mail: (p) =>
      BOUNCE_HEAD +
      "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n" +
      LEAD +
      p +
      "\n",
  },
  {
    name: "quoted-printable-lines",
    mail: (p, u) =>
      BOUNCE_HEAD +
      "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n" +
      LEAD +
      foldedRun(u, p.length, 75, "=\n") +
      "\n",
  },
  {
    name: "base64-raw",
    mail: (p) =>
      BOUNCE_HEAD +
      "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n" +
      p +
      "\n",
  },
  {
    name: "base64-text",
    mail: (p) =>
      BOUNCE_HEAD +
      "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n" +
      b64(LEAD + p) +
      "\n",
  },
  // the returned original, as message/rfc822 and as text/rfc822-headers, and quoted inline
  {
    name: "original-rfc822",
    mail: (p) =>
      report(
        RCPT_FIELDS,
        "Content-Type: message/rfc822\n\nFrom: " +
          p +
          "\nTo: " +
          p +
          "\nSubject: " +
          p +
          "\nMessage-ID: " +
          p +
          "\n\n" +
          p +
          "\n",
      ),
  },
  {
    name: "original-headers",
    mail: (p, u) =>
      report(
        RCPT_FIELDS,
        "Content-Type: text/rfc822-headers\n\nReturn-Path: " +
          p +
          "\nReceived: from " +
          foldedRun(u, p.length) +
          "\nTo: " +
          p +
          "\n",
      ),
  },
  {
    name: "original-inline",
    mail: (p) =>
      BOUNCE_HEAD +
      PLAIN +
      LEAD +
      "<rcpt@example.net>: 550 5.1.1 unknown\n\n------ This is a copy of the message, including all the headers. ------\n\nReceived: from " +
      p +
      "\nFrom: " +
      p +
      "\nTo: " +
      p +
      "\nSubject: x\n",
  },
  // VERP-like candidates: the run in the addresses the attribution step reads
  {
    name: "verp-addresses",
    mail: (p) =>
      BOUNCE_HEAD.replace("To: bounces+1234@example.com", "To: bounces+" + p + "@example.com") +
      "X-Failed-Recipients: " +
      p +
      "@example.net\n" +
      PLAIN +
      LEAD +
      "<" +
      p +
      "@example.net>: 550 5.1.1 User unknown\n",
  },
  // a feedback report (ARF)
  {
    name: "arf",
    mail: (p) =>
      "From: fbl@isp.example\nTo: fbl@example.com\nSubject: complaint\nMIME-Version: 1.0\n" +
      'Content-Type: multipart/report; report-type=feedback-report; boundary="b2"\n\n--b2\n' +
      PLAIN +
      "complaint " +
      p +
      "\n" +
      "--b2\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nUser-Agent: x\nVersion: 1\nOriginal-Rcpt-To: " +
      p +
      "\nSource-IP: " +
      p +
      "\nReported-Domain: " +
      p +
      "\n" +
      "--b2\nContent-Type: message/rfc822\n\n" +
      ORIGINAL +
      "--b2--\n",
  },
];

/** One hostile mail per (context, unit) at the given payload size. */
export function* hostileMails(size, { contexts = CONTEXTS, units = UNITS } = {}) {
  for (const context of contexts)
    for (const unit of units)
      yield { context: context.name, unit, mail: context.mail(run(unit, size), unit) };
}

/** A small deterministic PRNG (mulberry32), so that a failure can be replayed. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  "\n",
  "\r",
  "\r\n",
  "--",
  ":",
  ";",
  "=?",
  "?=",
  "=?utf-8?b?",
  "boundary=",
  "Content-Type: multipart/report; boundary=x\n",
  "Final-Recipient: rfc822;",
  "\n--x\n",
  "\x00",
  "\xff",
  "<",
  ">",
  "@",
  " ",
  "\t",
  "Status: 5.1.1\n",
];

/** A copy of `src` with 1 to 20 random edits: cuts, inserted pieces of mail syntax, changed bytes, repeats. */
export function mutate(src, rand) {
  const bytes = [...src];
  const edits = 1 + Math.floor(rand() * 20);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rand() * (bytes.length + 1));
    const op = rand();
    if (op < 0.3) bytes.splice(at, Math.floor(rand() * 40));
    else if (op < 0.6)
      bytes.splice(at, 0, ...Buffer.from(PIECES[Math.floor(rand() * PIECES.length)], "latin1"));
    else if (op < 0.8) bytes[at] = Math.floor(rand() * 256);
    else {
      const from = Math.floor(rand() * bytes.length);
      bytes.splice(at, 0, ...bytes.slice(from, from + Math.floor(rand() * 200)));
    }
  }
  return Buffer.from(bytes);
}
