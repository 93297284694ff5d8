import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, copyFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { PassThrough, Readable, Writable } from "node:stream";
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

  it("reads each file whole, a large one among small ones too (a thread reads them all into one buffer, grown for the large one)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rebound-classify-large-"));
    const dsn = fixture("dsn-two-recipients.eml");
    // About 1 MB of mbox: a DSN with a long body, then a complaint that only a whole read finds.
    const mbox = [
      "From MAILER-DAEMON Mon Nov  2 10:00:00 2026\n",
      dsn.toString("latin1"),
      "filler text line\n".repeat(60_000),
      "\nFrom abuse Mon Nov  2 10:00:01 2026\n",
      fixture("arf-abuse.eml").toString("latin1"),
    ].join("");
    writeFileSync(join(dir, "0.eml"), dsn);
    writeFileSync(join(dir, "1.mbox"), mbox, "latin1");
    writeFileSync(join(dir, "2.eml"), dsn);
    const t = io();
    expect(await run(["node", "rebound", "classify", dir], t.io)).toBe(0);
    const out = lines(t.out());
    expect(out.map((o) => [o.file, o.message, o.kind])).toEqual([
      [join(dir, "0.eml"), undefined, "bounce"],
      [join(dir, "1.mbox"), 1, "bounce"],
      [join(dir, "1.mbox"), 2, "complaint"],
      [join(dir, "2.eml"), undefined, "bounce"],
    ]);
    const { file: _a, ...first } = out[0]!;
    const { file: _b, ...last } = out[3]!;
    expect(last).toEqual(first);
    expect(first).toEqual(JSON.parse(JSON.stringify(classify(dsn))));
  });

  /** A folder of `count` fixtures, named so that the sorted order mixes them; its files in that order. */
  function folder(count: number): { dir: string; files: string[]; names: string[] } {
    const dir = mkdtempSync(join(tmpdir(), "rebound-classify-threads-"));
    const names = readdirSync(FIXTURES).filter((n) => n.endsWith(".eml"));
    const files: string[] = [];
    for (let i = 0; i < count; i++) {
      const name = `${String(i).padStart(4, "0")}-${names[i % names.length]}`;
      copyFileSync(join(FIXTURES, names[i % names.length]!), join(dir, name));
      files.push(join(dir, name));
    }
    return { dir, files, names };
  }

  it("writes the same bytes in the same order with one thread and with five (--threads), file by file in input order", async () => {
    // Eleven tasks: each of the five threads gets two or more, and they come back in any order.
    const { dir, files } = folder(700);
    const one = io();
    expect(await run(["node", "rebound", "classify", "--threads", "1", dir], one.io)).toBe(0);
    const five = io();
    expect(await run(["node", "rebound", "classify", "--threads", "5", dir], five.io)).toBe(0);
    expect(lines(five.out()).map((o) => o.file)).toEqual(files);
    expect(five.out()).toBe(one.out());
    const bad = io();
    expect(await run(["node", "rebound", "classify", "--threads", "0", dir], bad.io)).not.toBe(0);
    expect(bad.err()).toContain("expected a whole number from 1 to 256");
  });

  it("waits for a slow stdout: never more than one task's output in its buffer, however many results are ready", async () => {
    const { dir, files } = folder(640);
    const chunks: Buffer[] = [];
    let mostBuffered = 0;
    let held: (() => void) | undefined;
    const stdout = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk);
        // The first chunk is taken only once the command has handed over nothing more for a second: the threads
        // meanwhile finish the other tasks, whose outputs a command deaf to back-pressure would pile up here.
        if (chunks.length === 1) held = done;
        else setImmediate(done);
      },
    });
    let last = -1;
    let still = 0;
    const watch = setInterval(() => {
      mostBuffered = Math.max(mostBuffered, stdout.writableLength);
      still = stdout.writableLength === last ? still + 1 : 0;
      last = stdout.writableLength;
      if (held && still >= 20) {
        held();
        held = undefined;
      }
    }, 50);
    try {
      const stderr = new PassThrough();
      const args = ["node", "rebound", "classify", "--threads", "2", dir];
      expect(await run(args, { stdout, stderr, stdin: Readable.from([]) })).toBe(0);
      mostBuffered = Math.max(mostBuffered, stdout.writableLength);
    } finally {
      clearInterval(watch);
      held?.();
    }
    await new Promise((resolve) => stdout.end(resolve));
    // Ten tasks' outputs, held up by the first: one in the buffer at a time.
    const biggest = Math.max(...chunks.map((c) => c.length));
    expect(chunks.length).toBeGreaterThanOrEqual(10);
    expect(mostBuffered).toBeGreaterThan(0);
    expect(mostBuffered).toBeLessThanOrEqual(biggest);
    expect(lines(Buffer.concat(chunks).toString()).map((o) => o.file)).toEqual(files);
  });

  it("reports a file it cannot read among many in its place and classifies the others", async () => {
    const { dir, files } = folder(200);
    // A socket: there to be named (stat says what it is), but open() fails, in the classifier thread.
    const socket = join(dir, "listening.sock");
    const server = createServer().listen(socket);
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      const args = [...files.slice(0, 100), socket, ...files.slice(100)];
      const t = io();
      expect(await run(["node", "rebound", "classify", "--threads", "3", ...args], t.io)).toBe(1);
      expect(lines(t.out()).map((o) => o.file)).toEqual(files);
      expect(t.err()).toMatch(/^rebound classify: cannot read .*listening\.sock: ENXIO[^\n]*\n$/);
    } finally {
      server.close();
    }
  });

  it("built (npm run build), has its classifier thread bundled into one file not older than tsc's output (so used), with a code cache V8 accepts under the command's flags, and writes what the sources write", async () => {
    const root = new URL("../../", import.meta.url).pathname;
    const cli = join(root, "dist/src/cli");
    const bundle = statSync(join(cli, "classify-thread.bundle.cjs"), { throwIfNoEntry: false });
    expect(bundle, "dist/src/cli/classify-thread.bundle.cjs: run npm run build").toBeDefined();
    // Made after tsc's output (else the command would not use it).
    expect(bundle!.mtimeMs).toBeGreaterThanOrEqual(statSync(join(cli, "classify-thread.js")).mtimeMs);
    // In a process of its own: V8's flags are the process's.
    const check = `
      const { V8_FLAGS } = await import(${JSON.stringify(join(cli, "classify.js"))});
      const { compileBundle } = await import(${JSON.stringify(join(cli, "classify-bundle.js"))});
      const { readFileSync } = await import("node:fs");
      (await import("node:v8")).setFlagsFromString(V8_FLAGS);
      const file = ${JSON.stringify(join(cli, "classify-thread.bundle.cjs"))};
      process.stdout.write(String(compileBundle(file, readFileSync(file + ".cache")).cachedDataRejected));`;
    expect(execFileSync(process.execPath, ["--input-type=module", "-e", check]).toString()).toBe("false");
    const { dir } = folder(150);
    const samples = join(root, "samples");
    for (const format of ["ndjson", "pretty"]) {
      const built = execFileSync(
        process.execPath,
        [join(root, "bin/rebound.js"), "classify", "-f", format, dir, samples],
        {
          maxBuffer: 64 * 1024 * 1024,
        },
      ).toString();
      const t = io();
      expect(await run(["node", "rebound", "classify", "-f", format, dir, samples], t.io)).toBe(0);
      expect(built, format).toBe(t.out());
    }
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
