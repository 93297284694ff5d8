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
});
