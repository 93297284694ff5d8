import { createHash, randomBytes } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { DEFAULT_POLICY } from "../../src/core/policy-config.js";
import { newMailId } from "../../src/intake/mail-id.js";
import { createLogger } from "../../src/log.js";
import { createMemoryQueue } from "../../src/queue/memory.js";
import { getMail, insertMail } from "../../src/store/mails.js";
import { getSuppressions, upsertSuppression } from "../../src/store/suppressions.js";
import { startMailWorker } from "../../src/worker/runner.js";
import { startRetention } from "../../src/retention.js";
import { e2eMail, verp, VERP_KEYS_ENV } from "../e2e/fixtures.js";
import { until } from "../helpers/until.js";
import { createTestDb, type TestDb, withHash, testHash } from "../helpers/db.js";
import { withPoisonedAddress } from "../helpers/poison.js";
import type { Queue } from "../../src/queue/types.js";

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => t?.drop());

const config = loadConfig({ verpKeys: VERP_KEYS_ENV, rawRetentionDays: 30, workerConcurrency: 2 }, {});

async function spool(raw: Buffer, receivedAt = new Date()): Promise<string> {
  const id = newMailId(receivedAt);
  await insertMail(t.db, {
    id,
    mailFrom: "",
    rcptTo: ["x@bounces.example.com"],
    raw,
    sha256: createHash("sha256").update(raw).digest("hex"),
    receivedAt,
  });
  return id;
}

const startWorker = (queue: Queue, cfg = config) =>
  startMailWorker({
    db: t.db,
    config: cfg,
    policy: DEFAULT_POLICY,
    hashAddress: testHash,
    queue,
    logger: createLogger("silent"),
  });

describe("the mail worker", () => {
  it("processes queued mails, and keeps one that fails on every try as failed with its error and its tries counted", async () => {
    const queue = createMemoryQueue({ attempts: 3, backoffMs: 5 });
    const worker = startWorker(queue);
    const rcpt = "ok@example.org";
    const good = await spool(e2eMail("dsn-exim-user-unknown", { recipient: rcpt, returnPath: verp(rcpt) }));
    await queue.add("process-mail", { mailId: good }, { jobId: good });
    await until(async () => (await getMail(t.db, good))?.status === "processed");

    // A real failure: the outbox table is gone, so the transaction of a bounce cannot commit.
    await sql`alter table outbox rename to outbox_away`.execute(t.db);
    try {
      const r2 = `bad-${randomBytes(2).toString("hex")}@example.org`;
      const bad = await spool(e2eMail("dsn-exim-user-unknown", { recipient: r2, returnPath: verp(r2) }));
      await queue.add("process-mail", { mailId: bad }, { jobId: bad });
      const row = await until(async () => {
        const m = await getMail(t.db, bad);
        return m?.status === "failed" ? m : undefined;
      });
      expect(row.error).toMatch(/outbox/);
      expect(row.attempts).toBe(3);
      expect(row.raw).not.toBeNull();
    } finally {
      await sql`alter table outbox_away rename to outbox`.execute(t.db);
    }
    await worker.stop();
    await queue.close();
  });

  it("processes the mails of concurrent jobs in batches, and when a batch fails only its bad mail fails", async () => {
    const queue = createMemoryQueue({ attempts: 2, backoffMs: 5 });
    const batched = loadConfig(
      { verpKeys: VERP_KEYS_ENV, rawRetentionDays: 30, workerConcurrency: 16, workerBatchSize: 8 },
      {},
    );
    const poison = "poison@example.org";
    await withPoisonedAddress(t.db, poison, async () => {
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) {
        const rcpt = i === 5 ? poison : `batch${i}@example.org`;
        ids.push(await spool(e2eMail("dsn-exim-user-unknown", { recipient: rcpt, returnPath: verp(rcpt) })));
      }
      // Enqueued before the worker starts, so that its first take is a full batch.
      for (const id of ids) await queue.add("process-mail", { mailId: id }, { jobId: id });
      const worker = startWorker(queue, batched);
      const rows = await until(async () => {
        const all = await Promise.all(ids.map((id) => getMail(t.db, id)));
        return all.every((m) => m?.status === "processed" || m?.status === "failed") ? all : undefined;
      });
      expect(rows.map((m) => m!.status)).toEqual(ids.map((_, i) => (i === 5 ? "failed" : "processed")));
      expect(rows[5]!.error).toMatch(/poisoned event/);
      // Rows written by one transaction share its id (xmin): some mails were processed together (those of the
      // batch that held the poisoned mail went again one by one).
      const processed = ids.filter((_, i) => i !== 5);
      const xids = await sql<{
        xid: string;
      }>`select xmin::text as xid from inbound_mails where id in (${sql.join(processed)})`.execute(t.db);
      expect(new Set(xids.rows.map((r) => r.xid)).size).toBeLessThan(processed.length);
      await worker.stop();
    });
    await queue.close();
  });

  it("processes an intake batch job together, and retries a mail that fails in it in a job of its own until its tries run out", async () => {
    const queue = createMemoryQueue({ attempts: 3, backoffMs: 5 });
    const failed: string[] = [];
    const watched: Queue = {
      ...queue,
      addBulk: async (name, jobs) => {
        if (name === "process-mail")
          for (const j of jobs) failed.push((j.payload as { mailId: string }).mailId);
        return queue.addBulk(name, jobs);
      },
    };
    const poison = "poison-batch@example.org";
    await withPoisonedAddress(t.db, poison, async () => {
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const rcpt = i === 2 ? poison : `job${i}@example.org`;
        ids.push(await spool(e2eMail("dsn-exim-user-unknown", { recipient: rcpt, returnPath: verp(rcpt) })));
      }
      const worker = startWorker(watched);
      await watched.add("process-mails", { mailIds: ids }, { jobId: `batch-${ids[0]!}` });
      const rows = await until(async () => {
        const all = await Promise.all(ids.map((id) => getMail(t.db, id)));
        return all.every((m) => m?.status === "processed" || m?.status === "failed") ? all : undefined;
      });
      expect(rows.map((m) => m!.status)).toEqual(ids.map((_, i) => (i === 2 ? "failed" : "processed")));
      // Its own job took the tries it had left: three in all, as for any job.
      expect(rows[2]).toMatchObject({ attempts: 3 });
      expect(rows[2]!.error).toMatch(/poisoned event/);
      expect(failed).toEqual([ids[2]]);
      await worker.stop();
    });
    await queue.close();
  });

  it("drops raw mail past its retention and keeps the metadata", async () => {
    const queue = createMemoryQueue();
    const old = await spool(Buffer.from("Subject: old\r\n\r\nx\r\n"), new Date(Date.now() - 40 * 86_400_000));
    const recent = await spool(
      Buffer.from("Subject: recent\r\n\r\nx\r\n"),
      new Date(Date.now() - 2 * 86_400_000),
    );
    const worker = startWorker(queue);
    await worker.purge();
    const [o, r] = [await getMail(t.db, old), await getMail(t.db, recent)];
    expect(o).toMatchObject({ raw: null, size: "Subject: old\r\n\r\nx\r\n".length });
    expect(o!.raw_purged_at).toBeInstanceOf(Date);
    expect(r!.raw).not.toBeNull();
    await worker.stop();
    await queue.close();
  });

  it("deletes suppressions past their expiry on the retention timer of every role, and logs them as expired", async () => {
    const at = new Date(Date.now() - 10 * 86_400_000);
    const base = { tenant: "acme", stream: "marketing", reason: "mailboxfull", class: "soft", at } as const;
    await upsertSuppression(
      t.db,
      withHash({
        ...base,
        address: "gone@example.org",
        source: "soft_escalation",
        expiresAt: new Date(Date.now() - 1000),
      }),
    );
    await upsertSuppression(
      t.db,
      withHash({
        ...base,
        address: "kept@example.org",
        source: "soft_escalation",
        expiresAt: new Date(Date.now() + 86_400_000),
      }),
    );
    // The first run is at start.
    const retention = startRetention({
      db: t.db,
      config: {
        rawRetentionDays: 0,
        eventRetentionDays: 0,
        mailRetentionDays: 0,
        logRetentionDays: 0,
        rollupHourlyRetentionDays: 0,
        rollupDailyRetentionDays: 0,
        espEventRetentionDays: 30,
        dmarcRetentionDays: 0,
        tlsReportRetentionDays: 0,
      },
      logger: createLogger("silent"),
    });
    await until(async () => (await getSuppressions(t.db, "acme", testHash("gone@example.org"))).length === 0);
    expect(await getSuppressions(t.db, "acme", testHash("kept@example.org"))).toHaveLength(1);
    const log = await t.db
      .selectFrom("suppression_log")
      .select("action")
      .where("address", "=", "gone@example.org")
      .orderBy("id")
      .execute();
    expect(log.map((l) => l.action)).toEqual(["added", "expired"]);
    retention.stop();
  });
});
