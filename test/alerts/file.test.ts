// REBOUND_ALERTS at start: a file with a typo stops `rebound start` with the line and the nearest name; an
// unreadable path is named; unset gives the shipped rules.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { loadAlerts } from "../../src/alerts/file.js";
import { loadConfig } from "../../src/config.js";
import { DEFAULT_RULES } from "../../src/core/alerts/rules.js";
import { createLogger } from "../../src/log.js";
import { startApp } from "../../src/main.js";
import { createTestDb, TEST_DATABASE_URL } from "../helpers/db.js";

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

describe("the one mail relay at start", () => {
  it("warns once of each deprecated name in use: the reports' relay variable and the alerts file's email", async () => {
    const path = join(dir, "old-email.json");
    const email = { smtpUrl: "smtp://old-relay.example.net:25", from: "alerts@example.net" };
    writeFileSync(
      path,
      JSON.stringify({
        email,
        routes: [{ id: "m", channel: "email", teams: ["legal"], to: ["l@example.net"] }],
      }),
    );
    // The file's relay serves its e-mail routes while nothing else names one.
    expect(loadAlerts({ alertsPath: path }).email).toEqual(email);
    const t = await createTestDb();
    const lines: { level: number; msg: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString("utf8").split("\n").filter(Boolean)) lines.push(JSON.parse(l));
        cb();
      },
    });
    try {
      const config = loadConfig(
        { databaseUrl: TEST_DATABASE_URL, databaseSchema: t.schema, httpHost: "127.0.0.1", httpPort: 0 },
        { REBOUND_ALERTS: path, REBOUND_REPORT_SMTP_URL: "smtp://relay.example.net:25" },
      );
      // The configuration's relay wins over the file's.
      expect(loadAlerts(config).email).toEqual({
        smtpUrl: "smtp://relay.example.net:25",
        from: "rebound@localhost",
      });
      const app = await startApp(config, ["api"], { logger: createLogger("info", sink) });
      await app.close();
      const warnings = lines.filter((l) => l.level === 40).map((l) => l.msg);
      expect(warnings.filter((w) => /deprecated/.test(w))).toEqual([
        "REBOUND_REPORT_SMTP_URL is deprecated: rename it REBOUND_MAIL_RELAY_URL (the old name is read for one more release)",
        `REBOUND_ALERTS file ${path}: "email" is deprecated and ignored: REBOUND_MAIL_RELAY_URL is set and wins; remove it`,
      ]);
    } finally {
      await t.drop();
    }
  });
});
