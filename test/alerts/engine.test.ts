// The evaluation loop over real PostgreSQL: rollups and events in, incidents out with their evidence; a pause of
// the stream at the pause level; each route's channel received for real (HTTP receivers on loopback, an SMTP
// sink); a dead route dead-lettered without holding up the others; escalation of an unacknowledged critical
// incident; resolution by the rule (hysteresis) that resumes the stream; two workers at once open each incident
// once.
import type { AddressInfo } from "node:net";
import { startReceiver, type Received, type Receiver } from "../helpers/receiver.js";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAlertEngine } from "../../src/alerts/engine.js";
import { parseAlertsConfig, type AlertsConfig } from "../../src/core/alerts/config.js";
import { testHash as hashAddress } from "../helpers/db.js";
import { hourOf } from "../../src/core/rollup.js";
import { createLogger } from "../../src/log.js";
import { alertDeliveriesOf } from "../../src/store/alert-deliveries.js";
import { insertEvent } from "../../src/store/events.js";
import {
  acknowledgeIncident,
  activeIncidents,
  incidentHistory,
  incidentsPage,
} from "../../src/store/incidents.js";
import { addToRollups } from "../../src/store/rollups.js";
import { activePauses } from "../../src/store/stream-pauses.js";
import { verifySignature } from "../../src/webhooks/sign.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { subscribeToAll } from "../helpers/webhooks.js";

let t: TestDb;
let http: Receiver;
let httpUrl: string;
let smtp: SMTPServer;
let smtpPort: number;
const received: Received[] = [];
const mails: { to: string[]; data: string }[] = [];
const SECRET = "whsec_alerts_test_secret_0123456789";
const start = new Date(Math.floor(Date.now() / 3600_000) * 3600_000 + 30 * 60_000);
let clock = start;
const now = () => clock;

beforeAll(async () => {
  t = await createTestDb();
  http = await startReceiver(received, (path) => (path === "/broken" ? 500 : 202));
  httpUrl = http.url;
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, cb) {
      let data = "";
      stream.on("data", (c: Buffer) => (data += c.toString("utf8")));
      stream.on("end", () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), data });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, "127.0.0.1", r));
  smtpPort = (smtp.server.address() as AddressInfo).port;
});

afterAll(async () => {
  await http.close();
  await new Promise<void>((r) => smtp.close(() => r()));
  await t?.drop();
});

function alerts(): AlertsConfig {
  return parseAlertsConfig(
    JSON.stringify({
      delivery: { maxAttempts: 2, backoffSeconds: 60, timeoutMs: 5000 },
      routes: [
        { id: "marketing-chat", channel: "slack", teams: ["marketing"], url: `${httpUrl}/slack` },
        { id: "legal-mail", channel: "email", teams: ["legal"], to: ["legal@example.com"] },
        { id: "it-hook", channel: "webhook", teams: ["it"], url: `${httpUrl}/hook`, secret: SECRET },
        { id: "it-broken", channel: "slack", teams: ["it"], url: `${httpUrl}/broken` },
        {
          id: "oncall",
          channel: "pagerduty",
          teams: ["it", "marketing"],
          routingKey: "R0UT1NGKEY",
          url: `${httpUrl}/pagerduty`,
          escalateAfterMinutes: 30,
        },
      ],
    }),
    "test alerts",
    // The relay of everything Rebound mails (REBOUND_MAIL_RELAY_URL): the SMTP sink.
    { smtpUrl: `smtp://127.0.0.1:${smtpPort}`, from: "rebound@example.com" },
  );
}

async function seed(tenant: string) {
  const hour = hourOf(clock);
  await addToRollups(t.db, [
    // news/spring: 12% hard bounces (pause); news overall: 0.5% complaints (critical).
    {
      tenant,
      hour,
      stream: "news",
      provider: "google",
      campaign: "spring",
      sendingIp: "198.51.100.7",
      counts: { sent: 1000, hard: 120 },
    },
    {
      tenant,
      hour,
      stream: "news",
      provider: "yahoo",
      campaign: "",
      sendingIp: "",
      counts: { sent: 1000, complaint: 10, block: 1 },
    },
  ]);
  await insertEvent(t.db, {
    mailId: null,
    tenant,
    stream: "news",
    address: "ann@yahoo.com",
    addressHash: hashAddress("ann@yahoo.com"),
    addressOriginal: "ann@yahoo.com",
    recipientDomain: "yahoo.com",
    kind: "bounce",
    reason: "blocked",
    class: "block",
    status: "5.7.1",
    rule: "generic:blocklist",
    diagnostic: "554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using zen.spamhaus.org",
    verified: true,
    provider: "yahoo",
    sendingIp: "198.51.100.7",
    occurredAt: new Date(clock.getTime() - 5 * 60_000),
  });
}

const logger = createLogger("silent");

describe("the evaluation loop", () => {
  it("opens an incident per rule and scope with evidence, pauses the stream at the pause level, and writes the webhooks", async () => {
    await subscribeToAll(t.db, "acme", [
      "incident.opened",
      "incident.escalated",
      "incident.resolved",
      "stream.paused",
      "stream.resumed",
    ]);
    await seed("acme");
    const engine = createAlertEngine({ db: t.db, alerts: alerts(), logger, now, tenants: [] });
    await engine.runOnce();
    const open = await activeIncidents(t.db, "acme");
    const byRule = Object.fromEntries(open.map((i) => [i.rule_id, i]));
    expect(Object.keys(byRule).sort()).toEqual(["blocklist", "complaint-rate", "hard-bounce-rate"]);
    expect(byRule["hard-bounce-rate"]).toMatchObject({
      severity: "pause",
      stream: "news",
      campaign: "spring",
      value: 0.12,
    });
    expect(byRule["complaint-rate"]).toMatchObject({ severity: "critical", stream: "news", campaign: null });
    expect(byRule["blocklist"]).toMatchObject({ severity: "critical", sending_ip: "198.51.100.7" });
    const ev = byRule["blocklist"]!.evidence as { blocklists: string[]; samples: { diagnostic: string }[] };
    expect(ev.blocklists).toEqual(["spamhaus"]);
    expect(ev.samples[0]!.diagnostic).toMatch(/zen\.spamhaus\.org/);

    const pauses = await activePauses(t.db, "acme");
    expect(pauses.map((p) => [p.stream, p.provider, p.by, p.incidentId])).toEqual([
      ["news", null, "rule", String(byRule["hard-bounce-rate"]!.id)],
    ]);
    const outbox = await t.db.selectFrom("outbox").select(["type"]).where("tenant", "=", "acme").execute();
    expect(outbox.map((o) => o.type).sort()).toEqual([
      "incident.opened",
      "incident.opened",
      "incident.opened",
      "stream.paused",
    ]);
    // A second round changes nothing: one incident per rule x scope.
    await engine.runOnce();
    expect(await activeIncidents(t.db, "acme")).toHaveLength(3);
    await engine.stop();
  });

  it("sends each route its channel: Slack-style JSON to marketing, a mail to legal, a signed webhook to IT; a failing route is retried, then dead, alone", async () => {
    const slack = received.filter((r) => r.path === "/slack").map((r) => JSON.parse(r.body).text as string);
    expect(slack).toHaveLength(2);
    expect(
      slack.some((s) =>
        /^\[PAUSE\] incident \d+ opened \(hard-bounce-rate, tenant acme\): Hard-bounce rate 12\.00%/.test(s),
      ),
    ).toBe(true);
    expect(slack.some((s) => /^\[CRITICAL\] incident \d+ opened \(complaint-rate/.test(s))).toBe(true);

    expect(mails).toHaveLength(1);
    expect(mails[0]!.to).toEqual(["legal@example.com"]);
    expect(mails[0]!.data).toMatch(/Subject: \[Rebound\] \[CRITICAL\] incident \d+ opened \(complaint-rate/);

    const hooks = received.filter((r) => r.path === "/hook");
    expect(hooks).toHaveLength(1);
    const sig = verifySignature(
      SECRET,
      String(hooks[0]!.headers["rebound-signature"]),
      hooks[0]!.body,
      Math.floor(clock.getTime() / 1000),
    );
    expect(sig.ok).toBe(true);
    const body = JSON.parse(hooks[0]!.body);
    expect([body.type, body.data.ruleId, body.data.evidence.blocklists]).toEqual([
      "incident.opened",
      "blocklist",
      ["spamhaus"],
    ]);

    const blocklist = (await activeIncidents(t.db, "acme")).find((i) => i.rule_id === "blocklist")!;
    const before = await alertDeliveriesOf(t.db, String(blocklist.id));
    expect(before.map((d) => [d.route_id, d.status])).toEqual([
      ["it-hook", "delivered"],
      ["it-broken", "failed"],
    ]);
    // Its next try after the back-off, then dead after maxAttempts (2).
    clock = new Date(start.getTime() + 2 * 60_000);
    const engine = createAlertEngine({ db: t.db, alerts: alerts(), logger, now, tenants: [] });
    await engine.runOnce();
    await engine.stop();
    const after = await alertDeliveriesOf(t.db, String(blocklist.id));
    expect(after.find((d) => d.route_id === "it-broken")).toMatchObject({ status: "dead", attempts: 2 });
    expect(after.find((d) => d.route_id === "it-broken")!.last_error).toMatch(/HTTP 500/);
    const history = await incidentHistory(t.db, String(blocklist.id));
    expect(history.map((h) => [h.type, h.route])).toEqual([
      ["opened", null],
      ["notified", "it-hook"],
      ["notify_failed", "it-broken"],
    ]);
  });

  it("escalates a critical incident left unacknowledged 30 minutes to the next route (PagerDuty), not an acknowledged one", async () => {
    const complaint = (await activeIncidents(t.db, "acme")).find((i) => i.rule_id === "complaint-rate")!;
    await acknowledgeIncident(t.db, {
      tenant: "acme",
      id: String(complaint.id),
      by: "test",
      note: null,
      now: clock,
    });
    clock = new Date(start.getTime() + 31 * 60_000);
    const engine = createAlertEngine({ db: t.db, alerts: alerts(), logger, now, tenants: [] });
    await engine.runOnce();
    await engine.runOnce();
    await engine.stop();
    const pd = received.filter((r) => r.path === "/pagerduty").map((r) => JSON.parse(r.body));
    expect(pd.map((e) => [e.event_action, e.payload.class, e.routing_key]).sort()).toEqual([
      ["trigger", "blocklist", "R0UT1NGKEY"],
      ["trigger", "hard-bounce-rate", "R0UT1NGKEY"],
    ]);
    expect(pd[0].dedup_key).toMatch(/^rebound-acme-\d+$/);
    const hb = (await activeIncidents(t.db, "acme")).find((i) => i.rule_id === "hard-bounce-rate")!;
    const history = await incidentHistory(t.db, String(hb.id));
    expect(history.filter((h) => h.type === "escalated").map((h) => [h.route, h.channel])).toEqual([
      ["oncall", "pagerduty"],
    ]);
  });

  it("resolves by the rule once nothing is in the window any more, resumes the paused stream, and tells PagerDuty", async () => {
    clock = new Date(start.getTime() + 3 * 86_400_000);
    const engine = createAlertEngine({ db: t.db, alerts: alerts(), logger, now, tenants: [] });
    await engine.runOnce();
    await engine.stop();
    expect(await activeIncidents(t.db, "acme")).toEqual([]);
    const all = await incidentsPage(t.db, { tenant: "acme" }, { limit: 10 });
    expect(all.map((i) => [i.status, i.resolved_by])).toEqual([
      ["resolved", "rule"],
      ["resolved", "rule"],
      ["resolved", "rule"],
    ]);
    expect(await activePauses(t.db, "acme")).toEqual([]);
    const types = (await t.db.selectFrom("outbox").select("type").where("tenant", "=", "acme").execute()).map(
      (o) => o.type,
    );
    expect(types.filter((x) => x === "stream.resumed")).toHaveLength(1);
    expect(types.filter((x) => x === "incident.resolved")).toHaveLength(3);
    const pd = received.filter((r) => r.path === "/pagerduty").map((r) => JSON.parse(r.body));
    expect(
      pd
        .filter((e) => e.event_action === "resolve")
        .map((e) => e.payload.class)
        .sort(),
    ).toEqual(["blocklist", "hard-bounce-rate"]);
  });

  it("opens each incident once when two workers evaluate at the same time", async () => {
    clock = start;
    await seed("twin");
    const a = createAlertEngine({ db: t.db, alerts: alerts(), logger, now, tenants: ["twin"] });
    const b = createAlertEngine({ db: t.db, alerts: alerts(), logger, now, tenants: ["twin"] });
    await Promise.all([a.runOnce(), b.runOnce(), a.runOnce(), b.runOnce()]);
    await a.runOnce();
    await Promise.all([a.stop(), b.stop()]);
    const open = await activeIncidents(t.db, "twin");
    expect(open.map((i) => i.rule_id).sort()).toEqual(["blocklist", "complaint-rate", "hard-bounce-rate"]);
    const opened = await t.db
      .selectFrom("incident_history")
      .select("incident_id")
      .where("type", "=", "opened")
      .where(
        "incident_id",
        "in",
        open.map((i) => String(i.id)),
      )
      .execute();
    expect(opened).toHaveLength(3);
  });
});

describe("on the embedded database (PGlite)", () => {
  it("opens an incident with its evidence, pauses the stream, and resolves it", async () => {
    const { createEmbeddedTestDb } = await import("../helpers/db.js");
    const e = await createEmbeddedTestDb();
    try {
      const at = new Date();
      await addToRollups(e.db, [
        {
          tenant: "default",
          hour: hourOf(at),
          stream: "news",
          provider: "google",
          campaign: "spring",
          sendingIp: "",
          counts: { sent: 1000, hard: 110 },
        },
      ]);
      const engine = createAlertEngine({
        db: e.db,
        alerts: alerts(),
        logger,
        now: () => at,
        tenants: ["default"],
      });
      await engine.runOnce();
      const [inc] = await activeIncidents(e.db, "default");
      expect(inc).toMatchObject({ rule_id: "hard-bounce-rate", severity: "pause", teams: ["marketing"] });
      expect((inc!.evidence as { figures: { hard: number } }).figures.hard).toBe(110);
      expect((await activePauses(e.db, "default")).map((p) => p.stream)).toEqual(["news"]);
      const later = new Date(at.getTime() + 3 * 86_400_000);
      const engine2 = createAlertEngine({
        db: e.db,
        alerts: alerts(),
        logger,
        now: () => later,
        tenants: ["default"],
      });
      await engine2.runOnce();
      await Promise.all([engine.stop(), engine2.stop()]);
      expect(await activeIncidents(e.db, "default")).toEqual([]);
      expect(await activePauses(e.db, "default")).toEqual([]);
    } finally {
      await e.drop();
    }
  });
});
