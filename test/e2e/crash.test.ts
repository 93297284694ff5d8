// kill -9 in the middle of a load: every mail that got 250 is stored, and processed after a restart.
// `rebound start` runs as a child process on PostgreSQL (own schema) and Redis (own key prefix).
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { openDb, type DbHandle } from "../../src/store/db.js";
import { TEST_DATABASE_URL, TEST_REDIS_URL, uniqueSchema } from "../helpers/db.js";
import { dropQueueKeys } from "../helpers/redis.js";
import { SmtpClient } from "../helpers/smtp.js";
import { BOUNCE_DOMAIN, e2eMail, verp, VERP_KEYS_ENV } from "./fixtures.js";
import { until } from "../helpers/until.js";

const TOTAL = 5_000;
const CONNECTIONS = 50;
const KILL_AFTER = 1_500;

const cli = fileURLToPath(new URL("../helpers/rebound-cli.ts", import.meta.url));
const cwd = fileURLToPath(new URL("../..", import.meta.url));
const schema = uniqueSchema("e2e_crash");

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function startRebound(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", cli, "start", "--role", "intake,worker"], {
    cwd,
    stdio: ["ignore", "ignore", "pipe"],
    env: {
      ...process.env,
      DATABASE_URL: TEST_DATABASE_URL,
      REBOUND_DATABASE_SCHEMA: schema,
      REDIS_URL: TEST_REDIS_URL,
      REBOUND_QUEUE_PREFIX: `t-crash-${schema}`,
      REBOUND_DOMAINS: BOUNCE_DOMAIN,
      REBOUND_SMTP_HOST: "127.0.0.1",
      REBOUND_SMTP_PORT: String(port),
      REBOUND_SMTP_RATE_LIMIT_PER_MINUTE: "0",
      // Every lane connects from 127.0.0.1.
      REBOUND_SMTP_MAX_CONNECTIONS_PER_IP: "0",
      REBOUND_VERP_KEYS: VERP_KEYS_ENV,
      REBOUND_QUEUE_STALLED_MS: "2000",
      REBOUND_SWEEP_INTERVAL_MS: "500",
      REBOUND_WORKER_CONCURRENCY: "16",
      // The classifier's deadline is not what this test is about: under the whole suite's load a fresh classifier
      // thread can be starved past the default 2 s, and the mail would be kept as failed (classify_timeout).
      REBOUND_CLASSIFY_TIMEOUT_MS: "60000",
      REBOUND_LOG_LEVEL: "warn",
    },
  });
  await new Promise<void>((resolve, reject) => {
    let err = "";
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      if (err.includes("rebound: running")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`rebound exited (${code}): ${err.slice(-2000)}`)));
  });
  return child;
}

let child: ChildProcess | undefined;
let handle: DbHandle | undefined;

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
  await handle?.close();
  const h = await openDb({ databaseUrl: TEST_DATABASE_URL });
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(h.db);
  await h.close();
  await dropQueueKeys(`t-crash-${schema}`);
});

describe("a crash under load", () => {
  it(
    "loses no mail that got 250: all stored, all processed after the restart",
    { timeout: 300_000 },
    async () => {
      const port = await freePort();
      child = await startRebound(port);

      const accepted: string[] = [];
      let started = 0;
      let killed = false;
      let restarted: Promise<void> | undefined;

      const crashAndRestart = async () => {
        const exited = new Promise((r) => child!.once("exit", r));
        child!.kill("SIGKILL");
        await exited;
        child = await startRebound(port);
      };

      async function lane(n: number) {
        let client: SmtpClient | undefined;
        while (started < TOTAL) {
          try {
            if (!client || client.closed) {
              client = (await SmtpClient.connect(port)).client;
              if ((await client.command(`EHLO lane${n}.test`)).code !== 250) throw new Error("no EHLO");
            }
            const i = started++;
            const rcpt = `user${i}-${n}@example.org`;
            const rp = verp(rcpt);
            const reply = await client.sendPipelined({
              from: "",
              to: rp,
              // One in ten a DSN (the whole path to a suppression); the rest short auto-replies (cheaper to process).
              data: e2eMail(i % 10 === 0 ? "dsn-exim-user-unknown" : "vacation-de", {
                recipient: rcpt,
                returnPath: rp,
              }),
            });
            if (reply.code === 250) accepted.push(/queued as (\w+)/.exec(reply.text)![1]!);
            if (!killed && accepted.length >= KILL_AFTER) {
              killed = true;
              restarted = crashAndRestart();
            }
          } catch {
            client?.destroy();
            client = undefined;
            await (restarted ?? new Promise((r) => setTimeout(r, 100)));
            await new Promise((r) => setTimeout(r, 50));
          }
        }
        await client?.quit();
      }

      await Promise.all(Array.from({ length: CONNECTIONS }, (_, n) => lane(n)));
      await restarted;
      expect(killed).toBe(true);
      expect(started).toBeGreaterThanOrEqual(TOTAL);
      expect(accepted.length).toBeGreaterThan(KILL_AFTER);

      handle = await openDb({ databaseUrl: TEST_DATABASE_URL, schema });
      const db = handle.db;
      const stored = await db
        .selectFrom("inbound_mails")
        .select("id")
        .where(sql<boolean>`id = any(${accepted})`)
        .execute();
      expect(stored.length).toBe(accepted.length);

      // Every accepted mail reaches an end (processed, duplicate or failed); then none may have failed.
      await until(
        async () => {
          const r = await db
            .selectFrom("inbound_mails")
            .select((eb) => eb.fn.countAll<string>().as("n"))
            .where(sql<boolean>`id = any(${accepted})`)
            .where("status", "in", ["processed", "duplicate", "failed"])
            .executeTakeFirstOrThrow();
          return Number(r.n) === accepted.length;
        },
        { ms: 200_000, everyMs: 500, what: "every accepted mail processed, a duplicate, or failed" },
      );
      const failed = await db
        .selectFrom("inbound_mails")
        .select(["id", "error"])
        .where("status", "=", "failed")
        .execute();
      expect(failed).toEqual([]);
    },
  );
});
