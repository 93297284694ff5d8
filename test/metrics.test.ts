// createMetrics(): a registry per call (nothing global), backlog gauges read from a real PostgreSQL schema at
// scrape time, and the bare metrics listener over real HTTP.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearerMatches, createMetrics, providerLabel, startMetricsServer } from "../src/metrics.js";
import { insertMail, setMailStatus } from "../src/store/mails.js";
import { createTestDb, type TestDb } from "./helpers/db.js";

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => {
  await t?.drop();
});

function line(text: string, prefix: string): string | undefined {
  return text.split("\n").find((l) => l.startsWith(prefix));
}

describe("createMetrics", () => {
  it("makes registries that count independently of each other", async () => {
    const a = createMetrics({ processMetrics: false });
    const b = createMetrics({ processMetrics: false });
    a.smtpTransactions.inc({ outcome: "accepted" });
    a.smtpTransactions.inc({ outcome: "accepted" });
    b.smtpTransactions.inc({ outcome: "too_large" });
    const ta = await a.render();
    const tb = await b.render();
    expect(line(ta, 'rebound_smtp_transactions_total{outcome="accepted"}')).toMatch(/ 2$/);
    expect(line(ta, 'rebound_smtp_transactions_total{outcome="too_large"}')).toBeUndefined();
    expect(line(tb, 'rebound_smtp_transactions_total{outcome="too_large"}')).toMatch(/ 1$/);
    expect(line(tb, 'rebound_smtp_transactions_total{outcome="accepted"}')).toBeUndefined();
    expect(ta).not.toContain("rebound_process_cpu");
  });

  it("shows every lookup counted by countLookup once in rebound_lookups_total, however often it is scraped", async () => {
    const m = createMetrics({ processMetrics: false });
    for (let i = 0; i < 5; i++) m.countLookup("socketmap", "not_suppressed");
    m.countLookup("policy", "suppressed");
    const first = await m.render();
    expect(line(first, 'rebound_lookups_total{server="socketmap",outcome="not_suppressed"}')).toMatch(/ 5$/);
    expect(line(first, 'rebound_lookups_total{server="policy",outcome="suppressed"}')).toMatch(/ 1$/);
    expect(line(first, 'rebound_lookups_total{server="policy",outcome="error"}')).toBeUndefined();
    // Scraped again with nothing new: the same totals; then more lookups add to them.
    expect(
      line(await m.render(), 'rebound_lookups_total{server="socketmap",outcome="not_suppressed"}'),
    ).toMatch(/ 5$/);
    m.countLookup("socketmap", "not_suppressed");
    m.countLookup("policy", "error");
    const third = await m.render();
    expect(line(third, 'rebound_lookups_total{server="socketmap",outcome="not_suppressed"}')).toMatch(/ 6$/);
    expect(line(third, 'rebound_lookups_total{server="policy",outcome="error"}')).toMatch(/ 1$/);
    expect(line(third, 'rebound_lookups_total{server="policy",outcome="suppressed"}')).toMatch(/ 1$/);
  });

  it("labels blocks at a domain no provider claims as `other` (bounded series)", () => {
    expect(providerLabel("google")).toBe("google");
    expect(providerLabel("mail.example.net")).toBe("other");
  });

  it("reads the mail backlog from the database on each scrape", async () => {
    const m = createMetrics({ processMetrics: false });
    expect(await m.render()).not.toMatch(/^rebound_mails_backlog\{/m);
    m.watchDb(t.db);
    const mail = (id: string) => ({
      id,
      mailFrom: "",
      rcptTo: ["b@bounces.example.com"],
      raw: Buffer.from(`Subject: ${id}\r\n\r\nx`),
      sha256: id,
    });
    await insertMail(t.db, mail("m1"));
    await insertMail(t.db, mail("m2"));
    await insertMail(t.db, mail("m3"));
    expect(line(await m.render(), 'rebound_mails_backlog{status="pending"}')).toMatch(/ 3$/);
    await setMailStatus(t.db, "m1", "failed", { error: "boom" });
    await setMailStatus(t.db, "m2", "processed");
    const text = await m.render();
    expect(line(text, 'rebound_mails_backlog{status="pending"}')).toMatch(/ 1$/);
    expect(line(text, 'rebound_mails_backlog{status="failed"}')).toMatch(/ 1$/);
    expect(line(text, 'rebound_mails_backlog{status="processing"}')).toMatch(/ 0$/);
    expect(line(text, 'rebound_webhook_deliveries_backlog{status="pending"}')).toMatch(/ 0$/);
  });
});

describe("startMetricsServer", () => {
  it("serves GET /metrics, with a bearer token when one is set, and nothing else", async () => {
    const m = createMetrics({ processMetrics: false });
    m.webhookDeliveries.inc({ result: "delivered" });
    const open = await startMetricsServer(m, { host: "127.0.0.1", port: 0 });
    const locked = await startMetricsServer(m, { host: "127.0.0.1", port: 0, token: "s3cret" });
    try {
      const res = await fetch(`http://127.0.0.1:${open.port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('rebound_webhook_deliveries_total{result="delivered"} 1');
      expect((await fetch(`http://127.0.0.1:${open.port}/other`)).status).toBe(404);
      const base = `http://127.0.0.1:${locked.port}/metrics`;
      expect((await fetch(base)).status).toBe(401);
      expect((await fetch(base, { headers: { authorization: "Bearer s3cre" } })).status).toBe(401);
      expect((await fetch(base, { headers: { authorization: "Bearer s3cret" } })).status).toBe(200);
    } finally {
      await open.close();
      await locked.close();
    }
  });

  it("matches bearer tokens exactly", () => {
    expect(bearerMatches("Bearer abc", "abc")).toBe(true);
    expect(bearerMatches("bearer  abc ", "abc")).toBe(true);
    expect(bearerMatches("Bearer abcd", "abc")).toBe(false);
    expect(bearerMatches("Basic abc", "abc")).toBe(false);
    expect(bearerMatches(undefined, "abc")).toBe(false);
  });
});
