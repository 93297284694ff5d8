// Metrics and block alerts end to end: mails sent over SMTP to a running app (PostgreSQL, in-process queue)
// show in `GET /metrics` once processed, a counted block shows in `GET /v1/alerts/blocks`, and a process
// without the API role serves its metrics on REBOUND_METRICS_PORT.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import { startApp, type App } from "../../src/main.js";
import { getMail } from "../../src/store/mails.js";
import { createKey } from "../../src/store/keys.js";
import { sendOne } from "../helpers/smtp.js";
import { e2eConfigs } from "./app-config.js";
import { e2eMail, verp } from "./fixtures.js";
import { until } from "../helpers/until.js";

const config = e2eConfigs("metrics", {
  sweepIntervalMs: 200,
  blockAlertThreshold: 2,
  smtpMaxMessageBytes: 50_000,
});

/** The value of one sample of the Prometheus text (0 when the series is absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) continue;
    const rest = line.slice(name.length);
    if (!Object.entries(labels).every(([k, v]) => rest.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return 0;
}

/** The Exim DSN fixture turned into a Spamhaus block of the sending host. */
function blockMail(recipient: string, returnPath: string): Buffer {
  return Buffer.from(
    e2eMail("dsn-exim-user-unknown", { recipient, returnPath })
      .toString("latin1")
      .replaceAll(
        `550 5.1.1 <${recipient}>: No such user here`,
        "550 5.7.1 Service unavailable; client host [198.51.100.7] blocked using zen.spamhaus.org",
      )
      .replace("Status: 5.1.1", "Status: 5.7.1"),
    "latin1",
  );
}

/**
 * Scrapes until `ready` holds: counters move just after the work they count (a mail's row is committed before
 * the worker counts it; a request is counted once its response is sent).
 */
function scrape(url: string, ready: (text: string) => boolean, headers: Record<string, string> = {}) {
  return until(async () => {
    const res = await fetch(url, { headers });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    return ready(text) && text;
  });
}

async function deliver(app: App, raw: Buffer, rcpt: string): Promise<void> {
  const reply = await sendOne(app.smtpPort!, { from: "", to: [rcpt], data: raw });
  expect(reply.code, reply.text).toBe(250);
  const id = /queued as (\w+)/.exec(reply.text)![1]!;
  await until(async () => {
    const m = await getMail(app.db, id);
    return m && m.status !== "pending" && m.status !== "processing";
  });
}

describe("a full app (intake, worker, api)", () => {
  let app: App;
  let url: string;

  beforeAll(async () => {
    app = await startApp(config({}), undefined, { logger: createLogger("silent") });
    url = `http://127.0.0.1:${app.httpPort}`;
  });
  afterAll(async () => {
    await app?.close();
  });

  it("counts SMTP transactions, processed mails, events and blocks in GET /metrics", async () => {
    const gone = `gone-${randomBytes(3).toString("hex")}@example.org`;
    const rp = verp(gone, "marketing", "acme");
    await deliver(app, e2eMail("dsn-exim-user-unknown", { recipient: gone, returnPath: rp }), rp);
    for (let i = 0; i < 2; i++) {
      const who = `blocked-${i}-${randomBytes(3).toString("hex")}@gmail.com`;
      const brp = verp(who, "marketing", "acme");
      await deliver(app, blockMail(who, brp), brp);
    }
    const relay = await sendOne(app.smtpPort!, { from: "", to: ["someone@elsewhere.example"], data: "x" });
    expect(relay.code).toBe(550);
    const big = await sendOne(app.smtpPort!, {
      from: "",
      to: [rp],
      data: "Subject: big\r\n\r\n" + ("x".repeat(70) + "\r\n").repeat(1000),
    });
    expect(big.code).toBe(552);

    const text = await scrape(
      `${url}/metrics`,
      (t) => sample(t, "rebound_processing_duration_seconds_count") === 3,
    );
    expect(sample(text, "rebound_smtp_transactions_total", { outcome: "accepted" })).toBe(3);
    expect(sample(text, "rebound_smtp_transactions_total", { outcome: "rejected_relay" })).toBe(1);
    expect(sample(text, "rebound_smtp_transactions_total", { outcome: "too_large" })).toBe(1);
    expect(sample(text, "rebound_mails_processed_total", { status: "processed", kind: "bounce" })).toBe(3);
    expect(sample(text, "rebound_events_total", { class: "hard", reason: "userunknown" })).toBe(1);
    expect(sample(text, "rebound_events_total", { class: "block", reason: "blocked" })).toBe(2);
    expect(
      sample(text, "rebound_blocks_total", { tenant: "acme", stream: "marketing", provider: "google" }),
    ).toBe(2);
    expect(sample(text, "rebound_processing_duration_seconds_count")).toBe(3);
    expect(sample(text, "rebound_mails_backlog", { status: "pending" })).toBe(0);
    expect(text).toContain("rebound_process_cpu_seconds_total");
  });

  it("shows the counted blocks as an alert of the VERP's tenant only", async () => {
    const acme = await createKey(app.db, { tenant: "acme", scopes: ["read"] });
    const other = await createKey(app.db, { tenant: "other", scopes: ["read"] });
    const get = (token: string) =>
      fetch(`${url}/v1/alerts/blocks`, { headers: { authorization: `Bearer ${token}` } });
    const mine = await (await get(acme.token)).json();
    expect(mine).toMatchObject({
      threshold: 2,
      alerting: true,
      providers: [{ stream: "marketing", provider: "google", count: 2, alerting: true }],
      blocks: [{ stream: "marketing", provider: "google", reason: "blocked", count: 2, alerting: true }],
    });
    const theirs = await (await get(other.token)).json();
    expect(theirs).toMatchObject({ alerting: false, providers: [], blocks: [] });
  });

  it("counts API requests by route pattern and status", async () => {
    await fetch(`${url}/v1/alerts/blocks`);
    const text = await scrape(
      `${url}/metrics`,
      (t) => sample(t, "rebound_api_request_duration_seconds_count", { route: "/v1/alerts/blocks" }) === 3,
    );
    expect(
      sample(text, "rebound_api_requests_total", {
        method: "GET",
        route: "/v1/alerts/blocks",
        status: "200",
      }),
    ).toBe(2);
    expect(
      sample(text, "rebound_api_requests_total", {
        method: "GET",
        route: "/v1/alerts/blocks",
        status: "401",
      }),
    ).toBe(1);
    expect(
      sample(text, "rebound_api_request_duration_seconds_count", {
        method: "GET",
        route: "/v1/alerts/blocks",
      }),
    ).toBe(3);
  });
});

describe("an intake and worker process with REBOUND_METRICS_PORT and REBOUND_METRICS_TOKEN", () => {
  let app: App;
  let url: string;

  beforeAll(async () => {
    app = await startApp(config({ metricsPort: 0, metricsToken: "scrape-secret" }), ["intake", "worker"], {
      logger: createLogger("silent"),
    });
    url = `http://127.0.0.1:${app.metricsPort}/metrics`;
  });
  afterAll(async () => {
    await app?.close();
  });

  it("serves its metrics on the metrics port to a scraper that sends the token", async () => {
    expect(app.httpPort).toBeUndefined();
    const rcpt = `gone-${randomBytes(3).toString("hex")}@example.org`;
    const rp = verp(rcpt, "receipts", "acme");
    await deliver(app, e2eMail("dsn-exim-user-unknown", { recipient: rcpt, returnPath: rp }), rp);

    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    const text = await scrape(
      url,
      (t) => sample(t, "rebound_mails_processed_total", { status: "processed" }) === 1,
      { authorization: "Bearer scrape-secret" },
    );
    expect(sample(text, "rebound_smtp_transactions_total", { outcome: "accepted" })).toBe(1);
    expect(sample(text, "rebound_events_total", { class: "hard", reason: "userunknown" })).toBe(1);
  });
});
