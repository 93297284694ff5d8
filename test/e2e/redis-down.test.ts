// Redis down: the MX still answers 250 (the mail is a committed row), and the mail is processed once Redis is
// back (the sweeper enqueues what was left pending). Uses a private redis-server, never the shared one.
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { startApp, type App } from "../../src/main.js";
import { openDb } from "../../src/store/db.js";
import { getMail } from "../../src/store/mails.js";
import { TEST_DATABASE_URL, uniqueSchema } from "../helpers/db.js";
import { freePort, startRedis, stopRedis } from "../helpers/redis.js";
import { sendOne } from "../helpers/smtp.js";
import { BOUNCE_DOMAIN, e2eMail, verp, VERP_KEYS_ENV } from "./fixtures.js";
import { until } from "../helpers/until.js";

const schema = uniqueSchema("e2e_redis");
let app: App | undefined;
let redis: ChildProcess | undefined;

afterAll(async () => {
  await app?.close();
  if (redis) await stopRedis(redis);
  const h = await openDb({ databaseUrl: TEST_DATABASE_URL });
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(h.db);
  await h.close();
});

describe("the MX while Redis is down", () => {
  it("still answers 250 and processes the mail once Redis is back", async () => {
    const redisPort = await freePort();
    redis = await startRedis(redisPort);
    const config = loadConfig(
      {
        databaseUrl: TEST_DATABASE_URL,
        databaseSchema: schema,
        redisUrl: `redis://127.0.0.1:${redisPort}`,
        queuePrefix: `t-down-${randomBytes(4).toString("hex")}`,
        domains: BOUNCE_DOMAIN,
        smtpHost: "127.0.0.1",
        smtpPort: 0,
        verpKeys: VERP_KEYS_ENV,
        sweepIntervalMs: 200,
        logLevel: "silent",
      },
      {},
    );
    app = await startApp(config, ["intake", "worker"], { logger: createLogger("silent") });
    const port = app.smtpPort!;
    const db = app.db;

    const send = async (rcpt: string) => {
      const rp = verp(rcpt);
      const reply = await sendOne(port, {
        from: "",
        to: [rp],
        data: e2eMail("dsn-exim-user-unknown", { recipient: rcpt, returnPath: rp }),
      });
      expect(reply.code, reply.text).toBe(250);
      return /queued as (\w+)/.exec(reply.text)![1]!;
    };
    const processed = (id: string) =>
      until(async () => (await getMail(db, id))?.status === "processed", 30_000);

    // Redis up: the normal path.
    await processed(await send("up@example.org"));

    // Redis gone: the mail is accepted and stays pending, not enqueued.
    await stopRedis(redis);
    redis = undefined;
    const id = await send("while-down@example.org");
    await new Promise((r) => setTimeout(r, 500));
    expect(await getMail(db, id)).toMatchObject({ status: "pending", enqueued_at: null });

    // Redis back (empty): the sweeper enqueues the mail and the worker processes it.
    redis = await startRedis(redisPort);
    await processed(id);
    const s = await db
      .selectFrom("suppressions")
      .selectAll()
      .where("address", "=", "while-down@example.org")
      .execute();
    expect(s).toMatchObject([{ class: "hard", tenant: "acme" }]);
  });
});
