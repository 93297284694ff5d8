import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
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

  it("refuses to start, in any role, with a policy in plain verification mode that does not allow it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rebound-plain-"));
    const policy = join(dir, "policy.json");
    writeFileSync(policy, JSON.stringify({ verification: { mode: "plain" } }));
    const stderr = new PassThrough();
    let err = "";
    stderr.on("data", (d: Buffer) => (err += d.toString()));
    const before = process.env.REBOUND_POLICY;
    process.env.REBOUND_POLICY = policy;
    try {
      const code = await run(["node", "rebound", "start", "--role", "api"], {
        stdout: new PassThrough(),
        stderr,
        stdin: new PassThrough(),
      });
      expect(code).toBe(1);
      expect(err).toContain(`invalid policy file ${policy}:`);
      expect(err).toContain('verification: mode "plain" lets anyone');
      expect(err).toContain('"allowUnverified": true');
    } finally {
      if (before === undefined) delete process.env.REBOUND_POLICY;
      else process.env.REBOUND_POLICY = before;
    }
  });
});
