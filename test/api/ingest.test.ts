// POST /v1/ingest/*: ESP webhooks signed as each provider signs them (keys made here), through a real API on
// PostgreSQL: recorded through the policy once, refused (401, nothing recorded) when unsigned, wrongly signed
// or stale.
import { rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi } from "../../src/api/server.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { createTestDb, testHash, type TestDb } from "../helpers/db.js";
import {
  basic,
  espSettingsFile,
  mailgunSignature,
  sendgridHeaders,
  sendgridSigner,
  snsMessage,
  snsSigner,
} from "../helpers/esp.js";
import { client, startTestApi, type Client, type TestApi } from "./helpers.js";

const TOPIC = "arn:aws:sns:eu-west-1:123456789012:ses-events";
const OPEN_TOPIC = "arn:aws:sns:eu-west-1:123456789012:unsigned";
const MAILGUN_KEY = "mailgun-signing-key-0123456789";
const PM_PASSWORD = "postmark-webhook-password";

const sns = snsSigner();
const stranger = snsSigner();
const sg = sendgridSigner();
const sgOther = sendgridSigner();
const sgUnknown = sendgridSigner();

let t: TestDb;
let api: TestApi;
let bare: TestApi;
let acme: Client;
let settingsDir: string;

beforeAll(async () => {
  t = await createTestDb();
  const file = espSettingsFile(
    {
      ses: [
        { tenant: "acme", stream: "marketing", topicArns: [TOPIC], certificateFile: "$DIR/sns.pem" },
        { name: "open", tenant: "acme", topicArns: [OPEN_TOPIC], verifySignature: false },
      ],
      sendgrid: [
        { tenant: "acme", stream: "marketing", publicKey: sg.publicKey },
        { tenant: "other", stream: "marketing", publicKeyFile: "$DIR/sendgrid.key" },
      ],
      mailgun: [{ tenant: "acme", stream: "marketing", signingKeyFile: "$DIR/mailgun.key" }],
      postmark: [{ tenant: "acme", stream: "marketing", user: "postmark", password: PM_PASSWORD }],
    },
    { "sns.pem": sns.certificatePem, "sendgrid.key": sgOther.publicKey, "mailgun.key": `${MAILGUN_KEY}\n` },
  );
  settingsDir = file.dir;
  api = await startTestApi(t.db, { espConfigPath: file.path });
  bare = await startTestApi(t.db);
  acme = await client(t.db, api, "acme", ["read", "write"]);
});

afterAll(async () => {
  await api?.close();
  await bare?.close();
  await t?.drop();
  rmSync(settingsDir, { recursive: true, force: true });
});

const post = (path: string, body: string, headers: Record<string, string> = {}, base = api) =>
  fetch(`${base.url}${path}`, {
    method: "POST",
    headers: { "content-type": "text/plain", ...headers },
    body,
  });

const eventsOf = (address: string) =>
  t.db.selectFrom("events").selectAll().where("address", "=", address).orderBy("id").execute();

const suppressed = (tenant: string, stream: string, address: string) =>
  t.db
    .selectFrom("suppressions")
    .select(["reason", "class", "rule"])
    .where("tenant", "=", tenant)
    .where("stream", "=", stream)
    .where("address", "=", address)
    .executeTakeFirst();

const sesBounce = (address: string, subType = "NoEmail", extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    notificationType: "Bounce",
    bounce: {
      bounceType: "Permanent",
      bounceSubType: subType,
      bouncedRecipients: [{ emailAddress: address, action: "failed", status: "5.1.1" }],
      timestamp: new Date().toISOString(),
      feedbackId: `fb-${address}`,
      reportingMTA: "dsn; a8-1.smtp-out.amazonses.com",
    },
    mail: { messageId: `ses-${address}`, destination: [address], ...extra },
  });

describe("POST /v1/ingest/ses", () => {
  it("records a signed SES bounce through the policy (suppressed, esp:ses, the mapping entry), once however often SNS sends it", async () => {
    const body = JSON.stringify(snsMessage(sns, { topicArn: TOPIC, message: sesBounce("gone@example.org") }));
    const res = await post("/v1/ingest/ses", body);
    expect(res.status).toBe(200);
    const answer = await res.json();
    expect(answer).toMatchObject({ recorded: 1, duplicates: 0, ignored: 0, invalid: 0 });
    const [e] = await eventsOf("gone@example.org");
    expect(e).toMatchObject({
      tenant: "acme",
      stream: "marketing",
      source: "esp",
      kind: "bounce",
      reason: "userunknown",
      class: "hard",
      permanent: true,
      parser: "esp:ses",
      rule: "ses.bounce.permanent.noemail",
      verified: true,
    });
    expect(answer.eventIds).toEqual([String(e!.id)]);
    expect(await suppressed("acme", "marketing", "gone@example.org")).toMatchObject({
      reason: "userunknown",
      class: "hard",
    });

    const again = await post("/v1/ingest/ses", body);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ recorded: 0, duplicates: 1 });
    expect(await eventsOf("gone@example.org")).toHaveLength(1);

    // the API shows where it came from
    const listed = await (await acme.get("/v1/events?address=gone%40example.org")).json();
    expect(listed.data).toHaveLength(1);
    expect(listed.data[0]).toMatchObject({
      source: "esp",
      parser: "esp:ses",
      rule: "ses.bounce.permanent.noemail",
    });
  });

  it("takes SignatureVersion 2 (SHA256) and the stream the message's tag names", async () => {
    const message = JSON.stringify({
      eventType: "Complaint",
      complaint: {
        complainedRecipients: [{ emailAddress: "angry@example.org" }],
        feedbackId: "fb-angry",
        complaintFeedbackType: "abuse",
        timestamp: new Date().toISOString(),
      },
      mail: { messageId: "ses-angry", tags: { rebound_stream: ["news"] } },
    });
    const res = await post(
      "/v1/ingest/ses",
      JSON.stringify(snsMessage(sns, { topicArn: TOPIC, message, version: "2" })),
    );
    expect(await res.json()).toMatchObject({ recorded: 1 });
    expect(await eventsOf("angry@example.org")).toMatchObject([
      { stream: "news", class: "complaint", feedback_type: "abuse", rule: "ses.complaint" },
    ]);
    expect(await suppressed("acme", "news", "angry@example.org")).toBeDefined();
  });

  it("refuses with 401, recording nothing: another certificate's signature, an altered message, an unknown topic, a stale timestamp, no signature", async () => {
    const message = sesBounce("forged@example.org");
    const good = snsMessage(sns, { topicArn: TOPIC, message });
    const cases: [string, Record<string, string>][] = [
      ["another certificate", snsMessage(stranger, { topicArn: TOPIC, message })],
      ["altered", { ...good, Message: sesBounce("forged@example.org", "Suppressed") }],
      ["unknown topic", snsMessage(sns, { topicArn: `${TOPIC}-x`, message })],
      ["stale", snsMessage(sns, { topicArn: TOPIC, message, timestamp: new Date(Date.now() - 20 * 60_000) })],
      ["unsigned", { Type: "Notification", Message: message, TopicArn: TOPIC }],
    ];
    for (const [what, m] of cases) {
      const res = await post("/v1/ingest/ses", JSON.stringify(m));
      expect(res.status, what).toBe(401);
      expect((await res.json()).error.code, what).toBe("unauthorized");
    }
    expect(await eventsOf("forged@example.org")).toEqual([]);
    expect((await post("/v1/ingest/ses", "{not json")).status).toBe(400);
  });

  it("logs a subscription confirmation (not fetched unless configured) and records nothing", async () => {
    const m = snsMessage(sns, {
      topicArn: TOPIC,
      type: "SubscriptionConfirmation",
      message: `You have chosen to subscribe to the topic ${TOPIC}.`,
    });
    const res = await post("/v1/ingest/ses", JSON.stringify(m));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ recorded: 0, subscription: "logged" });
  });

  it("counts an SES delivery as delivered, tied to its send by Message-ID (campaign, hour of the send)", async () => {
    const sentAt = new Date(Date.now() - 2 * 3_600_000);
    const sent = await acme.send("POST", "/v1/sends", {
      sends: [
        {
          recipient: "reader@example.org",
          stream: "marketing",
          campaign: "spring",
          messageId: "<spring-1@example.com>",
          sentAt: sentAt.toISOString(),
        },
      ],
    });
    expect(sent.status).toBe(200);
    const message = JSON.stringify({
      notificationType: "Delivery",
      delivery: {
        timestamp: new Date().toISOString(),
        recipients: ["reader@example.org"],
        smtpResponse: "250 2.0.0 OK",
      },
      mail: {
        messageId: "ses-reader",
        headers: [{ name: "Message-ID", value: "<spring-1@example.com>" }],
      },
    });
    const res = await post("/v1/ingest/ses", JSON.stringify(snsMessage(sns, { topicArn: TOPIC, message })));
    expect(await res.json()).toMatchObject({ recorded: 1 });
    expect(await eventsOf("reader@example.org")).toMatchObject([
      { class: "delivered", campaign: "spring", rule: "ses.delivery" },
    ]);
    const rollup = await t.db
      .selectFrom("rollups")
      .select(["delivered", "hour"])
      .where("tenant", "=", "acme")
      .where("campaign", "=", "spring")
      .where("delivered", ">", 0 as never)
      .execute();
    expect(rollup.map((r) => Number(r.delivered))).toEqual([1]);
    expect(new Date(rollup[0]!.hour).getTime()).toBe(Math.floor(sentAt.getTime() / 3_600_000) * 3_600_000);
  });

  it("takes a message on its topic alone from an endpoint configured so (verifySignature: false)", async () => {
    const m = { ...snsMessage(stranger, { topicArn: OPEN_TOPIC, message: sesBounce("open@example.org") }) };
    const res = await post("/v1/ingest/ses", JSON.stringify(m));
    expect(await res.json()).toMatchObject({ recorded: 1 });
  });
});

describe("POST /v1/ingest/ses, an endpoint that confirms subscriptions", () => {
  // Its own API, whose log lines are kept: the route answers `failed` both for a SubscribeURL it refuses and for
  // one it fetched in vain (this machine has no route to AWS; with one, SNS refuses the made-up token), and says
  // which in the log.
  const CONFIRM_TOPIC = "arn:aws:sns:eu-west-1:123456789012:confirmed";
  const logged: { msg: string; subscribeUrl?: string; err?: unknown }[] = [];
  let confirming: { url: string; close(): Promise<void> };
  let dir: string;
  // A listener standing for a host that is not SNS: any connection to it is a fetch that should not have been.
  const connections: string[] = [];
  const trap = createServer((s) => {
    connections.push(String(s.remotePort));
    s.destroy();
  });

  beforeAll(async () => {
    const file = espSettingsFile(
      {
        ses: [
          {
            name: "confirming",
            tenant: "acme",
            topicArns: [CONFIRM_TOPIC],
            certificateFile: "$DIR/sns.pem",
            confirmSubscriptions: true,
          },
        ],
      },
      { "sns.pem": sns.certificatePem },
    );
    dir = file.dir;
    const logger = createLogger("info", { write: (line: string) => void logged.push(JSON.parse(line)) });
    const started = await startApi({
      db: t.db,
      config: loadConfig({ httpHost: "127.0.0.1", httpPort: 0, espConfigPath: file.path }, {}),
      hashAddress: testHash,
      logger,
    });
    confirming = { url: `http://127.0.0.1:${started.port}`, close: started.close };
    await new Promise<void>((r) => trap.listen(0, "127.0.0.1", r));
  });
  afterAll(async () => {
    await confirming?.close();
    await new Promise((r) => trap.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const confirmation = (subscribeUrl: string) =>
    JSON.stringify(
      snsMessage(sns, {
        topicArn: CONFIRM_TOPIC,
        type: "SubscriptionConfirmation",
        message: `You have chosen to subscribe to the topic ${CONFIRM_TOPIC}.`,
        subscribeUrl,
      }),
    );
  const linesOf = (url: string) => logged.filter((l) => l.subscribeUrl === url);

  it("refuses to fetch a SubscribeURL that is not https://sns.<region>.amazonaws.com/ (another host, a lookalike, plain http): failed, said so, no connection made", async () => {
    const port = (trap.address() as AddressInfo).port;
    const urls = [
      `https://127.0.0.1:${port}/?Action=ConfirmSubscription&TopicArn=${CONFIRM_TOPIC}&Token=abc`,
      `https://sns.eu-west-1.amazonaws.com.attacker.example/?Action=ConfirmSubscription`,
      `https://sns-eu-west-1.amazonaws.com/?Action=ConfirmSubscription`,
      `http://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription`,
    ];
    for (const url of urls) {
      const res = await post("/v1/ingest/ses", confirmation(url), {}, confirming);
      expect(res.status, url).toBe(200);
      expect(await res.json(), url).toMatchObject({ recorded: 0, subscription: "failed" });
      expect(
        linesOf(url).map((l) => l.msg),
        url,
      ).toEqual(["SNS SubscribeURL is not an https://sns.<region>.amazonaws.com/ URL: not fetched"]);
    }
    expect(connections).toEqual([]);
  });

  it("fetches an https://sns.<region>.amazonaws.com/ SubscribeURL: tried, and said to have failed with the error (no route to AWS here)", async () => {
    const url = `https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${CONFIRM_TOPIC}&Token=0f`;
    const res = await post("/v1/ingest/ses", confirmation(url), {}, confirming);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ recorded: 0, subscription: "failed" });
    const lines = linesOf(url);
    expect(lines.map((l) => l.msg)).toEqual([
      "SNS subscription could not be confirmed: open the SubscribeURL by hand",
    ]);
    // What the fetch itself failed with: no route or name (undici's "fetch failed: <cause>"), no answer in time,
    // or SNS refusing the made-up token.
    expect((lines[0]!.err as { message: string }).message).toMatch(
      /^(?:fetch failed|HTTP 4\d\d$|The operation was aborted due to timeout)/,
    );
  }, 30_000);
});

describe("POST /v1/ingest/sendgrid", () => {
  const batch = JSON.stringify([
    {
      email: "sg-gone@example.org",
      timestamp: Math.floor(Date.now() / 1000),
      "smtp-id": "<sg-1@example.com>",
      event: "bounce",
      type: "bounce",
      bounce_classification: "Invalid Address",
      status: "5.1.1",
      reason: "550 5.1.1 The email account that you tried to reach does not exist",
      sg_event_id: "sg-ev-1",
      sg_message_id: "sg-msg-1",
    },
    {
      email: "sg-ok@example.org",
      timestamp: 1,
      event: "delivered",
      response: "250 OK",
      sg_event_id: "sg-ev-2",
    },
    { email: "sg-ok@example.org", timestamp: 1, event: "open", sg_event_id: "sg-ev-3" },
    { email: "sg-spam@example.org", timestamp: 1, event: "spamreport", sg_event_id: "sg-ev-4" },
    { event: "bounce", type: "bounce", sg_event_id: "sg-ev-5" },
  ]);

  it("records a signed batch: bounces, deliveries and spam reports; opens ignored; an item without a recipient named", async () => {
    const res = await post("/v1/ingest/sendgrid", batch, sendgridHeaders(sg, batch));
    expect(res.status).toBe(200);
    const answer = await res.json();
    expect(answer).toMatchObject({ recorded: 3, duplicates: 0, ignored: 1, invalid: 1 });
    expect(answer.problems).toEqual(["bounce/bounce: no recipient"]);
    expect(await eventsOf("sg-gone@example.org")).toMatchObject([
      {
        tenant: "acme",
        class: "hard",
        reason: "userunknown",
        parser: "esp:sendgrid",
        rule: "sendgrid.bounce.invalid-address",
      },
    ]);
    expect(await eventsOf("sg-spam@example.org")).toMatchObject([{ class: "complaint" }]);
    const again = await post("/v1/ingest/sendgrid", batch, sendgridHeaders(sg, batch));
    expect(await again.json()).toMatchObject({ recorded: 0, duplicates: 3 });
  });

  it("records several events of one address in one request, in order, and an event repeated within it once", async () => {
    const at = Math.floor(Date.now() / 1000);
    const body = JSON.stringify([
      { email: "twice@example.org", timestamp: at - 60, event: "delivered", sg_event_id: "t-1" },
      {
        email: "twice@example.org",
        timestamp: at,
        event: "bounce",
        type: "blocked",
        status: "5.7.1",
        reason: "550 5.7.1 blocked by policy",
        sg_event_id: "t-2",
      },
      { email: "twice@example.org", timestamp: at, event: "bounce", type: "blocked", sg_event_id: "t-2" },
    ]);
    const res = await post("/v1/ingest/sendgrid", body, sendgridHeaders(sg, body));
    expect(await res.json()).toMatchObject({ recorded: 2, duplicates: 1 });
    const events = await eventsOf("twice@example.org");
    expect(events.map((e) => e.class)).toEqual(["delivered", "block"]);
  });

  it("gives the events to the tenant whose key verified the request", async () => {
    const body = JSON.stringify([
      {
        email: "sg-other@example.org",
        timestamp: 1,
        event: "dropped",
        reason: "Bounced Address",
        sg_event_id: "o-1",
      },
    ]);
    expect(
      await (await post("/v1/ingest/sendgrid", body, sendgridHeaders(sgOther, body))).json(),
    ).toMatchObject({
      recorded: 1,
    });
    expect(await eventsOf("sg-other@example.org")).toMatchObject([{ tenant: "other", reason: "suppressed" }]);
  });

  it("refuses with 401, recording nothing: an unknown key, an altered body, a stale timestamp, no signature", async () => {
    const body = JSON.stringify([
      { email: "sg-forged@example.org", timestamp: 1, event: "spamreport", sg_event_id: "f-1" },
    ]);
    const altered = body.replace("spamreport", "delivered");
    const cases: [string, string, Record<string, string>][] = [
      ["unknown key", body, sendgridHeaders(sgUnknown, body)],
      ["altered body", altered, sendgridHeaders(sg, body)],
      ["stale", body, sendgridHeaders(sg, body, new Date(Date.now() - 16 * 60_000))],
      ["unsigned", body, { "content-type": "application/json" }],
    ];
    for (const [what, b, h] of cases)
      expect((await post("/v1/ingest/sendgrid", b, h)).status, what).toBe(401);
    expect(await eventsOf("sg-forged@example.org")).toEqual([]);
  });
});

/** A Mailgun permanent failure as its webhook sends it (`event-data`). */
const mailgunFailure = (id: string, recipient: string) => ({
  event: "failed",
  severity: "permanent",
  reason: "bounce",
  id,
  timestamp: Date.now() / 1000,
  recipient,
  "delivery-status": {
    code: 550,
    message: "5.1.1 The email account that you tried to reach does not exist.",
    description: "",
    "attempt-no": 1,
  },
  message: { headers: { "message-id": "mg-1@example.com" } },
  "user-variables": { rebound_stream: "billing" },
});

describe("POST /v1/ingest/mailgun", () => {
  it("records a signed webhook (user unknown read from the reply, the stream its user variable names)", async () => {
    const body = JSON.stringify({
      signature: mailgunSignature(MAILGUN_KEY),
      "event-data": mailgunFailure("mg-ev-1", "mg-gone@example.org"),
    });
    const res = await post("/v1/ingest/mailgun", body, { "content-type": "application/json" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ recorded: 1 });
    const [e] = await eventsOf("mg-gone@example.org");
    expect(e).toMatchObject({
      stream: "billing",
      class: "hard",
      reason: "userunknown",
      parser: "esp:mailgun",
    });
    expect(e!.rule).toMatch(/^mailgun\.failed\.permanent\//);
  });

  it("refuses with 401, recording nothing: another key, a stale timestamp, no signature", async () => {
    const data = mailgunFailure("mg-ev-f", "mg-forged@example.org");
    const cases: [string, unknown][] = [
      ["another key", { signature: mailgunSignature("not-the-key-0000"), "event-data": data }],
      [
        "stale",
        { signature: mailgunSignature(MAILGUN_KEY, new Date(Date.now() - 3_600_000)), "event-data": data },
      ],
      ["unsigned", { "event-data": data }],
    ];
    for (const [what, b] of cases)
      expect((await post("/v1/ingest/mailgun", JSON.stringify(b))).status, what).toBe(401);
    expect(await eventsOf("mg-forged@example.org")).toEqual([]);
  });
});

describe("POST /v1/ingest/postmark", () => {
  const bounce = (id: number, email: string) =>
    JSON.stringify({
      RecordType: "Bounce",
      ID: id,
      Type: "HardBounce",
      TypeCode: 1,
      MessageID: "883953f4-6105-42a2-a16a-77a8eac79483",
      Details: "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
      Email: email,
      BouncedAt: new Date().toISOString(),
      MessageStream: "outbound",
    });

  it("records a bounce sent with the endpoint's basic authentication", async () => {
    const res = await post("/v1/ingest/postmark", bounce(42, "pm-gone@example.org"), {
      authorization: basic("postmark", PM_PASSWORD),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ recorded: 1 });
    expect(await eventsOf("pm-gone@example.org")).toMatchObject([
      { class: "hard", reason: "userunknown", parser: "esp:postmark" },
    ]);
  });

  it("refuses with 401 and a Basic challenge, recording nothing: a wrong password, no credentials", async () => {
    const attempts: Record<string, string>[] = [
      { authorization: basic("postmark", "wrong-password-123") },
      {},
    ];
    for (const h of attempts) {
      const res = await post("/v1/ingest/postmark", bounce(43, "pm-forged@example.org"), h);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Basic/);
    }
    expect(await eventsOf("pm-forged@example.org")).toEqual([]);
  });
});

describe("an API without ESP endpoints", () => {
  it("answers 404 naming the setting on each ingest route", async () => {
    for (const p of ["ses", "sendgrid", "mailgun", "postmark"]) {
      const res = await post(`/v1/ingest/${p}`, "{}", {}, bare);
      expect(res.status).toBe(404);
      expect((await res.json()).error.message).toContain("REBOUND_ESP_CONFIG");
    }
  });
});

describe("refused requests per client IP, and the ingest metrics", () => {
  let limited: TestApi;
  beforeAll(async () => {
    const file = espSettingsFile(
      { mailgun: [{ tenant: "acme", stream: "marketing", signingKey: MAILGUN_KEY }] },
      {},
    );
    limited = await startTestApi(t.db, {
      espConfigPath: file.path,
      espFailuresPerMinute: 2,
      apiBodyLimitBytes: 4096,
    });
    rmSync(file.dir, { recursive: true, force: true });
  });
  afterAll(async () => {
    await limited?.close();
  });

  const sample = (text: string, provider: string, label: string, value: string) =>
    Number(
      text
        .split("\n")
        .find((l) => l.startsWith(`${provider}{`) && l.includes(`${label}="${value}"`))
        ?.split(" ")
        .pop() ?? 0,
    );

  it("answers 429 with Retry-After past the allowance of refusals, still takes a verified request from the same IP, and counts each outcome and event", async () => {
    const forged = () =>
      post(
        "/v1/ingest/mailgun",
        JSON.stringify({
          signature: mailgunSignature("not-the-key-0000"),
          "event-data": mailgunFailure("mg-rl-forged", "mg-rl-forged@example.org"),
        }),
        {},
        limited,
      );
    expect((await forged()).status).toBe(401);
    expect((await post("/v1/ingest/mailgun", "{}", {}, limited)).status).toBe(401); // unsigned
    const over = await forged();
    expect(over.status).toBe(429);
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await over.json()).error).toMatchObject({
      code: "rate_limited",
      details: { espFailuresPerMinute: 2, refused: "bad_signature" },
    });

    const good = await post(
      "/v1/ingest/mailgun",
      JSON.stringify({
        signature: mailgunSignature(MAILGUN_KEY),
        "event-data": mailgunFailure("mg-rl-good", "mg-rl-good@example.org"),
      }),
      {},
      limited,
    );
    expect(good.status).toBe(200);
    expect(await good.json()).toMatchObject({ recorded: 1 });
    expect(await eventsOf("mg-rl-forged@example.org")).toEqual([]);
    expect(await eventsOf("mg-rl-good@example.org")).toHaveLength(1);
    expect((await post("/v1/ingest/mailgun", "not json", {}, limited)).status).toBe(400);
    expect((await post("/v1/ingest/postmark", "{}", {}, limited)).status).toBe(404);
    expect((await post("/v1/ingest/mailgun", "x".repeat(5000), {}, limited)).status).toBe(413);

    const text = await (await fetch(`${limited.url}/metrics`)).text();
    const req = (provider: string, outcome: string) =>
      sample(
        text
          .split("\n")
          .filter((l) => l.includes(`provider="${provider}"`))
          .join("\n"),
        "rebound_esp_requests_total",
        "outcome",
        outcome,
      );
    expect({
      bad_signature: req("mailgun", "bad_signature"),
      unsigned: req("mailgun", "unsigned"),
      rate_limited: req("mailgun", "rate_limited"),
      accepted: req("mailgun", "accepted"),
      malformed: req("mailgun", "malformed"),
      too_large: req("mailgun", "too_large"),
      not_configured: req("postmark", "not_configured"),
    }).toEqual({
      too_large: 1,
      bad_signature: 1,
      unsigned: 1,
      rate_limited: 1,
      accepted: 1,
      malformed: 1,
      not_configured: 1,
    });
    expect(sample(text, "rebound_esp_events_total", "result", "recorded")).toBe(1);
  });
});
