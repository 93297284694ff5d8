// `rebound reprocess [--failed | --all | ID...]`: run processMail again on mails, directly (no queue): the mails
// kept as failed, every mail still holding its raw bytes (after the rules improve), or the ids given. Each mail's
// events are replaced and their effects re-derived (src/worker/process-mail.ts says how). One line per mail.
import type { Command } from "commander";
import { loadConfig } from "../config.js";
import { createLogger } from "../log.js";
import { loadPolicy } from "../policy-file.js";
import type { Db } from "../store/db.js";
import { reprocessableMailIds, type BatchCursor } from "../store/mail-batches.js";
import { failedMailIds } from "../store/mails.js";
import { withVerpKeys } from "../verp-keys.js";
import { createClassifyPool } from "../worker/classify-pool.js";
import { processMail, type ProcessDeps } from "../worker/process-mail.js";
import type { CliIo } from "./io.js";
import { withDb } from "./with-db.js";

interface Opts {
  failed?: boolean;
  all?: boolean;
}

export function register(cmd: Command, io: CliIo): void {
  cmd
    .argument("[ids...]", "mail ids")
    .option("--failed", "the mails kept as failed")
    .option("--all", "every mail whose raw bytes are still kept (after the rules improve)")
    .action(async (ids: string[], opts: Opts) => {
      if ([opts.failed, opts.all, ids.length > 0].filter(Boolean).length !== 1)
        throw new Error("reprocess: give exactly one of --failed, --all or mail ids");
      const config = withVerpKeys(loadConfig());
      const policy = loadPolicy(config);
      const logger = createLogger(config.logLevel, undefined, config.logFormat);
      // The same deadline as the worker's (REBOUND_CLASSIFY_TIMEOUT_MS): set it higher here to get through a
      // mail kept as failed with classify_timeout.
      const pool = createClassifyPool({
        threads: config.classifyThreads,
        timeoutMs: config.classifyTimeoutMs,
      });
      await withDb(config, async (db, ctx) => {
        const deps: ProcessDeps = {
          db,
          config,
          policy,
          hashAddress: await ctx.addressHasher(),
          logger,
          now: () => new Date(),
          classifier: pool,
        };
        const totals = { processed: 0, other: 0, failed: 0 };
        for await (const id of mailIds(db, ids, opts)) {
          try {
            const out = await processMail(deps, id, { reprocess: true });
            if (out.status === "processed") totals.processed++;
            else if (out.status === "failed") totals.failed++;
            else totals.other++;
            io.stdout.write(
              out.status === "processed"
                ? `${id} processed kind=${out.kind} events=${out.events} suppressed=${out.suppressed}\n`
                : out.status === "failed"
                  ? `${id} failed ${out.error}\n`
                  : `${id} ${out.status}\n`,
            );
          } catch (err) {
            totals.failed++;
            io.stdout.write(`${id} error ${err instanceof Error ? err.message : String(err)}\n`);
          }
        }
        io.stderr.write(
          `reprocess: ${totals.processed} processed, ${totals.other} skipped, ${totals.failed} failed\n`,
        );
        if (totals.failed) io.exitCode = 1;
      }).finally(() => pool.close());
    });
}

async function* mailIds(db: Db, ids: string[], opts: Opts): AsyncGenerator<string> {
  if (ids.length) return yield* ids;
  if (opts.failed) return yield* await failedMailIds(db);
  let cursor: BatchCursor | null = null;
  for (;;) {
    const batch: BatchCursor[] = await reprocessableMailIds(db, cursor);
    if (!batch.length) return;
    for (const b of batch) yield b.id;
    cursor = batch[batch.length - 1] ?? null;
  }
}
