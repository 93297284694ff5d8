// `rebound ingest pop3`: the bounces in a mailbox of a server without IMAP, taken into Rebound's spool exactly as
// the MX takes a mail (src/integrations/imap/ingest.ts does the same over IMAP):
//
//   1. RETR, 2. commit the raw bytes to `inbound_mails` with the message's UIDL (pop3_uidls) in one transaction,
//   3. enqueue, 4. DELE, and QUIT, at which the server deletes.
//
// A crash before 2 takes the message again next time (nothing lost); after 2, its UIDL says it was taken, and the
// next run deletes it without taking it twice. With `after: keep` messages stay on the server, taken once by UIDL.
import { createHash } from "node:crypto";
import type { Logger } from "../../log.js";
import type { Queue } from "../../queue/types.js";
import type { Db } from "../../store/db.js";
import { insertMails, markEnqueued, type NewMail } from "../../store/mails.js";
import { forgetUidlsBut, recordUidls, takenUidls } from "../../store/pop3-uidls.js";
import { newMailId } from "../../intake/mail-id.js";
import { envelopeOf } from "../imap/envelope.js";
import type { Pop3Account } from "./accounts.js";
import { Pop3Client } from "./client.js";

const BATCH = 50;

export interface Pop3IngestDeps {
  db: Db;
  /** Absent: the mails stay pending and the intake's sweeper enqueues them. */
  queue?: Queue;
  logger: Logger;
  now: () => Date;
  /** A message larger than this is left on the server (and said so), as the MX refuses it at SMTP time. */
  maxMessageBytes: number;
}

export interface Pop3IngestOptions {
  follow?: boolean;
  /** While following, how often the mailbox is looked at again (default 60 s: POP3 has no IDLE). */
  pollMs?: number;
  signal?: AbortSignal;
  /** Called as the backlog goes down (a progress bar). */
  onProgress?: (p: { account: string; folder: string; done: number; total: number }) => void;
}

export interface Pop3Counts {
  taken: number;
  tooLarge: number;
  /** Messages taken by an earlier run (deleted now with `after: delete`). */
  takenBefore: number;
}

export async function ingestPop3Account(
  deps: Pop3IngestDeps,
  account: Pop3Account,
  opts: Pop3IngestOptions = {},
): Promise<Pop3Counts> {
  const logger = deps.logger.child({ pop3: account.name });
  const counts: Pop3Counts = { taken: 0, tooLarge: 0, takenBefore: 0 };
  try {
    for (;;) {
      await takeMailbox(deps, account, counts, opts, logger);
      if (!opts.follow || opts.signal?.aborted) return counts;
      await pause(opts.pollMs ?? 60_000, opts.signal);
      if (opts.signal?.aborted) return counts;
    }
  } finally {
    logger.info(counts, "pop3 ingest done");
  }
}

async function takeMailbox(
  deps: Pop3IngestDeps,
  account: Pop3Account,
  counts: Pop3Counts,
  opts: Pop3IngestOptions,
  logger: Logger,
): Promise<void> {
  const client = await Pop3Client.connect(account);
  try {
    const uidls = await client.uidl();
    const sizes = await client.list();
    const numbers = [...sizes.keys()].sort((a, b) => a - b);
    // UIDLs noted earlier whose messages the server no longer holds are forgotten (the full list was just read).
    await forgetUidlsBut(deps.db, account.name, [...uidls.values()]);
    const before = await takenUidls(deps.db, account.name, [...uidls.values()]);
    const progress = { account: account.name, folder: "INBOX", done: 0, total: numbers.length };
    const tooLarge = (n: number, uidl: string) => {
      counts.tooLarge++;
      logger.warn({ pop3: account.name, uidl, size: sizes.get(n) }, "pop3: message too large, left");
    };
    opts.onProgress?.(progress);
    for (let i = 0; i < numbers.length; i += BATCH) {
      if (opts.signal?.aborted) break;
      const batch = numbers.slice(i, i + BATCH);
      const mails: NewMail[] = [];
      const taken: { n: number; uidl: string; mailId: string }[] = [];
      const remove: number[] = [];
      const fetch: { n: number; uidl: string }[] = [];
      for (const n of batch) {
        const uidl = uidls.get(n);
        if (uidl === undefined) continue; // not in UIDL's answer: left for a later run
        if (before.has(uidl)) {
          counts.takenBefore++;
          if (account.after === "delete") remove.push(n);
        } else if ((sizes.get(n) ?? 0) > deps.maxMessageBytes) tooLarge(n, uidl);
        else fetch.push({ n, uidl });
      }
      const raws = await client.retrMany(
        fetch.map((f) => f.n),
        deps.maxMessageBytes,
      );
      fetch.forEach(({ n, uidl }, j) => {
        const raw = raws[j];
        if (!raw) return tooLarge(n, uidl);
        const env = envelopeOf(raw);
        const id = newMailId(deps.now());
        mails.push({
          id,
          mailFrom: env.mailFrom,
          rcptTo: env.rcptTo,
          remoteIp: null,
          helo: `pop3:${account.name}`,
          raw,
          sha256: createHash("sha256").update(raw).digest("hex"),
          receivedAt: deps.now(),
        });
        taken.push({ n, uidl, mailId: id });
      });
      // 1. durable, with the UIDLs, 2. enqueued, 3. marked for deletion (applied at QUIT).
      if (mails.length)
        await deps.db.transaction().execute(async (trx) => {
          await insertMails(trx, mails);
          await recordUidls(trx, account.name, taken, deps.now());
        });
      if (deps.queue && mails.length) {
        const ids = mails.map((m) => m.id);
        await deps.queue.add("process-mails", { mailIds: ids });
        await markEnqueued(deps.db, ids, deps.now());
      }
      if (account.after === "delete") await client.deleMany([...remove, ...taken.map((t) => t.n)]);
      counts.taken += mails.length;
      progress.done = Math.min(numbers.length, i + batch.length);
      opts.onProgress?.(progress);
    }
    await client.quit();
  } finally {
    client.close();
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
