import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { run } from "../../src/cli/index.js";
import { parseRoles } from "../../src/cli/start.js";

describe("rebound start", () => {
  it("runs every role by default and takes roles repeated or comma-separated", () => {
    expect(parseRoles(undefined)).toEqual(["intake", "worker", "api"]);
    expect(parseRoles(["intake,worker"])).toEqual(["intake", "worker"]);
    expect(parseRoles(["worker", "api", "worker"])).toEqual(["worker", "api"]);
  });

  it("refuses an unknown role with a clear error and exit code 1", async () => {
    const stderr = new PassThrough();
    let err = "";
    stderr.on("data", (d: Buffer) => (err += d.toString()));
    const code = await run(["node", "rebound", "start", "--role", "mailer"], {
      stdout: new PassThrough(),
      stderr,
      stdin: new PassThrough(),
    });
    expect(code).toBe(1);
    expect(err).toContain('unknown role "mailer"');
  });
});

describe("rebound start's expected failures", () => {
  const cliPath = fileURLToPath(new URL("../helpers/rebound-cli.ts", import.meta.url));

  function start(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ["--import", "tsx", cliPath, "start"], {
        env: { PATH: process.env.PATH, REBOUND_DATA_DIR: ":memory:", REBOUND_LOG_LEVEL: "silent", ...env },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
      child.once("exit", (code) => resolve({ code, stderr }));
    });
  }

  it("names the setting of a port in use in one line, without a stack trace", async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    const port = (busy.address() as { port: number }).port;
    try {
      const r = await start({ REBOUND_HTTP_PORT: String(port), REBOUND_SMTP_PORT: "0" });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `rebound: cannot listen on 127.0.0.1:${port}: the port is in use (another rebound start?); stop what uses it or set REBOUND_HTTP_PORT\n`,
      );
    } finally {
      await new Promise((r) => busy.close(r));
    }
  }, 60_000);

  it("says in one line that PostgreSQL is out of reach, naming it without its password", async () => {
    const r = await start({ DATABASE_URL: "postgres://rebound:s3cret@127.0.0.1:1/rebound" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^rebound: cannot use PostgreSQL at 127\.0\.0\.1:1\/rebound \(DATABASE_URL\): connect ECONNREFUSED[^\n]*\n$/,
    );
    expect(r.stderr).not.toContain("s3cret");
  }, 60_000);

  it("refuses a misspelt variable, with the setting it likely meant", async () => {
    const r = await start({ REBOUND_HTTP_PROT: "8025" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("REBOUND_HTTP_PROT: no such setting (did you mean REBOUND_HTTP_PORT?)");
    expect(r.stderr).not.toMatch(/^\s+at /m);
  }, 60_000);
});
