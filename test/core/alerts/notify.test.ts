// Who hears what: routes by team, severity and notice; escalation routes after their delay, counted from when the
// incident became critical.
import { describe, expect, it } from "vitest";
import { parseAlertsConfig } from "../../../src/core/alerts/config.js";
import { escalationsDue, routesFor, type RoutedIncident } from "../../../src/core/alerts/notify.js";

const { routes } = parseAlertsConfig(
  JSON.stringify({
    routes: [
      { id: "chat", channel: "slack", teams: ["it"], url: "https://chat.example.com/hook" },
      {
        id: "all",
        channel: "slack",
        teams: ["it"],
        url: "https://chat.example.com/all",
        notices: ["opened", "escalated", "updated", "acknowledged", "resolved"],
      },
      { id: "pager", channel: "pagerduty", teams: ["it"], routingKey: "K", escalateAfterMinutes: 30 },
    ],
  }),
  "alerts.json",
);
const t0 = new Date("2026-03-02T10:00:00Z");
const min = (n: number) => new Date(t0.getTime() + n * 60_000);
const incident = (o: Partial<RoutedIncident>): RoutedIncident => ({
  id: "1",
  tenant: "acme",
  ruleId: "block-rate",
  severity: "critical",
  status: "open",
  teams: ["it"],
  summary: "s",
  openedAt: t0,
  criticalSince: t0,
  ...o,
});
const ids = (rs: { id: string }[]) => rs.map((r) => r.id);

describe("routesFor", () => {
  it("an update is heard only by the routes that list it; escalation routes only once escalated to", () => {
    expect(ids(routesFor(routes, incident({}), "opened"))).toEqual(["chat", "all"]);
    expect(ids(routesFor(routes, incident({}), "updated"))).toEqual(["all"]);
    expect(ids(routesFor(routes, incident({}), "resolved", ["pager"]))).toEqual(["chat", "all", "pager"]);
    expect(ids(routesFor(routes, incident({}), "resolved"))).toEqual(["chat", "all"]);
  });
});

describe("escalationsDue", () => {
  it("counts the delay from when the incident became critical, not from its opening as a warning", () => {
    const rose = incident({ openedAt: min(-600), criticalSince: min(0) });
    expect(ids(escalationsDue(routes, rose, min(29)))).toEqual([]);
    expect(ids(escalationsDue(routes, rose, min(30)))).toEqual(["pager"]);
  });
  it("never escalates a warning, an acknowledged incident, or one no longer critical", () => {
    expect(escalationsDue(routes, incident({ severity: "warning", criticalSince: null }), min(90))).toEqual(
      [],
    );
    expect(escalationsDue(routes, incident({ status: "acknowledged" }), min(90))).toEqual([]);
    expect(escalationsDue(routes, incident({ criticalSince: null }), min(90))).toEqual([]);
  });
});
