// The sending domain of events that do not come from a returned mail, on real PostgreSQL through the HTTP API:
// ESP webhooks (the source address SES, Postmark and Mailgun give), the Postfix log (the queue id's sender), and
// sends (`sendingDomain` or `from` on a message record), whose domain an event tied to the send takes when it
// shows none of its own (a SendGrid event carries no sender).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readMailgunEvent } from "../../src/core/esp/mailgun.js";
import { DEFAULT_POLICY } from "../../src/core/policy-config.js";
import { ingestPostfixLog } from "../../src/integrations/postfix/log-ingest.js";
import { createLogger } from "../../src/log.js";
import { client, startTestApi, type Client, type TestApi } from "../api/helpers.js";
import { createTestDb, testHash, type TestDb } from "../helpers/db.js";
import {
  basic,
  espSettingsFile,
  sendgridHeaders,
  sendgridSigner,
  snsMessage,
  snsSigner,
} from "../helpers/esp.js";

const OPEN_TOPIC = "arn:aws:sns:eu-west-1:123456789012:open";
const PM_PASSWORD = "postmark-webhook-password";
const sg = sendgridSigner();

let t: TestDb;
let api: TestApi;
let acme: Client;
let settingsDir: string;
let logDir: string;

beforeAll(async () => {
  t = await createTestDb();
  const file = espSettingsFile({
    ses: [{ tenant: "acme", stream: "marketing", topicArns: [OPEN_TOPIC], verifySignature: false }],
    sendgrid: [{ tenant: "acme", stream: "marketing", publicKey: sg.publicKey }],
    postmark: [{ tenant: "acme", stream: "marketing", user: "postmark", password: PM_PASSWORD }],
  });
  settingsDir = file.dir;
  logDir = mkdtempSync(join(tmpdir(), "rebound-sd-"));
  api = await startTestApi(t.db, { espConfigPath: file.path });
  acme = await client(t.db, api, "acme", ["read", "write"]);
});

afterAll(async () => {
  await api?.close();
  await t?.drop();
  rmSync(settingsDir, { recursive: true, force: true });
  rmSync(logDir, { recursive: true, force: true });
});

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${api.url}${path}`, { method: "POST", headers: { "content-type": "text/plain", ...headers }, body });

const domainOf = async (address: string) =>
  (
    await t.db
      .selectFrom("events")
      .select("sending_domain")
      .where("address", "=", address)
      .executeTakeFirstOrThrow()
  ).sending_domain;

describe("the sending domain of events from ESP webhooks", () => {
  it("is the domain of the source address SES gives (its From first, else its envelope sender)", async () => {
    const bounce = (address: string, mail: Record<string, unknown>) =>
      JSON.stringify(
        snsMessage(snsSigner(), {
          topicArn: OPEN_TOPIC,
          message: JSON.stringify({
            notificationType: "Bounce",
            bounce: {
              bounceType: "Permanent",
              bounceSubType: "General",
              bouncedRecipients: [{ emailAddress: address, status: "5.1.1" }],
              timestamp: new Date().toISOString(),
              feedbackId: `fb-${address}`,
            },
            mail: { messageId: `ses-${address}`, destination: [address], ...mail },
          }),
        }),
      );
    const from = await post(
      "/v1/ingest/ses",
      bounce("ses-a@example.org", {
        source: "bounces@mta.example.net",
        commonHeaders: { from: ["News <news@News.Example.com>"] },
      }),
    );
    expect(await from.json()).toMatchObject({ recorded: 1 });
    const source = await post(
      "/v1/ingest/ses",
      bounce("ses-b@example.org", { source: "ops@shop.example.net" }),
    );
    expect(await source.json()).toMatchObject({ recorded: 1 });
    expect(await domainOf("ses-a@example.org")).toBe("news.example.com");
    expect(await domainOf("ses-b@example.org")).toBe("shop.example.net");
  });

  it("is the domain of Postmark's From, and of Mailgun's From header (else its envelope sender)", async () => {
    const res = await post(
      "/v1/ingest/postmark",
      JSON.stringify({
        RecordType: "Bounce",
        ID: 7,
        Type: "HardBounce",
        MessageID: "pm-1",
        Details: "smtp;550 5.1.1 no such user",
        Email: "pm@example.org",
        From: "billing@invoices.example.com",
        BouncedAt: new Date().toISOString(),
      }),
      { authorization: basic("postmark", PM_PASSWORD) },
    );
    expect(await res.json()).toMatchObject({ recorded: 1 });
    expect(await domainOf("pm@example.org")).toBe("invoices.example.com");

    const mailgun = (extra: Record<string, unknown>) => {
      const item = readMailgunEvent(
        {
          event: "failed",
          severity: "permanent",
          reason: "bounce",
          id: "mg-1",
          recipient: "a@example.org",
          ...extra,
        },
        new Date(),
      );
      return "event" in item ? item.event.sendingDomain : item;
    };
    expect(mailgun({ message: { headers: { from: '"Shop" <hello@shop.example>' } } })).toBe("shop.example");
    expect(mailgun({ envelope: { sender: "bounce@mg.shop.example" } })).toBe("mg.shop.example");
    expect(mailgun({})).toBeUndefined();
  });
});

describe("the sending domain of sends", () => {
  it("is recorded from `sendingDomain` or `from`, a bad one refused by its line; an event tied to the send that shows none takes it", async () => {
    const at = new Date(Date.now() - 60_000).toISOString();
    const lines = [
      {
        recipient: "tied@example.org",
        stream: "marketing",
        messageId: "<sg-tied@x>",
        sentAt: at,
        sendingDomain: "Mail.Example.ORG.",
      },
      {
        recipient: "b@example.org",
        stream: "marketing",
        messageId: "<m-from@x>",
        sentAt: at,
        from: "Ann <ann@brand.example>",
      },
      { recipient: "c@example.org", stream: "marketing", messageId: "<m-none@x>", sentAt: at },
      {
        recipient: "d@example.org",
        stream: "marketing",
        messageId: "<m-bad@x>",
        sentAt: at,
        sendingDomain: "not a domain",
      },
    ];
    const res = await acme.send("POST", "/v1/sends", lines.map((l) => JSON.stringify(l)).join("\n"), {
      "content-type": "application/x-ndjson",
    });
    const answer = await res.json();
    expect(answer).toMatchObject({ accepted: 3 });
    expect(answer.errors).toEqual([expect.objectContaining({ line: 4, code: "bad_field" })]);
    const sends = await t.db
      .selectFrom("sends")
      .select(["message_id", "sending_domain"])
      .orderBy("message_id")
      .execute();
    expect(sends).toEqual([
      { message_id: "m-from@x", sending_domain: "brand.example" },
      { message_id: "m-none@x", sending_domain: null },
      { message_id: "sg-tied@x", sending_domain: "mail.example.org" },
    ]);

    // SendGrid's events name no sender: the bounce takes its send's domain through its Message-ID.
    const batch = JSON.stringify([
      {
        email: "tied@example.org",
        timestamp: Math.floor(Date.now() / 1000),
        "smtp-id": "<sg-tied@x>",
        event: "bounce",
        type: "bounce",
        status: "5.1.1",
        reason: "550 5.1.1 no such user",
        sg_event_id: "sg-tied-1",
      },
      {
        email: "untied@example.org",
        timestamp: Math.floor(Date.now() / 1000),
        "smtp-id": "<unknown@x>",
        event: "bounce",
        type: "bounce",
        status: "5.1.1",
        reason: "550 5.1.1 no such user",
        sg_event_id: "sg-untied-1",
      },
    ]);
    const sgRes = await post("/v1/ingest/sendgrid", batch, sendgridHeaders(sg, batch));
    expect(await sgRes.json()).toMatchObject({ recorded: 2 });
    expect(await domainOf("tied@example.org")).toBe("mail.example.org");
    expect(await domainOf("untied@example.org")).toBeNull();
  });
});

describe("the sending domain of events from the Postfix log", () => {
  it("is the domain of the queue id's sender (from=<...>)", async () => {
    const file = join(logDir, "mail.log");
    writeFileSync(
      file,
      [
        "Dec  7 04:38:46 relay postfix/qmgr[11608]: B0001: from=<orders@Shop.Example>, size=341, nrcpt=1 (queue active)",
        "Dec  7 04:38:47 relay postfix/smtp[11613]: B0001: to=<pf-gone@example.org>, relay=mx.example.org[192.0.2.10]:25, delay=0.2, delays=0/0/0.1/0, dsn=5.1.1, status=bounced (host mx.example.org[192.0.2.10] said: 550 5.1.1 User unknown (in reply to RCPT TO command))",
        "Dec  7 04:38:47 relay postfix/qmgr[11608]: B0001: removed",
        "",
      ].join("\n"),
    );
    await ingestPostfixLog(
      {
        db: t.db,
        policy: DEFAULT_POLICY,
        hashAddress: testHash,
        logger: createLogger("silent"),
        now: () => new Date("2026-12-07T12:00:00Z"),
      },
      { path: file },
      {
        attribution: {
          verpKeys: [],
          senderStreams: new Map(),
          tenant: "acme",
          defaultTenant: "default",
          defaultStream: "default",
          caseSensitiveLocalPart: false,
        },
      },
    );
    expect(await domainOf("pf-gone@example.org")).toBe("shop.example");
  });
});
