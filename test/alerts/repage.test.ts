// Paging again, over real PostgreSQL and HTTP receivers on loopback (a Slack-style route and PagerDuty): a critical
// incident that fell back to a warning (hysteresis) and then became critical again starts its escalation over: a
// new critical_since, the routes told again at once, the escalation route paged again once its delay has passed
// anew (not at once, not twice), and the history shows each step.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAlertEngine } from "../../src/alerts/engine.js";
import { parseAlertsConfig, type AlertsConfig } from "../../src/core/alerts/config.js";
import { hourOf } from "../../src/core/rollup.js";
import { createLogger } from "../../src/log.js";
import { activeIncidents, incidentHistory } from "../../src/store/incidents.js";
import { addToRollups } from "../../src/store/rollups.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { startReceiver, type Received, type Receiver } from "../helpers/receiver.js";
import { subscribeToAll } from "../helpers/webhooks.js";

let t: TestDb;
let http: Receiver;
let httpUrl: string;
const received: Received[] = [];
const logger = createLogger("silent");
const start = new Date(Math.floor(Date.now() / 3600_000) * 3600_000 + 5 * 60_000);
let clock = start;
const now = () => clock;

beforeAll(async () => {
  t = await createTestDb();
  http = await startReceiver(received);
  httpUrl = http.url;
});

afterAll(async () => {
  await http.close();
  await t?.drop();
});

function alerts(): AlertsConfig {
  const c = parseAlertsConfig(
    JSON.stringify({
      delivery: { maxAttempts: 2, backoffSeconds: 60, timeoutMs: 5000 },
      routes: [
        { id: "chat", channel: "slack", teams: ["marketing"], url: `${httpUrl}/slack` },
        {
          id: "oncall",
          channel: "pagerduty",
          teams: ["marketing"],
          routingKey: "R0UT1NGKEY",
          url: `${httpUrl}/pagerduty`,
          escalateAfterMinutes: 30,
        },
      ],
    }),
    "test alerts",
  );
  return { ...c, rules: c.rules.filter((r) => r.id === "complaint-rate") };
}

async function add(counts: { sent?: number; complaint?: number }) {
  await addToRollups(t.db, [
    {
      tenant: "rep",
      hour: hourOf(start),
      stream: "news",
      provider: "google",
      campaign: "",
      sendingIp: "",
      counts,
    },
  ]);
}

const slack = () =>
  received
    .filter((r) => r.path === "/slack")
    .map((r) => (JSON.parse(r.body).text as string).replace(/^\[(\w+)\] incident \d+ (\w+).*$/, "$1 $2"));
const pagerduty = () =>
  received.filter((r) => r.path === "/pagerduty").map((r) => JSON.parse(r.body) as Record<string, unknown>);

describe("an incident critical again after a warning", () => {
  it("gets a new critical_since, tells the routes at once and pages the escalation route again after its delay, with each step in its history", async () => {
    await subscribeToAll(t.db, "rep", ["incident.opened", "incident.escalated", "incident.updated"]);
    const engine = createAlertEngine({ db: t.db, alerts: alerts(), logger, now, tenants: [] });
    const round = async (minutes: number) => {
      clock = new Date(clock.getTime() + minutes * 60_000);
      await engine.runOnce();
    };
    const incident = async () => (await activeIncidents(t.db, "rep"))[0]!;

    await add({ sent: 10_000, complaint: 40 }); // 0.4%: critical
    await round(1);
    const openedAt = clock;
    expect(await incident()).toMatchObject({ severity: "critical", critical_since: openedAt });
    await round(31); // unacknowledged 31 minutes: paged
    expect(pagerduty()).toHaveLength(1);

    await add({ sent: 8_000 }); // 40 / 18,000 = 0.222%: under critical's hold bound (0.24%), a warning
    await round(1);
    expect(await incident()).toMatchObject({ severity: "warning", critical_since: null });

    await add({ complaint: 40 }); // 80 / 18,000 = 0.444%: critical again
    await round(1);
    const againAt = clock;
    expect(await incident()).toMatchObject({ severity: "critical", critical_since: againAt });
    // The route that hears escalations was told at once; the escalation route waits its delay anew.
    expect(slack()).toEqual(["CRITICAL opened", "CRITICAL escalated"]);
    expect(pagerduty()).toHaveLength(1);
    await round(20); // 20 minutes critical again: not yet
    expect(pagerduty()).toHaveLength(1);
    await round(11); // 31 minutes: paged again
    await round(5); // and only once
    await engine.stop();

    const pd = pagerduty();
    expect(pd.map((e) => e.event_action)).toEqual(["trigger", "trigger"]);
    expect(pd[1]!.dedup_key).toBe(pd[0]!.dedup_key);
    expect((pd[1]!.payload as { severity: string }).severity).toBe("critical");

    const inc = await incident();
    const history = await incidentHistory(t.db, String(inc.id));
    expect(
      history
        .filter((h) => h.type !== "notified")
        .map((h) => [h.type, h.severity, h.route ?? null, h.at.toISOString()]),
    ).toEqual([
      ["opened", "critical", null, openedAt.toISOString()],
      ["escalated", "critical", "oncall", new Date(openedAt.getTime() + 31 * 60_000).toISOString()],
      ["updated", "warning", null, new Date(openedAt.getTime() + 32 * 60_000).toISOString()],
      ["escalated", "critical", null, againAt.toISOString()],
      ["escalated", "critical", "oncall", new Date(againAt.getTime() + 31 * 60_000).toISOString()],
    ]);
    const outbox = await t.db
      .selectFrom("outbox")
      .select("type")
      .where("tenant", "=", "rep")
      .orderBy("id")
      .execute();
    expect(outbox.map((o) => o.type)).toEqual([
      "incident.opened",
      "incident.escalated",
      "incident.updated",
      "incident.escalated",
      "incident.escalated",
    ]);
  });
});
