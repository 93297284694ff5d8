// Incidents while they last, over real PostgreSQL and HTTP receivers on loopback: the severity goes down with
// hysteresis and the figure's material moves are recorded (incident.updated, to the routes that listen to it);
// the notifications of a change made through the API go out as it commits, without an evaluation round, and a
// route that is down is retried by the worker's loop, then dead-lettered, without holding up the others;
// blocklist and authentication incidents open per sending domain.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAlertEngine } from "../../src/alerts/engine.js";
import { parseAlertsConfig, type AlertsConfig } from "../../src/core/alerts/config.js";
import { hourOf } from "../../src/core/rollup.js";
import { createLogger } from "../../src/log.js";
import { alertDeliveriesOf } from "../../src/store/alert-deliveries.js";
import { insertEvent } from "../../src/store/events.js";
import { activeIncidents, incidentHistory } from "../../src/store/incidents.js";
import { addToRollups } from "../../src/store/rollups.js";
import { client, startTestApi, type TestApi } from "../api/helpers.js";
import { createTestDb, testHash, type TestDb } from "../helpers/db.js";
import { until } from "../helpers/until.js";
import { startReceiver, type Received, type Receiver } from "../helpers/receiver.js";
import { subscribeToAll } from "../helpers/webhooks.js";

let t: TestDb;
let http: Receiver;
let httpUrl: string;
const received: Received[] = [];
const logger = createLogger("silent");
const start = new Date(Math.floor(Date.now() / 3600_000) * 3600_000 + 30 * 60_000);
let clock = start;
const now = () => clock;

beforeAll(async () => {
  t = await createTestDb();
  http = await startReceiver(received, (path) => (path === "/down" ? 503 : 202));
  httpUrl = http.url;
});

afterAll(async () => {
  await http.close();
  await t?.drop();
});

function alerts(ruleIds: string[]): AlertsConfig {
  const c = parseAlertsConfig(
    JSON.stringify({
      delivery: { maxAttempts: 2, backoffSeconds: 60, timeoutMs: 5000 },
      routes: [
        {
          id: "all-hook",
          channel: "slack",
          teams: ["marketing", "legal", "it"],
          url: `${httpUrl}/hook`,
          notices: ["opened", "escalated", "updated", "acknowledged", "resolved"],
        },
        { id: "quiet", channel: "slack", teams: ["marketing"], url: `${httpUrl}/quiet` },
        { id: "down", channel: "slack", teams: ["marketing"], url: `${httpUrl}/down` },
      ],
    }),
    "test alerts",
  );
  return { ...c, rules: c.rules.filter((r) => ruleIds.includes(r.id)) };
}

const texts = (path: string) =>
  received.filter((r) => r.path === path).map((r) => JSON.parse(r.body).text as string);

async function sent(tenant: string, counts: { sent: number; complaint?: number }) {
  await addToRollups(t.db, [
    { tenant, hour: hourOf(clock), stream: "news", provider: "google", campaign: "", sendingIp: "", counts },
  ]);
}

describe("an incident while it lasts", () => {
  it("records material moves and a lower severity (hysteresis) in its history, as incident.updated to the routes that listen", async () => {
    await subscribeToAll(t.db, "upd", ["incident.opened", "incident.escalated", "incident.updated"]);
    const engine = createAlertEngine({
      db: t.db,
      alerts: alerts(["complaint-rate"]),
      logger,
      now,
      tenants: [],
    });
    const round = async (add: number) => {
      if (add) await sent("upd", { sent: add });
      clock = new Date(clock.getTime() + 60_000);
      await engine.runOnce();
    };
    await sent("upd", { sent: 10_000, complaint: 40 }); // 0.4%: critical
    await round(0);
    await round(0); // the same figure: nothing recorded
    await round(6_000); // 0.25%: still over critical's hold bound (0.24%), but a material move
    await round(2_000); // 0.222%: under 0.24%, a warning now
    await round(1_000); // 0.21%: no material move
    await engine.stop();

    const [inc] = await activeIncidents(t.db, "upd");
    // A warning again: no longer critical, so an escalation route's delay would start over.
    expect(inc).toMatchObject({
      rule_id: "complaint-rate",
      severity: "warning",
      noted_updates: 1,
      critical_since: null,
    });
    const history = (await incidentHistory(t.db, String(inc!.id))).filter((h) =>
      ["opened", "escalated", "updated"].includes(h.type),
    );
    expect(history.map((h) => [h.type, h.severity, Number(h.value?.toFixed(5))])).toEqual([
      ["opened", "critical", 0.004],
      ["updated", "critical", 0.0025],
      ["updated", "warning", 0.00222],
    ]);
    expect(history[2]!.note).toMatch(/^severity critical -> warning: Complaint rate 0\.22%/);
    const outbox = await t.db
      .selectFrom("outbox")
      .select("type")
      .where("tenant", "=", "upd")
      .orderBy("id")
      .execute();
    expect(outbox.map((o) => o.type)).toEqual(["incident.opened", "incident.updated", "incident.updated"]);
    // Each update its own notification to the route that listens to them; the others hear only the opening.
    const hook = texts("/hook").filter((x) => x.includes("tenant upd"));
    expect(hook.map((x) => x.replace(/^\[(\w+)\] incident \d+ (\w+).*$/, "$1 $2"))).toEqual([
      "CRITICAL opened",
      "CRITICAL updated",
      "WARNING updated",
    ]);
    expect(texts("/quiet").filter((x) => x.includes("tenant upd"))).toHaveLength(1);
  });
});

describe("notifications of a change made by hand", () => {
  let api: TestApi;
  afterAll(async () => api?.close());

  it("go out as the acknowledgement commits, without an evaluation round; a route that is down is retried by the loop, then dead, alone", async () => {
    const config = alerts(["complaint-rate"]);
    clock = start;
    await sent("ack", { sent: 10_000, complaint: 40 });
    const engine = createAlertEngine({ db: t.db, alerts: config, logger, now, tenants: [] });
    await engine.runOnce();
    await engine.stop();
    const [inc] = await activeIncidents(t.db, "ack");
    const id = String(inc!.id);
    // The opening reached every route in the round that opened it; the one that is down failed once.
    expect((await alertDeliveriesOf(t.db, id)).map((d) => [d.route_id, d.notice, d.status])).toEqual([
      ["all-hook", "opened", "delivered"],
      ["quiet", "opened", "delivered"],
      ["down", "opened", "failed"],
    ]);

    api = await startTestApi(t.db, {}, { alerts: config });
    const acme = await client(t.db, api, "ack");
    const res = await acme.send("POST", `/v1/incidents/${id}/acknowledge`, { note: "on it" });
    expect(res.status).toBe(200);
    // No engine runs here: the API process sends them itself.
    const acked = await until(
      () => texts("/quiet").find((x) => x.startsWith(`[CRITICAL] incident ${id} acknowledged`)),
      { what: "the acknowledgement at the quiet route" },
    );
    expect(acked).toMatch(/tenant ack/);
    await until(
      async () =>
        (await alertDeliveriesOf(t.db, id)).find((d) => d.route_id === "down" && d.notice === "acknowledged")
          ?.status === "failed",
      { what: "the down route's first try" },
    );
    expect(texts("/hook").some((x) => x.startsWith(`[CRITICAL] incident ${id} acknowledged`))).toBe(true);

    // The worker's loop retries what failed once its back-off has passed; the second failure is the last.
    // (Past both back-offs: the opening's, on the test clock, and the acknowledgement's, on the API's real one.)
    clock = new Date(Math.max(start.getTime(), Date.now()) + 2 * 3600_000);
    const retry = createAlertEngine({ db: t.db, alerts: config, logger, now, tenants: [] });
    await retry.runOnce();
    await retry.stop();
    const rows = await alertDeliveriesOf(t.db, id);
    expect(rows.map((d) => [d.route_id, d.notice, d.status, d.attempts])).toEqual([
      ["all-hook", "opened", "delivered", 1],
      ["quiet", "opened", "delivered", 1],
      ["down", "opened", "dead", 2],
      ["all-hook", "acknowledged", "delivered", 1],
      ["quiet", "acknowledged", "delivered", 1],
      ["down", "acknowledged", "dead", 2],
    ]);
    const failed = (await incidentHistory(t.db, id)).filter((h) => h.type === "notify_failed");
    expect(failed.map((h) => [h.route, h.note?.split(":")[0]]).sort()).toEqual([
      ["down", "acknowledged"],
      ["down", "opened"],
    ]);
  });
});

describe("incidents per sending domain", () => {
  it("opens blocklist and authentication incidents on the sending domain the events carry", async () => {
    clock = start;
    let n = 0;
    const block = (sendingDomain: string, o: { status: string; diagnostic: string; reason?: string }) =>
      insertEvent(t.db, {
        mailId: null,
        tenant: "dom",
        stream: "news",
        address: `r${++n}@outlook.com`,
        addressHash: testHash(`r${n}@outlook.com`),
        addressOriginal: `r${n}@outlook.com`,
        recipientDomain: "outlook.com",
        kind: "bounce",
        reason: o.reason ?? "blocked",
        class: "block",
        status: o.status,
        diagnostic: o.diagnostic,
        verified: true,
        provider: "microsoft",
        sendingDomain,
        occurredAt: new Date(clock.getTime() - 5 * 60_000),
      });
    await block("shop.example", {
      status: "5.7.1",
      diagnostic: "550 5.7.1 domain listed at dbl.spamhaus.org",
    });
    for (let i = 0; i < 3; i++)
      await block("news.example", {
        status: "5.7.515",
        diagnostic:
          "550 5.7.515 Access denied, sending domain news.example does not meet the required authentication level",
      });
    await block("shop.example", { status: "5.7.515", diagnostic: "550 5.7.515 Access denied" });
    const engine = createAlertEngine({
      db: t.db,
      alerts: alerts(["blocklist", "authentication"]),
      logger,
      now,
      tenants: ["dom"],
    });
    await engine.runOnce();
    await engine.stop();
    const open = await activeIncidents(t.db, "dom");
    expect(open.map((i) => [i.rule_id, i.sending_domain, i.sending_ip, i.severity, i.value])).toEqual([
      ["blocklist", "shop.example", null, "critical", 1],
      ["authentication", "news.example", null, "warning", 3],
    ]);
    expect(open[1]!.summary).toMatch(/sending domain news\.example/);
    // The API shows the scope and filters by it.
    const api = await startTestApi(t.db);
    try {
      const reader = await client(t.db, api, "dom", ["read"]);
      const body = await (await reader.get("/v1/incidents?sendingDomain=news.example")).json();
      expect(body.incidents.map((i: { ruleId: string; scope: object }) => [i.ruleId, i.scope])).toEqual([
        [
          "authentication",
          {
            stream: "news",
            provider: "microsoft",
            campaign: null,
            sendingIp: null,
            sendingDomain: "news.example",
          },
        ],
      ]);
    } finally {
      await api.close();
    }
  });
});
