// The SMTP edge: a receive-only MX for the configured domains. Handlers stay thin: check, then hand over.
// A mail gets 250 only once its raw bytes are a committed PostgreSQL row (spool.ts); the job that processes
// it is enqueued after that, and whatever fails there is picked up by the sweeper.
//
// smtp-server notes: it waits a fixed 100 ms before its greeting (to catch clients that talk too soon); here the
// wait is REBOUND_SMTP_GREETING_DELAY_MS, none by default (greeting.ts says why). Reverse DNS is off (one lookup
// per connection, seconds without DNS); SMTPUTF8, 8BITMIME and PIPELINING are advertised; AUTH is disabled
// (nothing here relays).
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
import { createRateLimiter } from "./rate-limit.js";
import { replies } from "./replies.js";
import { createSpool, type SpoolOptions } from "./spool.js";
import type { TlsMaterial } from "./tls.js";

export type IntakeConfig = Pick<
  Config,
  | "domains"
  | "smtpHost"
  | "smtpPort"
  | "smtpHostname"
  | "smtpMaxMessageBytes"
  | "smtpMaxRecipients"
  | "smtpMaxConnections"
  | "smtpGreetingDelayMs"
  | "smtpRateLimitPerMinute"
  | "smtpSocketTimeoutMs"
  | "smtpProxyProtocol"
  | "smtpShutdownTimeoutMs"
>;

export interface IntakeDeps {
  config: IntakeConfig;
  db: Db;
  queue: Queue;
  logger: Logger;
  tls: TlsMaterial;
  now?: () => Date;
  /** Group-commit tuning (defaults suit PostgreSQL). */
  spool?: Omit<SpoolOptions, "onCommitted">;
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

export function createIntake(deps: IntakeDeps): Intake {
  const { config, db, queue } = deps;
  const log = deps.logger.child({ role: "intake" });
  const now = deps.now ?? (() => new Date());
  const domains = new Set(config.domains.map(normalizeDomain));
  const limiter = createRateLimiter(config.smtpRateLimitPerMinute);
  const txs = new Map<string, Tx>();
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
  const spool = createSpool(db, { ...deps.spool, onCommitted: (ids) => enqueuer.push(ids) });

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
    useProxy: config.smtpProxyProtocol,
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
      if (!limiter.take(session.remoteAddress, Date.now())) {
        log.warn({ sid: session.id, ip: session.remoteAddress }, "connection refused: rate limit");
        count("rate_limited");
        return cb(replies.rateLimited());
      }
      cb();
    },

    onMailFrom(_address, session, cb) {
      txs.set(session.id, { startedAt: Date.now(), refused: 0 });
      cb();
    },

    onRcptTo(address, session, cb) {
      const tx = txs.get(session.id);
      const at = address.address.lastIndexOf("@");
      if (at <= 0) {
        if (tx) tx.refused++;
        count("rejected_recipient");
        return cb(replies.badRecipient());
      }
      if (!domains.has(normalizeDomain(address.address.slice(at + 1)))) {
        if (tx) tx.refused++;
        count("rejected_relay");
        return cb(replies.relayDenied());
      }
      if (config.smtpMaxRecipients && session.envelope.rcptTo.length >= config.smtpMaxRecipients) {
        count("too_many_recipients");
        return cb(replies.tooManyRecipients(config.smtpMaxRecipients));
      }
      cb();
    },

    onData(stream, session, cb) {
      readData(stream, config.smtpMaxMessageBytes).then((raw) => {
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
          .then(
            () => {
              // A line per mail: not even built when its level is off.
              if (log.isLevelEnabled("info"))
                log.info({ ...line, mailId: id, code: 250, ms: ms() }, "smtp transaction accepted");
              count("accepted");
              cb(null, replies.accepted(id));
            },
            (err: unknown) => {
              log.error(
                { ...line, code: 451, ms: ms(), err: errorMessage(err) },
                "smtp transaction deferred: mail not stored",
              );
              count("tempfail_store");
              cb(replies.storageUnavailable());
            },
          );
      }, cb);
    },

    onClose(session) {
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

/** The whole message, or undefined when it went over the size limit (read to its end all the same). */
function readData(stream: SMTPServerDataStream, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (!max || size <= max) chunks.push(chunk);
    });
    stream.on("end", () =>
      resolve(stream.sizeExceeded || (max && size > max) ? undefined : Buffer.concat(chunks, size)),
    );
    stream.on("error", reject);
  });
}

function envelopeAddress(from: SMTPServerSession["envelope"]["mailFrom"]): string {
  return from ? from.address : "";
}

/** PostgreSQL text cannot hold NUL. */
function clean(s: string): string {
  return s.includes("\u0000") ? s.replaceAll("\u0000", "") : s;
}

function normalizeDomain(d: string): string {
  return d.trim().toLowerCase().replace(/\.$/, "");
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
