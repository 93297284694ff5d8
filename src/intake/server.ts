// The SMTP edge: a receive-only MX for the configured domains. Handlers stay thin: check, then hand over.
// A mail gets 250 only once its raw bytes are a committed PostgreSQL row (spool.ts); the job that processes
// it is enqueued after that, and whatever fails there is picked up by the sweeper.
//
// smtp-server notes: it waits a fixed 100 ms before its greeting (to catch clients that talk too soon); here the
// wait is REBOUND_SMTP_GREETING_DELAY_MS, none by default (greeting.ts says why). Reverse DNS is off (one lookup
// per connection, seconds without DNS); SMTPUTF8, 8BITMIME and PIPELINING are advertised; AUTH is disabled
// (nothing here relays).
//
// Bounds (README, "How the MX keeps mail"): recipients are checked at RCPT (recipients.ts); connections at once
// and per client, connections per client per minute, transactions per connection, refused recipients per
// connection; the bytes of mail held in memory over all sessions (limits.ts); the time a session waits for its
// mail to be stored and the mails waiting for the database (spool.ts). With PostgreSQL hung, sessions get 451
// within the spool timeout and memory stays within those bounds.
import { hash } from "node:crypto";
import type { AddressInfo, Socket } from "node:net";
import { hostname } from "node:os";
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import type { Metrics, SmtpOutcome } from "../metrics.js";
import type { Queue } from "../queue/types.js";
import type { Db } from "../store/db.js";
import { createEnqueuer, type EnqueuerOptions } from "./enqueue.js";
import { greetAfter } from "./greeting.js";
import { newMailId } from "./mail-id.js";
import { clientKey, createByteBudget, createConnectionCounter, type ByteBudget } from "./limits.js";
import { trustProxyFrom } from "./proxy.js";
import { createRateLimiter } from "./rate-limit.js";
import { createRecipientCheck } from "./recipients.js";
import { replies } from "./replies.js";
import { createSpool, SpoolFullError, SpoolTimeoutError, type SpoolOptions } from "./spool.js";
import type { TlsMaterial } from "./tls.js";

/** Refused recipients on one connection before it is closed (Postfix's smtpd_hard_error_limit is 20 too). */
export const MAX_REFUSED_RECIPIENTS = 20;

export type IntakeConfig = Pick<
  Config,
  | "domains"
  | "smtpHost"
  | "smtpPort"
  | "smtpHostname"
  | "smtpMaxMessageBytes"
  | "smtpMaxRecipients"
  | "smtpMaxConnections"
  | "smtpMaxConnectionsPerIp"
  | "smtpMaxTransactionsPerConnection"
  | "smtpMaxReceivingBytes"
  | "smtpSpoolTimeoutMs"
  | "smtpMaxQueuedMails"
  | "smtpLocalParts"
  | "smtpGreetingDelayMs"
  | "smtpRateLimitPerMinute"
  | "smtpSocketTimeoutMs"
  | "smtpProxyFrom"
  | "smtpShutdownTimeoutMs"
  | "verpKeys"
  | "verpMaxAgeDays"
>;

export interface IntakeDeps {
  config: IntakeConfig;
  db: Db;
  queue: Queue;
  logger: Logger;
  tls: TlsMaterial;
  now?: () => Date;
  /** Group-commit tuning (defaults suit PostgreSQL; the timeout and queue bound come from the config). */
  spool?: Omit<SpoolOptions, "onCommitted" | "timeoutMs" | "maxQueued">;
  /** How committed mails are gathered into queue jobs (defaults: see EnqueuerOptions). */
  enqueue?: Omit<EnqueuerOptions, "onError">;
  metrics?: Metrics;
}

export interface Intake {
  /** Starts listening; resolves with the bound address (port 0 picks a free one). */
  listen(): Promise<AddressInfo>;
  /** Stops taking connections, lets the sessions in flight finish (up to the shutdown timeout), settles the spool. */
  close(): Promise<void>;
}

/** Per-transaction bookkeeping, for the one log line of each transaction. */
interface Tx {
  startedAt: number;
  refused: number;
}

/** Per-connection bookkeeping of an accepted connection. */
interface Conn {
  client: string;
  mails: number;
  refused: number;
}

export function createIntake(deps: IntakeDeps): Intake {
  const { config, db, queue } = deps;
  const log = deps.logger.child({ role: "intake" });
  const now = deps.now ?? (() => new Date());
  const domains = config.domains;
  const limiter = createRateLimiter(config.smtpRateLimitPerMinute);
  const perClient = createConnectionCounter(config.smtpMaxConnectionsPerIp);
  const budget = createByteBudget(config.smtpMaxReceivingBytes);
  const checkRecipient = createRecipientCheck({
    domains,
    localParts: config.smtpLocalParts,
    verpKeys: config.verpKeys,
    verpMaxAgeDays: config.verpMaxAgeDays,
  });
  const txs = new Map<string, Tx>();
  const conns = new Map<string, Conn>();
  let lastEnqueueWarning = 0;
  const count = (outcome: SmtpOutcome) => deps.metrics?.smtpTransactions.inc({ outcome });

  const enqueuer = createEnqueuer(db, queue, {
    ...deps.enqueue,
    onError(err, mails) {
      const t = Date.now();
      if (t - lastEnqueueWarning > 10_000) {
        lastEnqueueWarning = t;
        log.warn({ err: errorMessage(err), mails }, "enqueue failed; mails stay pending for the sweeper");
      }
    },
  });
  const spool = createSpool(db, {
    ...deps.spool,
    timeoutMs: config.smtpSpoolTimeoutMs,
    maxQueued: config.smtpMaxQueuedMails,
    onCommitted: (ids) => enqueuer.push(ids),
  });

  const server = new SMTPServer({
    name: config.smtpHostname ?? hostname(),
    banner: "Rebound bounce MX",
    key: deps.tls.key,
    cert: deps.tls.cert,
    minVersion: "TLSv1.2",
    size: config.smtpMaxMessageBytes || undefined,
    disabledCommands: ["AUTH"],
    authOptional: true,
    hideENHANCEDSTATUSCODES: true,
    disableReverseLookup: true,
    // PROXY headers: from REBOUND_SMTP_PROXY_FROM only (trustProxyFrom, below).
    useProxy: false,
    socketTimeout: config.smtpSocketTimeoutMs,
    closeTimeout: config.smtpShutdownTimeoutMs,
    logger: false,

    onConnect(session, cb) {
      // server.connections includes this one.
      if (config.smtpMaxConnections && server.connections.size > config.smtpMaxConnections) {
        log.warn({ sid: session.id, ip: session.remoteAddress }, "connection refused: too many connections");
        count("too_many_connections");
        return cb(replies.tooManyConnections());
      }
      const client = clientKey(session.remoteAddress);
      if (!limiter.take(client, Date.now())) {
        log.warn({ sid: session.id, ip: session.remoteAddress }, "connection refused: rate limit");
        count("rate_limited");
        return cb(replies.rateLimited());
      }
      if (!perClient.open(client)) {
        log.warn(
          { sid: session.id, ip: session.remoteAddress },
          "connection refused: too many from this client",
        );
        count("too_many_connections_ip");
        return cb(replies.tooManyConnectionsFromIp());
      }
      conns.set(session.id, { client, mails: 0, refused: 0 });
      cb();
    },

    onMailFrom(address, session, cb) {
      const conn = conns.get(session.id);
      if (conn && config.smtpMaxTransactionsPerConnection) {
        conn.mails++;
        if (conn.mails > config.smtpMaxTransactionsPerConnection) {
          count("too_many_transactions");
          return cb(replies.tooManyTransactions(config.smtpMaxTransactionsPerConnection));
        }
      }
      // The size the client declares (SIZE=), or a byte: refused at once when the budget is spent already.
      const args = address.args as Record<string, string | undefined> | false;
      const declared = args ? Number(args["SIZE"] ?? 0) : 0;
      if (!budget.fits(Number.isSafeInteger(declared) && declared > 0 ? declared : 1)) {
        count("over_budget");
        return cb(replies.overBudget());
      }
      txs.set(session.id, { startedAt: Date.now(), refused: 0 });
      cb();
    },

    onRcptTo(address, session, cb) {
      const tx = txs.get(session.id);
      const conn = conns.get(session.id);
      const verdict = checkRecipient(address.address, now());
      if (verdict !== "ok") {
        if (tx) tx.refused++;
        if (conn && ++conn.refused > MAX_REFUSED_RECIPIENTS) {
          log.warn(
            { sid: session.id, ip: session.remoteAddress },
            "connection closed: too many refused recipients",
          );
          count("too_many_refused");
          return cb(replies.tooManyRefused());
        }
      }
      switch (verdict) {
        case "bad_syntax":
          count("rejected_recipient");
          return cb(replies.badRecipient());
        case "relay":
          count("rejected_relay");
          return cb(replies.relayDenied());
        case "unknown_user":
          count("rejected_unknown_user");
          return cb(replies.unknownUser());
        case "ok":
          break;
      }
      if (config.smtpMaxRecipients && session.envelope.rcptTo.length >= config.smtpMaxRecipients) {
        count("too_many_recipients");
        return cb(replies.tooManyRecipients(config.smtpMaxRecipients));
      }
      cb();
    },

    onData(stream, session, cb) {
      readData(stream, config.smtpMaxMessageBytes, budget).then(({ raw, held, overBudget }) => {
        const tx = txs.get(session.id);
        txs.delete(session.id);
        const line = {
          sid: session.id,
          tx: session.transaction,
          ip: session.remoteAddress,
          rcpts: session.envelope.rcptTo.length,
          refused: tx?.refused ?? 0,
          bytes: stream.byteLength,
        };
        const ms = () => (tx ? Date.now() - tx.startedAt : undefined);
        if (overBudget) {
          log.warn({ ...line, code: 452, ms: ms() }, "smtp transaction deferred: receiving budget spent");
          count("over_budget");
          return cb(replies.overBudget());
        }
        if (!raw) {
          log.info({ ...line, code: 552, ms: ms() }, "smtp transaction refused: too big");
          count("too_large");
          return cb(replies.tooBig(config.smtpMaxMessageBytes));
        }
        const id = newMailId(now());
        spool
          .write({
            id,
            mailFrom: clean(envelopeAddress(session.envelope.mailFrom)),
            rcptTo: session.envelope.rcptTo.map((r) => clean(r.address)),
            remoteIp: session.remoteAddress,
            helo: session.hostNameAppearsAs ? clean(session.hostNameAppearsAs) : null,
            raw,
            sha256: hash("sha256", raw, "hex"),
            receivedAt: now(),
            enqueuedAt: now(),
          })
          .finally(() => budget.give(held))
          .then(
            () => {
              // A line per mail: not even built when its level is off.
              if (log.isLevelEnabled("info"))
                log.info({ ...line, mailId: id, code: 250, ms: ms() }, "smtp transaction accepted");
              count("accepted");
              cb(null, replies.accepted(id));
            },
            (err: unknown) => {
              const busy = err instanceof SpoolFullError;
              log.error(
                { ...line, code: 451, ms: ms(), err: errorMessage(err) },
                busy
                  ? "smtp transaction deferred: too many mails waiting for the database"
                  : "smtp transaction deferred: mail not stored",
              );
              count(
                busy
                  ? "tempfail_busy"
                  : err instanceof SpoolTimeoutError
                    ? "tempfail_timeout"
                    : "tempfail_store",
              );
              cb(busy ? replies.storageBusy() : replies.storageUnavailable());
            },
          );
      }, cb);
    },

    onClose(session) {
      const conn = conns.get(session.id);
      if (conn) {
        conns.delete(session.id);
        perClient.close(conn.client);
      }
      const tx = txs.get(session.id);
      txs.delete(session.id);
      // A transaction that never reached DATA (all recipients refused, or the client gave up) still gets its line.
      if (tx) {
        log.info(
          {
            sid: session.id,
            tx: session.transaction,
            ip: session.remoteAddress,
            refused: tx.refused,
            ms: Date.now() - tx.startedAt,
          },
          "smtp transaction abandoned",
        );
        count("abandoned");
      }
    },
  });
  server.on("error", (err) => log.error({ err: errorMessage(err) }, "smtp server error"));
  server.server.on("connection", coalesceWrites);
  greetAfter(server, config.smtpGreetingDelayMs);
  trustProxyFrom(server, config.smtpProxyFrom);

  return {
    listen() {
      return new Promise<AddressInfo>((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.server.once("error", onError);
        server.listen(config.smtpPort, config.smtpHost, () => {
          server.server.off("error", onError);
          const addr = server.server.address() as AddressInfo;
          log.info({ host: addr.address, port: addr.port, domains: [...domains] }, "smtp intake listening");
          resolve(addr);
        });
      });
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await spool.drain();
      await enqueuer.flush();
    },
  };
}

interface Received {
  /** The whole message; undefined when it went over the size limit or the budget. */
  raw?: Buffer;
  /** Bytes taken from the budget for it, to be given back once it is stored or refused. */
  held: number;
  overBudget: boolean;
}

/**
 * Reads a message to its end (whatever happens, so that the session can answer), keeping its chunks while it
 * is within the size limit and the receiving budget. Past either, what was kept is dropped at once.
 */
function readData(stream: SMTPServerDataStream, max: number, budget: ByteBudget): Promise<Received> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] | undefined = [];
    let size = 0;
    let held = 0;
    let overBudget = false;
    const drop = () => {
      chunks = undefined;
      budget.give(held);
      held = 0;
    };
    stream.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (!chunks) return;
      if (max && size > max) return drop();
      if (!budget.take(chunk.length)) {
        overBudget = true;
        return drop();
      }
      held += chunk.length;
      chunks.push(chunk);
    });
    stream.on("end", () => {
      if (!chunks || stream.sizeExceeded) {
        drop();
        return resolve({ held: 0, overBudget: overBudget && !stream.sizeExceeded && !(max && size > max) });
      }
      resolve({ raw: Buffer.concat(chunks, size), held, overBudget: false });
    });
    stream.on("error", (err) => {
      drop();
      reject(err);
    });
    // The client went away mid-message (smtp-server destroys the stream): its bytes go back all the same.
    stream.on("close", () => {
      if (!stream.readableEnded) drop();
    });
  });
}

function envelopeAddress(from: SMTPServerSession["envelope"]["mailFrom"]): string {
  return from ? from.address : "";
}

/** PostgreSQL text cannot hold NUL. */
function clean(s: string): string {
  return s.includes("\u0000") ? s.replaceAll("\u0000", "") : s;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Replies to pipelined commands leave together: writes made in one tick are corked and flushed at its end, in
 * one system call. smtp-server writes each reply on its own, so a pipelined MAIL, RCPT and DATA cost three
 * writes (on this kind of machine a write to a socket is a large part of a mail's CPU).
 */
function coalesceWrites(socket: Socket): void {
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  const uncork = () => socket.uncork();
  socket.write = ((...args: unknown[]) => {
    if (!socket.writableCorked) {
      socket.cork();
      process.nextTick(uncork);
    }
    return write(...args);
  }) as typeof socket.write;
}
