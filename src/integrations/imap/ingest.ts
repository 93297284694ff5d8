// `rebound ingest imap`: the bounces already sitting in a mailbox (the one a newsletter tool reads today) taken
// into Rebound's spool, exactly as the MX takes a mail: the raw bytes committed to `inbound_mails` (the same
// digest, so a mail taken twice is processed once), then enqueued, and only then flagged, moved or deleted on
// the server. A crash between the commit and the flag takes the message again on the next run, which the
// digest makes harmless: nothing is lost, nothing counted twice.
//
// Per account, per folder: the messages not taken yet (all of them with `after: move|delete`, those without
// the $Rebound keyword with `after: flag`), in batches of BATCH by UID; with `follow`, then IDLE (where the
// server has it) or a poll, until the signal.
import { createHash } from "node:crypto";
import { ImapFlow } from "imapflow";
import type { Logger } from "../../log.js";
import type { Queue } from "../../queue/types.js";
import type { Db } from "../../store/db.js";
import { insertMails, markEnqueued, type NewMail } from "../../store/mails.js";
import { newMailId } from "../../intake/mail-id.js";
import { TAKEN_KEYWORD, type ImapAccount } from "./accounts.js";
import { envelopeOf } from "./envelope.js";

const BATCH = 50;

export interface ImapIngestDeps {
  db: Db;
  /** Absent: the mails stay pending and the intake's sweeper enqueues them. */
  queue?: Queue;
  logger: Logger;
  now: () => Date;
  /** A message larger than this is left on the server (and said so), as the MX refuses it at SMTP time. */
  maxMessageBytes: number;
}

export interface ImapIngestOptions {
  follow?: boolean;
  /** While following, how often folders are looked at again when IDLE says nothing (default 30 s). */
  pollMs?: number;
  signal?: AbortSignal;
  /** Called as a folder's backlog goes down (a progress bar). */
  onProgress?: (p: ImapProgress) => void;
}

export interface ImapProgress {
  account: string;
  folder: string;
  done: number;
  total: number;
}

export interface ImapCounts {
  taken: number;
  tooLarge: number;
}

export async function ingestImapAccount(
  deps: ImapIngestDeps,
  account: ImapAccount,
  opts: ImapIngestOptions = {},
): Promise<ImapCounts> {
  const logger = deps.logger.child({ imap: account.name });
  const client = new ImapFlow({
    host: account.host,
    port: account.port,
    secure: account.secure,
    auth: { user: account.user, pass: account.password },
    tls: { rejectUnauthorized: account.verifyTls },
    logger: false,
  });
  const counts: ImapCounts = { taken: 0, tooLarge: 0 };
  await client.connect();
  try {
    if (account.after === "move") await ensureFolder(client, account.moveTo);
    for (;;) {
      for (const folder of account.folders) {
        if (opts.signal?.aborted) return counts;
        await takeFolder(client, deps, account, folder, counts, opts);
      }
      if (!opts.follow || opts.signal?.aborted) return counts;
      await waitForMail(client, opts);
    }
  } finally {
    await client.logout().catch(() => client.close());
    logger.info(counts, "imap ingest done");
  }
}

async function ensureFolder(client: ImapFlow, path: string): Promise<void> {
  const list = await client.list();
  if (!list.some((m) => m.path === path)) await client.mailboxCreate(path);
}

async function takeFolder(
  client: ImapFlow,
  deps: ImapIngestDeps,
  account: ImapAccount,
  folder: string,
  counts: ImapCounts,
  opts: ImapIngestOptions,
): Promise<void> {
  const lock = await client.getMailboxLock(folder);
  try {
    const query = account.after === "flag" ? { unKeyword: TAKEN_KEYWORD } : { all: true };
    const uids = ((await client.search(query, { uid: true })) || []).sort((a, b) => a - b);
    const progress = { account: account.name, folder, done: 0, total: uids.length };
    opts.onProgress?.(progress);
    for (let i = 0; i < uids.length; i += BATCH) {
      if (opts.signal?.aborted) return;
      const batch = uids.slice(i, i + BATCH);
      const messages = await client.fetchAll(batch, { uid: true, source: true, size: true }, { uid: true });
      const mails: NewMail[] = [];
      const taken: number[] = [];
      for (const m of messages) {
        if (!m.source || (m.size ?? m.source.length) > deps.maxMessageBytes) {
          counts.tooLarge++;
          deps.logger.warn(
            { imap: account.name, folder, uid: m.uid, size: m.size },
            "imap: message too large, left",
          );
          continue;
        }
        const raw = m.source;
        const env = envelopeOf(raw);
        mails.push({
          id: newMailId(deps.now()),
          mailFrom: env.mailFrom,
          rcptTo: env.rcptTo,
          remoteIp: null,
          helo: `imap:${account.name}/${folder}`,
          raw,
          sha256: createHash("sha256").update(raw).digest("hex"),
          receivedAt: deps.now(),
        });
        taken.push(m.uid);
      }
      // 1. durable, 2. enqueued, 3. taken off the server: a crash between 1 and 3 takes the message again.
      await insertMails(deps.db, mails);
      if (deps.queue && mails.length) {
        const ids = mails.map((m) => m.id);
        await deps.queue.add("process-mails", { mailIds: ids });
        await markEnqueued(deps.db, ids, deps.now());
      }
      if (taken.length) {
        if (account.after === "flag") await client.messageFlagsAdd(taken, [TAKEN_KEYWORD], { uid: true });
        else if (account.after === "move") await client.messageMove(taken, account.moveTo, { uid: true });
        else await client.messageDelete(taken, { uid: true });
      }
      counts.taken += mails.length;
      progress.done = Math.min(uids.length, i + batch.length);
      opts.onProgress?.(progress);
    }
  } finally {
    lock.release();
  }
}

/** Until the server announces new mail (IDLE, where the server has it), the next poll, or the signal. */
async function waitForMail(client: ImapFlow, opts: ImapIngestOptions): Promise<void> {
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off("exists", done);
      opts.signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, opts.pollMs ?? 30_000);
    client.on("exists", done);
    opts.signal?.addEventListener("abort", done, { once: true });
    // IDLE now (imapflow's own starts only after a while of silence); the next command ends it.
    if (client.capabilities.has("IDLE")) client.idle().catch(() => undefined);
  });
}
