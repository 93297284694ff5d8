// The REBOUND_ALERTS file: overrides over the defaults, and mistakes named by line, path and the nearest name.
import { describe, expect, it } from "vitest";
import { AlertsConfigError, parseAlertsConfig } from "../../../src/core/alerts/config.js";
import { jsonErrorOffset } from "../../../src/core/alerts/json-offset.js";

const parse = (o: unknown) => parseAlertsConfig(JSON.stringify(o, null, 2), "alerts.json");
const error = (text: string) => {
  try {
    parseAlertsConfig(text, "alerts.json");
  } catch (err) {
    expect(err).toBeInstanceOf(AlertsConfigError);
    return (err as Error).message;
  }
  throw new Error("accepted");
};

describe("alerts file", () => {
  it("overrides a default's levels, turns one off, adds a rule", () => {
    const c = parse({
      rules: {
        "complaint-rate": { levels: { warning: 0.002, critical: 0.004 } },
        "block-spike": false,
        "gmail-blocks": {
          kind: "rate",
          metric: "blockRate",
          scope: { provider: "google" },
          windowMinutes: 30,
          minVolume: 100,
          levels: { warning: 0.01 },
          resolveBelow: 0.005,
          teams: ["it"],
        },
      },
    });
    const ids = c.rules.map((r) => r.id);
    expect(ids).toContain("gmail-blocks");
    expect(ids).not.toContain("block-spike");
    expect(c.rules.find((r) => r.id === "complaint-rate")!.levels).toEqual({
      warning: 0.002,
      critical: 0.004,
    });
    expect(c.rules.find((r) => r.id === "complaint-rate")!.resolveBelow).toBe(0.0008);
  });

  it("a misspelled field is named with its line and the nearest name", () => {
    const text =
      '{\n  "rules": {\n    "complaint-rate": {\n      "levels": { "warnng": 0.002 }\n    }\n  }\n}';
    expect(error(text)).toContain(
      "rules.complaint-rate.levels.warnng (line 4): no such field (did you mean warning?)",
    );
  });

  it("a misspelled top-level key suggests the right one", () => {
    expect(error('{ "route": [] }')).toContain("route (line 1): no such field (did you mean routes?)");
  });

  it("broken JSON names the line where it goes wrong", () => {
    expect(error('{\n  "rules": {\n    "x": ,\n  }\n}')).toMatch(
      /^alerts\.json is not valid JSON \(line 3\): /,
    );
    expect(error('{\n  "routes": []\n')).toMatch(/not valid JSON \(line 3\)/);
    expect(error('{ "a": 1 }\n\n}')).toMatch(/not valid JSON \(line 3\)/);
  });

  it.each([
    ['{"a": [1, 2.5e3, -0, "x\\"y", true, null, {"b": {}}, []]}', -1],
    ["[1, 2,]", 6],
    ['{"a" 1}', 5],
    ['"unterminated', 13],
    ["01", 1],
    ["", 0],
  ])("jsonErrorOffset(%j) is %i", (text, offset) => {
    expect(jsonErrorOffset(text)).toBe(offset);
    if (offset === -1) expect(() => JSON.parse(text)).not.toThrow();
    else expect(() => JSON.parse(text)).toThrow();
  });
  it("a route without what its channel needs", () => {
    const msg = error(JSON.stringify({ routes: [{ id: "it-slack", channel: "slack", teams: ["it"] }] }));
    expect(msg).toContain('routes.0.url: a slack route needs "url"');
  });

  it("levels out of order, an email route without a relay", () => {
    const msg = error(
      JSON.stringify({
        rules: { "complaint-rate": { levels: { warning: 0.01, critical: 0.005 } } },
        routes: [{ id: "mkt-mail", channel: "email", teams: ["marketing"], to: ["m@example.com"] }],
      }),
    );
    expect(msg).toContain("rules.complaint-rate.levels: warning <= critical <= pause");
    expect(msg).toContain("routes.mkt-mail: an email route needs an SMTP relay: set REBOUND_MAIL_RELAY_URL");
  });

  it("scoping a rate or spike rule by sending domain, which the rollups do not have", () => {
    expect(
      error(JSON.stringify({ rules: { "complaint-rate": { scope: { sendingDomain: "*" } } } })),
    ).toContain("rules.complaint-rate.scope.sendingDomain: a rate rule reads the rollups");
    expect(
      parse({ rules: { blocklist: { scope: { sendingDomain: "*" } } } }).rules.find(
        (r) => r.id === "blocklist",
      )!.scope,
    ).toEqual({
      sendingDomain: "*",
    });
  });
});

describe("the SMTP relay of e-mail routes", () => {
  const mailRoute = { id: "mkt-mail", channel: "email", teams: ["marketing"], to: ["m@example.com"] };
  const relay = { smtpUrl: "smtp://relay.example.net:25", from: "rebound@example.net" };
  it("is the configuration's (REBOUND_MAIL_RELAY_URL), without a warning", () => {
    const c = parseAlertsConfig(JSON.stringify({ routes: [mailRoute] }), "alerts.json", relay);
    expect([c.email, c.warnings]).toEqual([relay, []]);
  });
  it("is the file's deprecated `email` when the configuration has none, with a warning", () => {
    const email = { smtpUrl: "smtp://old.example.net:25", from: "old@example.net" };
    const c = parse({ routes: [mailRoute], email });
    expect(c.email).toEqual(email);
    expect(c.warnings).toEqual([expect.stringMatching(/"email" is deprecated: set REBOUND_MAIL_RELAY_URL/)]);
  });
  it("is the configuration's when both are given; the file's is named as ignored", () => {
    const email = { smtpUrl: "smtp://old.example.net:25", from: "old@example.net" };
    const c = parseAlertsConfig(JSON.stringify({ routes: [mailRoute], email }), "alerts.json", relay);
    expect(c.email).toEqual(relay);
    expect(c.warnings).toEqual([expect.stringMatching(/"email" is deprecated and ignored/)]);
  });

  it("a new rule without a kind is refused with the nearest default id", () => {
    expect(error(JSON.stringify({ rules: { "complaint-rat": { levels: { warning: 0.1 } } } }))).toContain(
      'rules.complaint-rat.kind: a new rule needs a kind (did you mean the default "complaint-rate"?)',
    );
  });
});

describe("the example of docs/monitoring.md", () => {
  it("is a valid alerts file", async () => {
    const { readFileSync } = await import("node:fs");
    const doc = readFileSync(new URL("../../../docs/monitoring.md", import.meta.url), "utf8");
    const block = /```json\n(\{\n  "rules"[^`]{1,10000})```/.exec(doc);
    expect(block).not.toBeNull();
    const c = parseAlertsConfig(block![1]!, "docs/monitoring.md", {
      smtpUrl: "smtp://relay.example.com:587",
      from: "rebound@example.com",
    });
    expect(c.warnings).toEqual([]);
    expect(c.routes.map((r) => r.id)).toEqual(["marketing-chat", "legal-mail", "it-hook", "oncall"]);
    expect(c.rules.map((r) => r.id)).toContain("gmail-blocks");
  });
});
