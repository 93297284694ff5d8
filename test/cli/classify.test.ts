import { mkdtempSync, mkdirSync, copyFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { run } from "../../src/cli/index.js";
import { classify } from "../../src/core/classify.js";
import type { CliIo } from "../../src/cli/io.js";
import { FIXTURES, fixture } from "../core/fixtures.js";

function io(stdin = ""): { io: CliIo; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = "";
  let e = "";
  stdout.on("data", (c) => (o += c));
  stderr.on("data", (c) => (e += c));
  return { io: { stdout, stderr, stdin: Readable.from([stdin]) }, out: () => o, err: () => e };
}

const lines = (s: string) =>
  s
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("rebound classify", () => {
  it("classifies a folder recursively, in sorted order, one JSON object per mail", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rebound-classify-"));
    mkdirSync(join(dir, "sub"));
    copyFileSync(join(FIXTURES, "dsn-two-recipients.eml"), join(dir, "b.eml"));
    copyFileSync(join(FIXTURES, "arf-abuse.eml"), join(dir, "sub", "a.eml"));
    copyFileSync(join(FIXTURES, "plain-message.eml"), join(dir, "a.eml"));
    // Expected results and notes kept beside mails are not mails.
    writeFileSync(join(dir, "a.expected.json"), '{"kind": "not_a_report"}');
    writeFileSync(join(dir, "README.md"), "# samples\n");
    const t = io();
    const code = await run(["node", "rebound", "classify", "--format", "ndjson", dir], t.io);
    expect(code).toBe(0);
    const out = lines(t.out());
    expect(out.map((o) => [String(o.file).slice(dir.length + 1), o.kind])).toEqual([
      ["a.eml", "not_a_report"],
      ["b.eml", "bounce"],
      [join("sub", "a.eml"), "complaint"],
    ]);
    const bounce = out[1] as {
      recipients: { recipient: string; reason: string; class: string; rule: string }[];
      original: { messageId: string };
    };
    expect(bounce.recipients.map((r) => r.recipient)).toEqual(["nobody@example.net", "full@example.com"]);
    expect(bounce.original.messageId).toBe("<campaign-42.1@example.org>");
  });

  it("writes the results of a folder of many threads' tasks in input order, each the Report classify() gives (the same JSON text, file first), and a file it cannot read in its place", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rebound-classify-many-"));
    const names = readdirSync(FIXTURES).filter((n) => n.endsWith(".eml"));
    const files: string[] = [];
    // Several tasks' worth of files (a task is a few dozen), named so that the sorted order mixes the fixtures.
    for (let i = 0; i < 150; i++) {
      const name = `${String(i).padStart(3, "0")}-${names[i % names.length]}`;
      copyFileSync(join(FIXTURES, names[i % names.length]!), join(dir, name));
      files.push(join(dir, name));
    }
    const t = io();
    expect(await run(["node", "rebound", "classify", dir, "/no/such/file.eml", files[0]!], t.io)).toBe(1);
    const out = lines(t.out());
    expect(out.map((o) => o.file)).toEqual([...files, files[0]]);
    for (const [i, o] of out.entries()) {
      const { file: _file, ...report } = o;
      expect(report, String(o.file)).toEqual(
        JSON.parse(JSON.stringify(classify(fixture(names[(i % 150) % names.length]!)))),
      );
    }
    // Text for text: the line is the report stringified with the file first, then kind, recipients, original.
    for (const [i, line] of t.out().trim().split("\n").entries()) {
      const { kind, recipients, original, ...rest } = classify(fixture(names[(i % 150) % names.length]!));
      expect(line).toBe(JSON.stringify({ file: out[i]!.file, kind, recipients, original, ...rest }));
    }
    expect(t.err()).toBe("rebound classify: cannot read /no/such/file.eml: no such file or folder\n");
  });

  it("splits an mbox file on From lines", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rebound-mbox-"));
    const mbox = [fixture("dsn-two-recipients.eml"), fixture("autoreply-vacation.eml")]
      .map(
        (m, i) =>
          `From MAILER-DAEMON Mon Nov  2 10:00:0${i} 2026\n${m.toString("latin1").replace(/^From /gm, ">From ")}\n`,
      )
      .join("");
    writeFileSync(join(dir, "inbox.mbox"), mbox, "latin1");
    const t = io();
    expect(await run(["node", "rebound", "classify", join(dir, "inbox.mbox")], t.io)).toBe(0);
    expect(lines(t.out()).map((o) => [o.message, o.kind])).toEqual([
      [1, "bounce"],
      [2, "auto_reply"],
    ]);
    // The mail's number comes right after the file, then the report as classify() gives it.
    const file = join(dir, "inbox.mbox");
    expect(t.out().trim().split("\n")).toEqual(
      [fixture("dsn-two-recipients.eml"), fixture("autoreply-vacation.eml")].map((m, i) => {
        const { kind, recipients, original, ...rest } = classify(m);
        return JSON.stringify({ file, message: i + 1, kind, recipients, original, ...rest });
      }),
    );
  });

  it("splits an mbox file the same way whatever its line endings, at postmark lines with no empty line before them too", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rebound-mbox-"));
    // A writer that leaves no empty line before the next postmark; a body line that only starts with "From".
    const lf = [fixture("dsn-two-recipients.eml"), fixture("autoreply-vacation.eml")]
      .map((m, i) => {
        const body = m
          .toString("latin1")
          .replace(/\r\n/g, "\n")
          .replace(/^From /gm, ">From ");
        return `From MAILER-DAEMON  Thu Jul  2 12:05:0${i} 2020\n${body.replace(/\n$/, "")}\nFrom the desk of nobody\n`;
      })
      .join("");
    for (const [name, eol] of [
      ["lf", "\n"],
      ["crlf", "\r\n"],
      ["cr", "\r"],
    ] as const) {
      writeFileSync(join(dir, `${name}.mbox`), lf.replace(/\n/g, eol), "latin1");
      const t = io();
      expect(await run(["node", "rebound", "classify", join(dir, `${name}.mbox`)], t.io)).toBe(0);
      expect(
        lines(t.out()).map((o) => [o.message, o.kind]),
        name,
      ).toEqual([
        [1, "bounce"],
        [2, "auto_reply"],
      ]);
    }
  });

  it("reads a mail from stdin and prints a readable summary", async () => {
    const t = io(fixture("delivered.eml").toString("latin1"));
    expect(await run(["node", "rebound", "classify", "--format", "pretty", "-"], t.io)).toBe(0);
    expect(t.out()).toContain("-: delivery");
    expect(t.out()).toContain("happy@example.com  delivered/delivered");
  });

  it("sums up a DMARC aggregate report and a TLS report in the readable summary", async () => {
    const t = io();
    const samples = new URL("../../samples/", import.meta.url).pathname;
    const files = ["dmarc-google-zip.eml", "tlsrpt-gzip.eml"].map((f) => join(samples, f));
    expect(await run(["node", "rebound", "classify", "--format", "pretty", ...files], t.io)).toBe(0);
    expect(t.out()).toContain("dmarc-google-zip.eml: dmarc_report (dmarc.zip)");
    expect(t.out()).toContain(
      "google.com report 4471283650917365210 for shop.example.com (rfc7489), 2026-12-02T00:00:00.000Z to 2026-12-02T23:59:59.000Z: 4 rows, 130 messages, 7 failing DKIM and SPF",
    );
    expect(t.out()).toContain("Sender Example Inc.: sts bounces.example.com: 5326 sessions ok, 303 failed");
  });

  it("fails with a clear message on an unreadable path and on an unknown format", async () => {
    const t = io();
    expect(await run(["node", "rebound", "classify", "/no/such/path.eml"], t.io)).toBe(1);
    expect(t.err()).toContain("cannot read /no/such/path.eml: no such file or folder");
    const u = io();
    expect(await run(["node", "rebound", "classify", "--format", "xml", "x"], u.io)).not.toBe(0);
    expect(u.err()).toContain("expected one of ndjson, pretty");
  });
});
