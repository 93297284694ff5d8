// deploy/prometheus/rules.yml under `promtool test rules` (Debian's prometheus package), and
// deploy/grafana/rebound.json: valid JSON whose every query names metrics that Rebound's /metrics exports or that
// rules.yml records. The sends and outcome counters the rules read, counted through the API and the worker.
import { execFileSync, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetrics, countRollups, type Metrics } from "../../src/metrics.js";
import { loadConfig } from "../../src/config.js";
import { DEFAULT_POLICY } from "../../src/core/policy-config.js";
import { encodeVerp } from "../../src/core/verp.js";
import { createLogger } from "../../src/log.js";
import { startApi } from "../../src/api/server.js";
import { createKey } from "../../src/store/keys.js";
import { insertMail } from "../../src/store/mails.js";
import { processMail } from "../../src/worker/process-mail.js";
import { testClassifier } from "../helpers/classifier.js";
import { createTestDb, testHash, type TestDb } from "../helpers/db.js";
import { fixture, sha256 } from "../worker/mail-fixtures.js";

const root = new URL("../../", import.meta.url);
const RULES = new URL("deploy/prometheus/rules.yml", root).pathname;
const RULES_TEST = new URL("deploy/prometheus/rules.test.yml", root).pathname;
const DASHBOARD = new URL("deploy/grafana/rebound.json", root).pathname;

const promtool = spawnSync("promtool", ["--version"]).status === 0;
if (!promtool) console.log("promtool not found (Debian package `prometheus`): the rules' test is skipped");

let t: TestDb;
let metrics: Metrics;
let api: { port: number; close(): Promise<void> };
let exported: Set<string>;
let scrape: string;

beforeAll(async () => {
  t = await createTestDb();
  metrics = createMetrics({ processMetrics: false });
  const config = loadConfig(
    { httpHost: "127.0.0.1", httpPort: 0, providerDns: "off", verpKeys: "k1:metrics-test-secret-0001" },
    {},
  );
  api = await startApi({ db: t.db, config, hashAddress: testHash, logger: createLogger("silent"), metrics });
  const key = await createKey(t.db, { tenant: "acme", scopes: ["write"] });
  const sends = ["a@gmail.com", "b@gmail.com", "c@outlook.com"].map((recipient, i) =>
    JSON.stringify({
      recipient,
      stream: "news",
      messageId: `<m${i}-${randomUUID()}@x>`,
      sentAt: new Date().toISOString(),
    }),
  );
  const res = await fetch(`http://127.0.0.1:${api.port}/v1/sends`, {
    method: "POST",
    headers: { authorization: `Bearer ${key.token}`, "content-type": "application/x-ndjson" },
    body: sends.join("\n"),
  });
  expect((await res.json()).accepted).toBe(3);
  const delivered = await fetch(`http://127.0.0.1:${api.port}/v1/deliveries`, {
    method: "POST",
    headers: { authorization: `Bearer ${key.token}`, "content-type": "application/json" },
    body: JSON.stringify({ recipient: "b@gmail.com", stream: "news" }),
  });
  expect(delivered.status).toBeLessThan(300);
  // A hard bounce through the worker, counted as the worker's runner counts what a batch added to the rollups.
  const keys = [{ id: "k1", secret: "metrics-test-secret-0001" }];
  const returnPath = encodeVerp(
    { recipient: "a@gmail.com", stream: "news", tenant: "acme" },
    keys,
    "localhost",
  );
  const raw = fixture("dsn-hard", { recipient: "a@gmail.com", returnPath });
  const id = randomUUID();
  await insertMail(t.db, {
    id,
    mailFrom: "",
    rcptTo: [returnPath],
    raw,
    sha256: sha256(raw),
    receivedAt: new Date(),
  });
  const out = await processMail(
    {
      db: t.db,
      config,
      policy: DEFAULT_POLICY,
      hashAddress: testHash,
      logger: createLogger("silent"),
      now: () => new Date(),
      classifier: testClassifier(),
      counted: (incs) => countRollups(metrics, incs),
    },
    id,
  );
  expect(out.status).toBe("processed");
  scrape = await (await fetch(`http://127.0.0.1:${api.port}/metrics`)).text();
  exported = new Set([...scrape.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
});
afterAll(async () => {
  await api?.close();
  await t?.drop();
});

/** The metric names a PromQL expression reads (ours all start with `rebound`). */
const metricsIn = (expr: string) => [...expr.matchAll(/\brebound[\w:]*/g)].map((m) => m[0]);
/** A histogram's series are its name with _bucket, _sum or _count. */
const baseName = (m: string) => m.replace(/_(?:bucket|sum|count)$/, "");

const rulesText = readFileSync(RULES, "utf8");
const recorded = new Set([...rulesText.matchAll(/^\s*- record: (\S+)$/gm)].map((m) => m[1]!));

describe("the counters the rules read", () => {
  it("counts sends by tenant, stream and provider, and what came back (bounces, reported deliveries) by class", () => {
    expect(scrape).toContain('rebound_sends_total{tenant="acme",stream="news",provider="google"} 2');
    expect(scrape).toContain('rebound_sends_total{tenant="acme",stream="news",provider="microsoft"} 1');
    expect(scrape).toContain(
      'rebound_outcomes_total{tenant="acme",stream="news",provider="google",class="hard"} 1',
    );
  });
});

describe("deploy/prometheus/rules.yml", () => {
  it.skipIf(!promtool)("passes promtool check rules and its unit tests (promtool test rules)", () => {
    expect(execFileSync("promtool", ["check", "rules", RULES]).toString()).toContain("SUCCESS");
    const run = spawnSync("promtool", ["test", "rules", RULES_TEST]);
    expect(run.stdout.toString() + run.stderr.toString()).toContain("SUCCESS");
    expect(run.status).toBe(0);
  });

  it("reads only metrics that Rebound exports", () => {
    const exprs = [...rulesText.matchAll(/expr: (.+)$|^ {12}(\S.+)$/gm)].map((m) => m[1] ?? m[2]!);
    const read = exprs.flatMap(metricsIn).filter((m) => !recorded.has(m));
    expect(read.length).toBeGreaterThan(0);
    for (const m of read) expect(exported, m).toContain(baseName(m));
  });
});

describe("deploy/grafana/rebound.json", () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as {
    uid: string;
    panels: { title: string; targets?: { expr: string }[] }[];
    templating: { list: { query?: string | { query: string } }[] };
  };

  it("is a dashboard with panels that each query something", () => {
    expect(dashboard.uid).toBe("rebound-deliverability");
    const graphs = dashboard.panels.filter((p) => p.targets);
    expect(graphs.length).toBeGreaterThan(5);
    for (const p of graphs) expect(p.targets!.length, p.title).toBeGreaterThan(0);
  });

  it("queries only metrics that /metrics exports or rules.yml records", () => {
    const exprs = [
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((x) => x.expr)),
      ...dashboard.templating.list.flatMap((v) =>
        typeof v.query === "object" ? [v.query.query] : v.query ? [v.query] : [],
      ),
    ];
    const names = exprs.flatMap(metricsIn);
    expect(names.length).toBeGreaterThan(10);
    for (const m of names) {
      if (m.includes(":")) expect(recorded, m).toContain(m);
      else expect(exported, m).toContain(baseName(m));
    }
  });
});
