// Docs that are true: every fenced shell example of README.md and docs/*.md runs as written, in document order,
// against a fresh embedded server started by the README's own quick start from a clean data folder.
//
// The reader's setup, reproduced: a working folder with the package's `bin/rebound.js` and the `dist/` it runs
// (the reader's `npm install` builds it; here it is built from the current sources before the examples run,
// never the checkout's possibly stale dist/), its node_modules, `examples/` and `samples/`, and no `data/`. What differs from the reader's machine, and only this: the ports (free ones, the machine is
// shared: `:8025` and `:2525` in an example are rewritten to them), and `TOKEN`, which the quick start sets in
// the reader's shell, is given to every example as the admin key in `data/admin-key`. An example fails on a
// non-zero exit or an API error answer in its output. Examples that cannot run here are listed in SKIP, each
// with why.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "../e2e/until.js";
import { buildFromSources } from "../helpers/built-dist.js";
import { extractShellExamples, type ShellExample } from "./extract.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));

/** Examples not run, by file and a line of the block, with why. */
const SKIP: { file: string; includes: string; why: string }[] = [
  {
    file: "README.md",
    includes: "npx rebound start\n",
    why: "the quick start's first step: the harness runs it itself (npm install is CI's `npm ci`; the server starts in the background from a clean data folder and serves every other example)",
  },
  { file: "README.md", includes: "npm test     #", why: "the test suite itself (a step of CI of its own)" },
  {
    file: "README.md",
    includes: "--role intake",
    why: "starts servers that run until stopped (the quick start's server serves the examples; a second on its data folder is refused); the lookup role is tested in test/integrations",
  },
  {
    file: "README.md",
    includes: "npm run build",
    why: "development commands that CI runs as its own steps (build, test, lint); score-corpus reads a corpus outside the repository",
  },
  {
    file: "docs/api.md",
    includes: "npx rebound keys list [--tenant acme]",
    why: "a synopsis: optional flags in brackets and a placeholder key id (key_xxxx); README's examples run keys create",
  },
];

function skipReason(ex: ShellExample): string | undefined {
  return SKIP.find((s) => s.file === ex.file && `${ex.code}\n`.includes(s.includes))?.why;
}

function allExamples(): ShellExample[] {
  const files = [
    "README.md",
    ...readdirSync(join(repo, "docs"))
      .filter((f) => f.endsWith(".md"))
      .sort()
      .map((f) => `docs/${f}`),
  ];
  return files.flatMap((f) => extractShellExamples(readFileSync(join(repo, f), "utf8"), f));
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const work = mkdtempSync(join(tmpdir(), "rebound-docs-"));
let http = 0;
let smtp = 0;
let server: ChildProcess | undefined;
let serverOutput = "";

/** The environment of a reader's shell: nothing of Rebound's set, and the test run's own settings left out. */
function shellEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith("REBOUND_") && k !== "DATABASE_URL" && k !== "REDIS_URL" && !k.startsWith("VITEST"))
      env[k] = v;
  return { ...env, NO_COLOR: "1", ...extra };
}

function localise(code: string): string {
  return code.replaceAll(":8025", `:${http}`).replaceAll(":2525", `:${smtp}`);
}

function sh(code: string, env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      "bash",
      ["-e", "-o", "pipefail", "-c", localise(code)],
      { cwd: work, env, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const exit = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code: exit, out: `${stdout}${stderr}` });
      },
    );
  });
}

beforeAll(async () => {
  http = await freePort();
  smtp = await freePort();
  // The reader's working folder: the package (its bin, and the dist/ it runs, built from the sources), its
  // dependencies, and the folders the examples name; no data folder yet.
  const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as Record<string, unknown>;
  writeFileSync(
    join(work, "package.json"),
    JSON.stringify({ name: pkg.name, version: pkg.version, type: "module", bin: pkg.bin }),
  );
  for (const dir of ["node_modules", "examples", "samples"]) symlinkSync(join(repo, dir), join(work, dir));
  await buildFromSources(work);
  // The reader's own list for `POST /v1/clean` (docs/api.md).
  writeFileSync(join(work, "list.csv"), "email\njane@example.org\nsomeone@example.com\n");
}, 60_000);

afterAll(async () => {
  if (server?.pid && server.exitCode === null) {
    const exited = new Promise((r) => server!.once("exit", r));
    process.kill(-server.pid, "SIGTERM"); // npx and the server it started: the group this test made
    await exited;
  }
  rmSync(work, { recursive: true, force: true });
});

describe("README's quick start, from a clean data folder", () => {
  it("starts, signs a return path, takes a bounce over SMTP, and shows the suppression through the API and the CLI", async () => {
    const [start, send, look] = allExamples().filter((e) => e.file === "README.md");
    // Played exactly as written: the first block starts the server (its `npm install` is CI's), in the background.
    expect(start!.code).toBe("npm install\nnpx rebound start");
    server = spawn("bash", ["-c", localise("npx rebound start")], {
      cwd: work,
      env: shellEnv({ REBOUND_HTTP_PORT: String(http), REBOUND_SMTP_PORT: String(smtp) }),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    server.stdout!.on("data", (d: Buffer) => (serverOutput += d.toString()));
    server.stderr!.on("data", (d: Buffer) => (serverOutput += d.toString()));
    await until(
      async () => serverOutput.includes("Stop with Ctrl-C.") || server!.exitCode !== null,
      120_000,
      100,
    );
    expect(server.exitCode, serverOutput).toBeNull();

    // The key printed once is the one kept in data/admin-key; the next steps name it.
    const printed = /API key \(admin, tenant "default"\): (\S+)/.exec(serverOutput)?.[1];
    const token = readFileSync(join(work, "data", "admin-key"), "utf8").trim();
    expect(printed).toBe(token);
    expect(serverOutput).toContain("TOKEN=$(cat data/admin-key)");
    expect(serverOutput).toContain("VERP key (development): dev:");

    const sent = await sh(send!.code, shellEnv());
    expect(sent.code, sent.out).toBe(0);
    expect(send!.code).toContain("npx rebound verp encode");

    // The reader looks "a moment later": the same block, until the worker has processed the bounce.
    let last = { code: -1, out: "" };
    await until(
      async () => {
        last = await sh(look!.code, shellEnv());
        return last.code === 0 && last.out.includes('"suppressed":true');
      },
      60_000,
      500,
    ).catch(() => undefined);
    expect(last.code, last.out).toBe(0);
    expect(last.out).toContain('"suppressed":true');
    expect(last.out).toContain('"reason":"userunknown"');
    expect(last.out).toContain('"address":"jane@example.org"'); // the CLI's list, beside the running server
    expect(server.exitCode, "the server ran throughout").toBeNull();
  }, 300_000);
});

describe("every shell example of README.md and docs/*.md", () => {
  const examples = allExamples();

  it("finds the examples, and every skipped one says why", () => {
    expect(examples.length).toBeGreaterThan(8);
    for (const s of SKIP) {
      expect(s.why.length, s.includes).toBeGreaterThan(20);
      expect(
        examples.some((e) => e.file === s.file && `${e.code}\n`.includes(s.includes)),
        `skip-list entry matches no example: ${s.file} ${s.includes}`,
      ).toBe(true);
    }
  });

  for (const ex of examples) {
    const why = skipReason(ex);
    const name = `${ex.file}:${ex.line} ${ex.code.split("\n")[0]!.slice(0, 70)}`;
    if (why) {
      it.skip(`${name} (${why})`, () => {});
      continue;
    }
    it(`${name} runs as written`, async () => {
      expect(server?.exitCode, "the quick start's server is running").toBeNull();
      const token = readFileSync(join(work, "data", "admin-key"), "utf8").trim();
      const res = await sh(ex.code, shellEnv({ TOKEN: token }));
      expect(res.code, res.out).toBe(0);
      expect(res.out, "an API error answer").not.toMatch(/"error":\s*\{"code"/);
    }, 300_000);
  }
});
