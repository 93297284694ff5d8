// The `rebound` command: one file per subcommand, each exporting register(command, io), which gives the command
// named and described here its arguments, options and action.
//
// Start-up loads only what the command run needs: the modules of a subcommand (and what they import: fastify,
// BullMQ, pg, PGlite...) are imported only when that subcommand is the one run (or its help is asked for).
// `rebound --help` lists the commands from the table below alone.
import { Command, CommanderError } from "commander";
import type { CliIo } from "./io.js";

interface CommandModule {
  register(cmd: Command, io: CliIo): void;
}

/** Every subcommand: its name, what `rebound --help` says of it, and its module. */
const COMMANDS: { name: string; description: string; load: () => Promise<CommandModule> }[] = [
  {
    name: "classify",
    description: "classify bounce, complaint and auto-reply mails (files, folders, mbox files, - for stdin)",
    load: () => import("./classify.js"),
  },
  {
    name: "start",
    description:
      "run the MX (intake), the worker and the HTTP API (all in one process by default), and the lookup servers",
    load: () => import("./start.js"),
  },
  {
    name: "migrate",
    description: "bring the database schema up to date (forward-only)",
    load: () => import("./migrate.js"),
  },
  {
    name: "verp",
    description: "signed return paths (VERP): encode for a send, decode a bounce address",
    load: () => import("./verp.js"),
  },
  {
    name: "suppressions",
    description: "look at and correct the suppression store",
    load: () => import("./suppressions.js"),
  },
  {
    name: "sends",
    description: "what was sent: the volumes rates are computed against",
    load: () => import("./sends.js"),
  },
  {
    name: "report",
    description: "the deliverability report of the last week or month (html, json or csv)",
    load: () => import("./report.js"),
  },
  {
    name: "reprocess",
    description: "re-run the processing of mails: --failed, --all, or the ids given",
    load: () => import("./reprocess.js"),
  },
  {
    name: "keys",
    description: "manage API keys (each bound to one tenant)",
    load: () => import("./keys.js"),
  },
  {
    name: "erase",
    description: "erase an address (privacy law); it stays suppressed by hash",
    load: () => import("./erase.js"),
  },
  {
    name: "doctor",
    description: "check this deployment and say what to fix",
    load: () => import("./doctor.js"),
  },
  {
    name: "incidents",
    description: "what the alert rules found: list, show, acknowledge (ack), resolve",
    load: () => import("./incidents.js"),
  },
  {
    name: "ingest",
    description: "take in what other systems saw (Postfix's log, existing bounce mailboxes over IMAP)",
    load: () => import("./ingest.js"),
  },
];

/**
 * The program, with the full definition of the subcommand named in `argv` (`rebound NAME ...` or
 * `rebound help NAME`) and only the name and description of the others.
 */
export async function buildProgram(io: CliIo, argv: string[] = []): Promise<Command> {
  const program = new Command("rebound")
    .description("Self-hosted bounce and complaint processor")
    .version("0.1.0")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  const [first, second] = argv.slice(2);
  const wanted = first === "help" ? second : first;
  for (const c of COMMANDS) {
    const cmd = program.command(c.name).description(c.description);
    if (c.name === wanted) (await c.load()).register(cmd, io);
  }
  return program;
}

/** Run the CLI; resolves to the exit code. Never calls process.exit. */
export async function run(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin },
): Promise<number> {
  try {
    const program = await buildProgram(io, argv);
    await program.parseAsync(argv);
    return io.exitCode ?? 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    io.stderr.write(`rebound: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
