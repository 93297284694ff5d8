// REBOUND_ALERTS at start: a file with a typo stops `rebound start` with the line and the nearest name; an
// unreadable path is named; unset gives the shipped rules.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadAlerts } from "../../src/alerts/file.js";
import { loadConfig } from "../../src/config.js";
import { DEFAULT_RULES } from "../../src/core/alerts/rules.js";
import { createLogger } from "../../src/log.js";
import { startApp } from "../../src/main.js";

const dir = mkdtempSync(join(tmpdir(), "rebound-alerts-"));

describe("REBOUND_ALERTS", () => {
  it("refuses to start on a misspelled key, naming the file, the line and the nearest name", async () => {
    const path = join(dir, "typo.json");
    writeFileSync(path, '{\n  "rules": {\n    "hard-bounce-rate": { "windowMinute": 60 }\n  }\n}\n');
    const config = loadConfig({ alertsPath: path, dataDir: ":memory:", logLevel: "silent" }, {});
    await expect(startApp(config, ["api"], { logger: createLogger("silent") })).rejects.toThrow(
      `invalid REBOUND_ALERTS file ${path}:\n  rules.hard-bounce-rate.windowMinute (line 3): no such field (did you mean windowMinutes?)`,
    );
  });

  it("names a file it cannot read, and gives the shipped rules when unset", () => {
    expect(() => loadAlerts({ alertsPath: join(dir, "missing.json") })).toThrow(
      /^REBOUND_ALERTS: cannot read .{1,200}missing\.json: ENOENT/,
    );
    expect(loadAlerts({ alertsPath: undefined }).rules).toEqual(DEFAULT_RULES);
  });
});
