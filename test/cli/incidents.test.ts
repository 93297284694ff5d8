// `rebound incidents` on real PostgreSQL: list, show with evidence and history, ack with a note, resolve; a
// stream the incident paused is resumed when it is resolved by hand.
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAlerts } from "../../src/alerts/file.js";
import { activePauses } from "../../src/store/stream-pauses.js";
import { createTestDb, TEST_DATABASE_URL, type TestDb } from "../helpers/db.js";
import { openIncidents } from "../helpers/incidents.js";
import { cli } from "./run-cli.js";

let t: TestDb;

beforeAll(async () => {
  t = await createTestDb();
  process.env.DATABASE_URL = TEST_DATABASE_URL;
  process.env.REBOUND_DATABASE_SCHEMA = t.schema;
  process.env.REBOUND_LOG_LEVEL = "silent";
  await openIncidents(t.db, "default", [
    { stream: "news", campaign: "spring", counts: { sent: 1000, hard: 150 } },
  ]);
});
afterAll(async () => t?.drop());

describe("rebound incidents", () => {
  it("lists, shows, acknowledges and resolves an incident; resolving it resumes the stream it paused", async () => {
    const listed = await cli("incidents", "list", "--format", "json");
    expect(listed.code).toBe(0);
    const [inc] = JSON.parse(listed.stdout);
    expect(inc).toMatchObject({ ruleId: "hard-bounce-rate", severity: "pause", status: "open" });
    expect((await activePauses(t.db, "default")).map((p) => p.stream)).toEqual(["news"]);

    const text = await cli("incidents", "list");
    expect(text.stdout).toMatch(new RegExp(`^${inc.id}\\topen\\tpause\\thard-bounce-rate\\t`));

    const shown = await cli("incidents", "show", inc.id);
    expect(shown.stdout).toContain(
      "Hard-bounce rate 15.00% (150 of 1000 sent) in stream news, campaign spring",
    );
    expect(shown.stdout).toContain(" opened");

    const ack = await cli("incidents", "ack", inc.id, "--note", "on it", "--format", "json");
    expect(ack.code).toBe(0);
    expect(JSON.parse(ack.stdout)).toMatchObject({
      status: "acknowledged",
      acknowledgedBy: expect.stringMatching(/^cli:/),
    });
    const again = await cli("incidents", "ack", inc.id);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`incident ${inc.id} is acknowledged: it cannot be acknowledged`);

    const resolved = await cli("incidents", "resolve", inc.id, "--note", "list cleaned");
    expect(resolved.stdout).toBe(`incident ${inc.id} resolved\n`);
    expect(await activePauses(t.db, "default")).toEqual([]);
    const history = JSON.parse((await cli("incidents", "show", inc.id, "--format", "json")).stdout).history;
    expect(history.map((h: { type: string; note?: string }) => [h.type, h.note ?? null])).toEqual([
      ["opened", null],
      ["acknowledged", "on it"],
      ["resolved", "list cleaned"],
    ]);
    expect((await cli("incidents", "show", "424242")).code).toBe(1);
    expect((await cli("incidents", "list", "--status", "closed")).stderr).toContain(
      "--status must be one of",
    );
  });
});

describe("rebound incidents ack with routes", () => {
  it("sends the acknowledgement's notifications before it exits, without the worker", async () => {
    const received: string[] = [];
    const http = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString("utf8")));
      req.on("end", () => {
        received.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/chat`;
    const file = join(mkdtempSync(join(tmpdir(), "rebound-alerts-")), "alerts.json");
    writeFileSync(
      file,
      JSON.stringify({ routes: [{ id: "chat", channel: "slack", teams: ["marketing"], url }] }),
    );
    process.env.REBOUND_ALERTS = file;
    try {
      await openIncidents(
        t.db,
        "default",
        [{ stream: "promo", campaign: "", counts: { sent: 1000, hard: 30 } }],
        { alerts: loadAlerts({ alertsPath: file }) },
      );
      const [inc] = JSON.parse(
        (await cli("incidents", "list", "--status", "open", "--format", "json")).stdout,
      );
      expect(inc).toMatchObject({
        ruleId: "hard-bounce-rate",
        severity: "warning",
        scope: { stream: "promo" },
      });
      expect(received.map((b) => JSON.parse(b).text)).toEqual([
        expect.stringMatching(new RegExp(`^\\[WARNING\\] incident ${inc.id} opened`)),
      ]);
      const ack = await cli("incidents", "ack", inc.id);
      expect(ack.code).toBe(0);
      // Sent by the command itself: it is there when the command returns.
      expect(received.map((b) => JSON.parse(b).text)[1]).toMatch(
        new RegExp(`^\\[WARNING\\] incident ${inc.id} acknowledged`),
      );
      const history = JSON.parse((await cli("incidents", "show", inc.id, "--format", "json")).stdout).history;
      expect(history.map((h: { type: string; note?: string }) => [h.type, h.note ?? null])).toEqual([
        ["opened", null],
        ["notified", "opened"],
        ["acknowledged", null],
        ["notified", "acknowledged"],
      ]);
    } finally {
      delete process.env.REBOUND_ALERTS;
      await new Promise((r) => http.close(r));
    }
  });
});
