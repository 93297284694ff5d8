// What the IMAP and POP3 ingestion tests share: a bounce as a mailbox holds it, a running intake and worker (its
// own schema) that such a bounce taken from a mailbox goes through to a suppression, and a `rebound ingest
// imap|pop3` process killed with SIGKILL in the middle of a backlog.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "kysely";
import { expect } from "vitest";
import { loadConfig } from "../../src/config.js";
import type { Logger } from "../../src/log.js";
import { startApp, type App } from "../../src/main.js";
import { openDb } from "../../src/store/db.js";
import type { Db } from "../../src/store/db.js";
import { BOUNCE_DOMAIN, e2eMail, verp, VERP_KEYS_ENV } from "../e2e/fixtures.js";
import { TEST_DATABASE_URL, uniqueSchema, type TestDb } from "./db.js";
import { until } from "./until.js";

/** A bounce of `recipient` as a mailbox holds it: delivered to its signed return path (Delivered-To). */
export function mailboxBounce(recipient: string): Buffer {
  const rp = verp(recipient);
  return Buffer.concat([
    Buffer.from(`Delivered-To: ${rp}\r\n`),
    e2eMail("dsn-exim-user-unknown", { recipient, returnPath: rp }),
  ]);
}

/** What an ingestion takes: the app's database, a logger, a clock and a size limit. */
export interface MailboxDeps {
  db: Db;
  logger: Logger;
  now: () => Date;
  maxMessageBytes: number;
}

/**
 * A bounce of gone@example.org put in a mailbox (`put`) and taken by `ingest` beside a running intake and worker
 * ends as its suppression (acme's marketing stream, userunknown).
 */
export async function expectBounceSuppressed(
  logger: Logger,
  put: (mail: Buffer) => Promise<void>,
  ingest: (deps: MailboxDeps) => Promise<unknown>,
): Promise<void> {
  await withIntakeAndWorker(logger, async (app) => {
    await put(mailboxBounce("gone@example.org"));
    await ingest({ db: app.db, logger, now: () => new Date(), maxMessageBytes: 1e7 });
    expect(await firstSuppression(app.db)).toEqual({
      address: "gone@example.org",
      tenant: "acme",
      stream: "marketing",
      reason: "userunknown",
    });
  });
}

/** Run `f` beside a running intake and worker on a schema of their own, dropped after. */
export async function withIntakeAndWorker(logger: Logger, f: (app: App) => Promise<void>): Promise<void> {
  const schema = uniqueSchema("mailbox");
  const app = await startApp(
    loadConfig(
      {
        databaseUrl: TEST_DATABASE_URL,
        databaseSchema: schema,
        domains: BOUNCE_DOMAIN,
        smtpHost: "127.0.0.1",
        smtpPort: 0,
        verpKeys: VERP_KEYS_ENV,
        sweepIntervalMs: 200,
        logLevel: "silent",
      },
      {},
    ),
    ["intake", "worker"],
    { logger },
  );
  try {
    await f(app);
  } finally {
    await app.close();
    const h = await openDb({ databaseUrl: TEST_DATABASE_URL });
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(h.db);
    await h.close();
  }
}

/** The first suppression of the app's database, once the worker has made it. */
export const firstSuppression = (db: Db) =>
  until(() =>
    db.selectFrom("suppressions").select(["address", "tenant", "stream", "reason"]).executeTakeFirst(),
  );

/** Mails in the spool. */
export async function spoolCount(t: TestDb): Promise<number> {
  const r = await t.db
    .selectFrom("inbound_mails")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * Run `rebound ingest <protocol> --accounts FILE` (the account's settings written to `dir`) in a process of its own
 * on the test's schema, and kill it with SIGKILL once `killAt` mails are in the spool. Returns how many were then.
 */
export async function killMidBacklog(o: {
  protocol: "imap" | "pop3";
  account: Record<string, unknown>;
  t: TestDb;
  dir: string;
  killAt?: number;
}): Promise<number> {
  const file = join(o.dir, `${o.protocol}-accounts.json`);
  writeFileSync(file, JSON.stringify([o.account]));
  const cli = fileURLToPath(new URL("./rebound-cli.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", cli, "ingest", o.protocol, "--accounts", file], {
    env: {
      ...process.env,
      DATABASE_URL: TEST_DATABASE_URL,
      REBOUND_DATABASE_SCHEMA: o.t.schema,
      REBOUND_LOG_LEVEL: "silent",
    },
    stdio: "ignore",
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  await until(async () => (await spoolCount(o.t)) >= (o.killAt ?? 100), 60_000, 20);
  child.kill("SIGKILL");
  await exited;
  return spoolCount(o.t);
}
