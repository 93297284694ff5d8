// `rebound ingest postfix-log [--follow] [--position NAME] FILE|-`: Postfix's log lines as sends, deliveries and
// bounces (src/integrations/postfix/log-ingest.ts). A file's position is kept in the database, committed with
// the events of the lines before it: `--follow` resumes where it stopped, through log rotation.
// `rebound ingest postfix-log --journal [--follow] [--unit UNIT ...] [--journal-directory DIR]`: the same from
// journald through `journalctl -o json`, resuming after the saved cursor (src/integrations/postfix/journal.ts).
// `rebound ingest imap [--accounts FILE] [--follow]`: the bounces sitting in existing mailboxes, into the spool
// like mail received over SMTP (src/integrations/imap/ingest.ts), with a progress bar for an old mailbox.
// `rebound ingest pop3 [--accounts FILE] [--follow]`: the same for servers without IMAP
// (src/integrations/pop3/ingest.ts).
import type { Command } from "commander";
import { loadConfig, type Config } from "../config.js";
import type { Queue } from "../queue/types.js";
import type { Db } from "../store/db.js";
import type { Logger } from "../log.js";
import { createLogger } from "../log.js";
import { loadPolicy } from "../policy-file.js";
import { withVerpKeys } from "../verp-keys.js";
import type { CliIo } from "./io.js";
import { withDb } from "./with-db.js";

interface Opts {
  follow?: boolean;
  position?: string;
  journal?: boolean;
  unit: string[];
  journalDirectory?: string;
}

export function register(cmd: Command, io: CliIo): void {
  const ingest = cmd;
  ingest
    .command("postfix-log")
    .description(
      "read Postfix's log: deliveries reset soft-bounce counts, bounces and deferrals are classified",
    )
    .argument(
      "[file]",
      "the log file (syslog, RFC 3339 timestamps, maillog_file, journalctl -o json), or - for stdin",
    )
    .option("--follow", "keep reading as the file grows, through rotation, until SIGTERM or SIGINT")
    .option(
      "--position <name>",
      "the name the position is kept under (default: the file's path; journal: + units @ directory)",
    )
    .option("--journal", "read journald through journalctl -o json, from the saved cursor")
    .option(
      "--unit <unit>",
      "with --journal: only this systemd unit's entries (repeatable; globs: postfix@*)",
      (v: string, prev: string[]) => [...prev, v],
      [],
    )
    .option("--journal-directory <dir>", "with --journal: the journal files of this directory")
    .action(async (file: string | undefined, opts: Opts) => {
      if (opts.journal && file !== undefined)
        throw new Error("ingest postfix-log: --journal reads journald, not a file: leave FILE out");
      if (!opts.journal && (opts.unit.length || opts.journalDirectory))
        throw new Error("ingest postfix-log: --unit and --journal-directory go with --journal");
      if (!opts.journal && file === undefined)
        throw new Error("ingest postfix-log: a FILE, - for stdin, or --journal");
      if (file === "-" && (opts.follow || opts.position))
        throw new Error("ingest postfix-log: --follow and --position need a file, not stdin");
      const config = withVerpKeys(loadConfig());
      const policy = loadPolicy(config);
      const logger = createLogger(config.logLevel);
      const { ingestPostfixLog } = await import("../integrations/postfix/log-ingest.js");
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once("SIGTERM", onSignal);
      process.once("SIGINT", onSignal);
      try {
        await withDb(config, async (db, ctx) => {
          const counts = await ingestPostfixLog(
            { db, policy, logger, hashAddress: await ctx.addressHasher(), now: () => new Date() },
            opts.journal
              ? { journal: { units: opts.unit, directory: opts.journalDirectory } }
              : file === "-"
                ? { stream: io.stdin }
                : { path: file! },
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

  ingest
    .command("imap")
    .description(
      "take the bounces in existing mailboxes (IMAP) into the spool, then flag, move or delete them",
    )
    .option("--accounts <file>", "the accounts file (default: REBOUND_IMAP_ACCOUNTS)")
    .option("--follow", "then wait for new mail (IDLE) until SIGTERM or SIGINT")
    .action(async (opts: { accounts?: string; follow?: boolean }) => {
      const config = loadConfig();
      const path = opts.accounts ?? config.imapAccountsPath;
      if (!path) throw new Error("ingest imap: no accounts file (--accounts FILE or REBOUND_IMAP_ACCOUNTS)");
      const { loadImapAccounts } = await import("../integrations/imap/accounts.js");
      const { ingestImapAccount } = await import("../integrations/imap/ingest.js");
      const accounts = loadImapAccounts(path);
      await ingestMailboxes(io, config, "imap", accounts, ingestImapAccount, opts.follow, (r) =>
        r.tooLarge
          ? `${r.taken} mails taken, ${r.tooLarge} too large (left on the server)`
          : `${r.taken} mails taken`,
      );
    });
  registerPop3(ingest, io);
}

function registerPop3(ingest: Command, io: CliIo): void {
  ingest
    .command("pop3")
    .description(
      "take the bounces in existing mailboxes of servers without IMAP (POP3) into the spool, then delete them",
    )
    .option("--accounts <file>", "the accounts file (default: REBOUND_POP3_ACCOUNTS)")
    .option("--follow", "then look again every minute until SIGTERM or SIGINT")
    .action(async (opts: { accounts?: string; follow?: boolean }) => {
      const config = loadConfig();
      const path = opts.accounts ?? config.pop3AccountsPath;
      if (!path) throw new Error("ingest pop3: no accounts file (--accounts FILE or REBOUND_POP3_ACCOUNTS)");
      const { loadPop3Accounts } = await import("../integrations/pop3/accounts.js");
      const { ingestPop3Account } = await import("../integrations/pop3/ingest.js");
      const accounts = loadPop3Accounts(path);
      await ingestMailboxes(
        io,
        config,
        "pop3",
        accounts,
        ingestPop3Account,
        opts.follow,
        (r) =>
          `${r.taken} mails taken` +
          (r.takenBefore ? `, ${r.takenBefore} taken before` : "") +
          (r.tooLarge ? `, ${r.tooLarge} too large (left on the server)` : ""),
      );
    });
}

/** What an existing mailbox's ingest is given, and told (IMAP and POP3 alike). */
interface MailboxDeps {
  db: Db;
  queue?: Queue;
  logger: Logger;
  now: () => Date;
  maxMessageBytes: number;
}
interface MailboxOptions {
  follow?: boolean;
  signal: AbortSignal;
  onProgress: (p: { account: string; folder: string; done: number; total: number }) => void;
}

/**
 * Existing mailboxes into the spool (IMAP, POP3): every account at once, a progress bar, a line per account at
 * the end; SIGTERM or SIGINT stops a `--follow`. Without Redis the mails stay pending, and the running intake's
 * sweeper enqueues them.
 */
async function ingestMailboxes<A extends { name: string }, R>(
  io: CliIo,
  config: Config,
  protocol: string,
  accounts: A[],
  take: (deps: MailboxDeps, account: A, opts: MailboxOptions) => Promise<R>,
  follow: boolean | undefined,
  summary: (r: R) => string,
): Promise<void> {
  const logger = createLogger(config.logLevel);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  const { createQueue } = await import("../queue/index.js");
  const queue = config.redisUrl ? createQueue(config, logger) : undefined;
  const bar = progressBar(io);
  try {
    await withDb(config, async (db) => {
      const deps = { db, queue, logger, now: () => new Date(), maxMessageBytes: config.smtpMaxMessageBytes };
      const results = await Promise.all(
        accounts.map((a) => take(deps, a, { follow, signal: stop.signal, onProgress: bar })),
      );
      bar.end();
      accounts.forEach((a, i) => io.stderr.write(`ingest ${protocol}: ${a.name}: ${summary(results[i]!)}\n`));
    });
  } finally {
    await queue?.close();
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  }
}

/** One line per folder being read, redrawn in place on a terminal; a line every 5 s elsewhere. */
function progressBar(io: CliIo) {
  const tty = (io.stderr as { isTTY?: boolean }).isTTY === true;
  const started = Date.now();
  let last = 0;
  let shown = "";
  const draw = (p: { account: string; folder: string; done: number; total: number }) => {
    if (p.total === 0) return;
    const secs = Math.max(0.001, (Date.now() - started) / 1000);
    const width = 30;
    const filled = Math.round((p.done / p.total) * width);
    const line =
      `${p.account}/${p.folder} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ` +
      `${p.done}/${p.total} (${Math.round(p.done / secs)}/s)`;
    if (tty) {
      io.stderr.write(`\r${line}`);
      shown = line;
    } else if (Date.now() - last > 5000 || p.done === p.total) {
      io.stderr.write(line + "\n");
      last = Date.now();
    }
  };
  return Object.assign(draw, {
    end: () => {
      if (tty && shown) io.stderr.write("\n");
    },
  });
}
