// Run the `rebound` CLI in-process with captured output.
import { PassThrough, Readable } from "node:stream";
import { run } from "../../src/cli/index.js";
import type { CliIo } from "../../src/cli/io.js";

export async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough().on("data", (c: Buffer) => out.push(c));
  const stderr = new PassThrough().on("data", (c: Buffer) => err.push(c));
  const io: CliIo = { stdout, stderr, stdin: Readable.from([]) };
  const code = await run(["node", "rebound", ...args], io);
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}
