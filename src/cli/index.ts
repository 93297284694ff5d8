// The `rebound` command: one file per subcommand, each exporting register(program, io).
import { Command, CommanderError } from "commander";
import { register as classify } from "./classify.js";
import { register as ingest } from "./ingest.js";
import { register as keys } from "./keys.js";
import { register as migrate } from "./migrate.js";
import { register as reprocess } from "./reprocess.js";
import { register as start } from "./start.js";
import { register as suppressions } from "./suppressions.js";
import { register as verp } from "./verp.js";
import type { CliIo } from "./io.js";

export function buildProgram(io: CliIo): Command {
  const program = new Command("rebound")
    .description("Self-hosted bounce and complaint processor")
    .version("0.1.0")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  for (const reg of [classify, start, migrate, verp, suppressions, reprocess, keys, ingest]) reg(program, io);
  return program;
}

/** Run the CLI; resolves to the exit code. Never calls process.exit. */
export async function run(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin },
): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv);
    return io.exitCode ?? 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    io.stderr.write(`rebound: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
