// Retention on a real PostgreSQL: events, mail metadata, logs, DMARC/TLS/authentication failure reports (and ESP
// event ids) past their settings go, nothing else does; two
// processes may run it at once; and a process running the API role alone runs it too.
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { testHash as hashAddress } from "./helpers/db.js";
import { createLogger } from "../src/log.js";
import { startApp } from "../src/main.js";
import { startRetention } from "../src/retention.js";
import { insertEvent } from "../src/store/events.js";
import { insertMail } from "../src/store/mails.js";
import { createTestDb, TEST_DATABASE_URL, type TestDb } from "./helpers/db.js";
import { until } from "./helpers/until.js";

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => t?.drop());

const NOW = new Date("2026-06-01T00:00:00Z");
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000);

async function mail(
  receivedAt: Date,
  status: "processed" | "pending" | "duplicate" | "failed",
): Promise<string> {
  const id = randomUUID();
  await insertMail(t.db, {
    id,
    mailFrom: "",
    rcptTo: ["x@bounces.example.net"],
    raw: Buffer.from("raw"),
    sha256: randomUUID(),
    receivedAt,
  });
  await t.db.updateTable("inbound_mails").set({ status }).where("id", "=", id).execute();
  return id;
}

async function event(occurredAt: Date, address: string, mailId: string | null = null): Promise<void> {
  await insertEvent(t.db, {
    mailId,
    source: "test",
    tenant: "acme",
    stream: "marketing",
    address,
    addressHash: hashAddress(address),
    addressOriginal: address,
    recipientDomain: "example.com",
    kind: "bounce",
    reason: "userunknown",
    class: "hard",
    rule: null,
    parser: null,
    verified: true,
    decision: null,
    occurredAt,
  });
}

const count = async (
  table: "events" | "inbound_mails" | "suppression_log" | "webhook_deliveries" | "outbox",
) =>
  Number(
    (await sql<{ n: string }>`select count(*)::text as n from ${sql.table(table)}`.execute(t.db)).rows[0]!.n,
  );

describe("retention", () => {
  it("deletes events, done mails, suppression log rows, DMARC/TLS/authentication failure reports (with their rows) and ESP event ids past their settings, in two processes at once, and nothing else", async () => {
    const oldMail = await mail(daysAgo(100), "processed");
    await mail(daysAgo(100), "duplicate");
    const oldPending = await mail(daysAgo(100), "pending");
    const oldFailed = await mail(daysAgo(100), "failed");
    const newMail = await mail(daysAgo(1), "processed");
    for (let i = 0; i < 30; i++) await event(daysAgo(40), `old${i}@example.com`, i === 0 ? oldMail : null);
    await event(daysAgo(5), "recent@example.com", newMail);
    await sql`insert into suppression_log (tenant, stream, address_hash, address, action, at)
              values ('acme', 'm', 'h1', 'a@example.com', 'added', ${daysAgo(400)}),
                     ('acme', 'm', 'h2', 'b@example.com', 'added', ${daysAgo(2)})`.execute(t.db);
    await t.db
      .insertInto("esp_events")
      .values([
        { tenant: "acme", provider: "sendgrid", event_id: "old", received_at: daysAgo(31) },
        { tenant: "acme", provider: "sendgrid", event_id: "recent", received_at: daysAgo(2) },
      ])
      .execute();
    for (const [id, days] of [
      ["old", 300],
      ["recent", 3],
    ] as const) {
      const r = await sql<{
        id: string;
      }>`insert into dmarc_reports (tenant, source, report_id, org_name, received_at)
        values ('acme', 'test', ${id}, 'org', ${daysAgo(days)}) returning id::text`.execute(t.db);
      await sql`insert into dmarc_records (report, tenant, org_name, domain, date_begin, date_end, source_ip, count,
          header_from, reasons, dkim_results, spf_results)
        values (${r.rows[0]!.id}, 'acme', 'org', 'example.com', ${daysAgo(days)}, ${daysAgo(days)}, '192.0.2.1', 1,
          'example.com', '[]', '[]', '[]')`.execute(t.db);
      await sql`insert into tls_reports (tenant, source, report_id, org_name, received_at)
        values ('acme', 'test', ${id}, 'org', ${daysAgo(days)})`.execute(t.db);
      await sql`insert into auth_failure_reports (tenant, occurred_at, domain, details)
        values ('acme', ${daysAgo(days)}, ${`${id}.example.com`}, '{}')`.execute(t.db);
    }
    const config = {
      rawRetentionDays: 0,
      eventRetentionDays: 30,
      mailRetentionDays: 90,
      logRetentionDays: 365,
      rollupHourlyRetentionDays: 0,
      rollupDailyRetentionDays: 0,
      espEventRetentionDays: 30,
      dmarcRetentionDays: 200,
      tlsReportRetentionDays: 200,
    };
    const logger = createLogger("silent");
    const [a, b] = [0, 1].map(() =>
      startRetention({ db: t.db, config, logger, now: () => NOW }, { intervalMs: 3_600_000 }),
    );
    try {
      // A pass asked for while one runs is that pass (one per process at a time).
      expect(a!.run()).toBe(a!.run());
      const passes = await Promise.all([a!.run(), b!.run()]);
      // Whatever the split between the two processes, each row went once.
      const total = (k: keyof (typeof passes)[0]) => passes.reduce((s, p) => s + p[k], 0);
      expect(total("eventsDeleted")).toBe(30);
      expect(total("mailsDeleted")).toBe(2);
      expect(total("logRowsDeleted")).toBe(1);
      expect(total("espClaimsDeleted")).toBe(1);
      expect(total("dmarcReportsDeleted")).toBe(2); // a DMARC report and an authentication failure report
      expect(total("tlsReportsDeleted")).toBe(1);
    } finally {
      a!.stop();
      b!.stop();
    }
    expect(await count("events")).toBe(1);
    const mails = await t.db.selectFrom("inbound_mails").select("id").execute();
    expect(new Set(mails.map((m) => m.id))).toEqual(new Set([oldPending, oldFailed, newMail]));
    expect(await t.db.selectFrom("suppression_log").select("address").execute()).toEqual([
      { address: "b@example.com" },
    ]);
    expect(await t.db.selectFrom("esp_events").select("event_id").execute()).toEqual([
      { event_id: "recent" },
    ]);
    expect(await t.db.selectFrom("dmarc_reports").select("report_id").execute()).toEqual([
      { report_id: "recent" },
    ]);
    expect(await t.db.selectFrom("dmarc_records").select("date_begin").execute()).toEqual([
      { date_begin: daysAgo(3) },
    ]);
    expect(await t.db.selectFrom("tls_reports").select("report_id").execute()).toEqual([
      { report_id: "recent" },
    ]);
    expect(await t.db.selectFrom("auth_failure_reports").select("domain").execute()).toEqual([
      { domain: "recent.example.com" },
    ]);
  });

  it("runs in a process that runs the API role alone", async () => {
    await event(daysAgo(3_000), "ancient@example.com");
    const config = loadConfig(
      {
        databaseUrl: TEST_DATABASE_URL,
        databaseSchema: t.schema,
        httpHost: "127.0.0.1",
        httpPort: 0,
        eventRetentionDays: 1_000,
        logLevel: "silent",
      },
      {},
    );
    const app = await startApp(config, ["api"], { logger: createLogger("silent") });
    try {
      await until(
        async () =>
          (
            await t.db
              .selectFrom("events")
              .select("id")
              .where("address", "=", "ancient@example.com")
              .execute()
          ).length === 0,
        { ms: 20_000, what: "the API process to purge the old event" },
      );
      expect(
        await t.db
          .selectFrom("events")
          .select("address")
          .where("address", "=", "recent@example.com")
          .execute(),
      ).toHaveLength(1);
    } finally {
      await app.close();
    }
  });
});
