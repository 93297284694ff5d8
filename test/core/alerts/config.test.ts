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
    expect(msg).toContain('routes.mkt-mail: an email route needs "email"');
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
    const c = parseAlertsConfig(block![1]!, "docs/monitoring.md");
    expect(c.routes.map((r) => r.id)).toEqual(["marketing-chat", "legal-mail", "it-hook", "oncall"]);
    expect(c.rules.map((r) => r.id)).toContain("gmail-blocks");
  });
});
