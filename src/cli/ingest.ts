// `rebound ingest postfix-log [--follow] [--position NAME] FILE|-`: Postfix's log lines as sends, deliveries and
// bounces (src/integrations/postfix/log-ingest.ts). A file's position is kept in the database, committed with
// the events of the lines before it: `--follow` resumes where it stopped, through log rotation.
import type { Command } from "commander";
import { loadConfig } from "../config.js";
import { createLogger } from "../log.js";
import { loadPolicy } from "../policy-file.js";
import type { CliIo } from "./io.js";
import { withDb } from "./with-db.js";

interface Opts {
  follow?: boolean;
  position?: string;
}

export function register(program: Command, io: CliIo): void {
  const ingest = program.command("ingest").description("take in what other systems saw (Postfix's log)");
  ingest
    .command("postfix-log")
    .description(
      "read Postfix's log: deliveries reset soft-bounce counts, bounces and deferrals are classified",
    )
    .argument(
      "<file>",
      "the log file (syslog, RFC 3339 timestamps, maillog_file, journalctl -o json), or - for stdin",
    )
    .option("--follow", "keep reading as the file grows, through rotation, until SIGTERM or SIGINT")
    .option("--position <name>", "the name the file's position is kept under (default: the file's path)")
    .action(async (file: string, opts: Opts) => {
      if (file === "-" && (opts.follow || opts.position))
        throw new Error("ingest postfix-log: --follow and --position need a file, not stdin");
      const config = loadConfig();
      const policy = loadPolicy(config);
      const logger = createLogger(config.logLevel);
      const { ingestPostfixLog } = await import("../integrations/postfix/log-ingest.js");
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once("SIGTERM", onSignal);
      process.once("SIGINT", onSignal);
      try {
        await withDb(config, async (db) => {
          const counts = await ingestPostfixLog(
            { db, policy, logger, now: () => new Date() },
            file === "-" ? { stream: io.stdin } : { path: file },
            {
              follow: opts.follow,
              positionName: opts.position,
              signal: stop.signal,
              attribution: {
                verpKeys: config.verpKeys,
                senderStreams: config.lookupSenderStreams,
                tenant: config.lookupTenant ?? config.defaultTenant,
                defaultTenant: config.defaultTenant,
                defaultStream: config.defaultStream,
                caseSensitiveLocalPart: config.caseSensitiveLocalPart,
              },
            },
          );
          const skipped = Object.entries(counts.skipped)
            .filter(([, n]) => n > 0)
            .map(([k, n]) => `${k} ${n}`)
            .join(", ");
          io.stderr.write(
            `ingest postfix-log: ${counts.lines} lines; sent ${counts.sent}, bounced ${counts.bounced}, ` +
              `deferred ${counts.deferred}, expired ${counts.expired}; ${counts.events} events recorded` +
              (skipped ? `; not recorded: ${skipped}` : "") +
              "\n",
          );
        });
      } finally {
        process.off("SIGTERM", onSignal);
        process.off("SIGINT", onSignal);
      }
    });
}
