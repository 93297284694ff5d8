// The Nodemailer plugin with real Nodemailer sending over SMTP to a sink (smtp-server) and a real API over
// PostgreSQL: suppressed recipients are refused or dropped before sending, and the envelope's MAIL FROM is a
// signed return path that decodes for the recipient and that Rebound's MX accepts at RCPT.
import nodemailer from "nodemailer";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createClient, type ReboundClient } from "../../src/client/index.js";
import { loadConfig, type Config } from "../../src/config.js";
import { decodeVerp } from "../../src/core/verp.js";
import { createIntake, type Intake } from "../../src/intake/server.js";
import { selfSignedTls } from "../../src/intake/tls.js";
import { createLogger } from "../../src/log.js";
import { createMemoryQueue } from "../../src/queue/memory.js";
import type { Queue } from "../../src/queue/types.js";
import { createKey } from "../../src/store/keys.js";
import {
  ReboundReturnPathError,
  ReboundSuppressedError,
  useRebound,
  type ReboundNodemailerOptions,
} from "../../src/nodemailer/index.js";
import { startTestApi, type TestApi } from "../api/helpers.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { SmtpClient } from "../helpers/smtp.js";

const DOMAIN = "bounces.example.com";
const KEY = { id: "k1", secret: "nodemailer-test-secret-01" };
const KEYS_ENV = `${KEY.id}:${KEY.secret}`;

interface Received {
  mailFrom: string;
  rcptTo: string[];
  raw: string;
}

let t: TestDb;
let api: TestApi;
let client: ReboundClient;
let sink: SMTPServer;
let sinkPort: number;
let received: Received[] = [];
let intake: Intake;
let intakePort: number;
let queue: Queue;

beforeAll(async () => {
  t = await createTestDb();
  api = await startTestApi(t.db, { domains: DOMAIN, verpKeys: KEYS_ENV } as unknown as Partial<Config>);
  client = createClient({
    baseUrl: api.url,
    token: (await createKey(t.db, { tenant: "acme", scopes: ["read", "write"] })).token,
  });

  sink = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        received.push({
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString("utf8"),
        });
        callback();
      });
    },
  });
  await new Promise<void>((r) => sink.listen(0, "127.0.0.1", r));
  sinkPort = (sink.server.address() as { port: number }).port;

  queue = createMemoryQueue();
  intake = createIntake({
    config: loadConfig(
      { domains: DOMAIN, smtpHost: "127.0.0.1", smtpPort: 0, smtpRateLimitPerMinute: 0, verpKeys: KEYS_ENV },
      {},
    ),
    db: t.db,
    queue,
    logger: createLogger("silent"),
    tls: await selfSignedTls("mx.test"),
  });
  intakePort = (await intake.listen()).port;

  await client.suppress("gone@example.org", { stream: "*", reason: "userunknown" });
  await client.suppress("complained@example.org", { stream: "news", reason: "feedback" });
});

afterAll(async () => {
  await intake?.close();
  await queue?.close();
  await new Promise<void>((r) => (sink ? sink.close(() => r()) : r()));
  await api?.close();
  await t?.drop();
});

beforeEach(() => {
  received = [];
});

function transporter(options: Partial<ReboundNodemailerOptions> = {}) {
  return useRebound(
    nodemailer.createTransport({ host: "127.0.0.1", port: sinkPort, secure: false, ignoreTLS: true }),
    {
      client,
      stream: "news",
      ...options,
    },
  );
}

/** Whether Rebound's MX takes the address at RCPT (a bounce to it would be accepted). */
async function mxAccepts(returnPath: string): Promise<number> {
  const { client: smtp } = await SmtpClient.connect(intakePort);
  try {
    await smtp.command("EHLO mta.example.net");
    await smtp.command("MAIL FROM:<>");
    return (await smtp.command(`RCPT TO:<${returnPath}>`)).code;
  } finally {
    await smtp.command("QUIT");
  }
}

const mail = (to: string | string[]) => ({
  from: "News <news@example.com>",
  to,
  subject: "hello",
  text: "hi",
});

describe("the Nodemailer plugin", () => {
  it("sends with a MAIL FROM signed for the recipient (via the API), which decodes and which the MX accepts", async () => {
    const info = await transporter().sendMail(mail("Jane <jane@example.org>"));
    expect(info.accepted).toEqual(["jane@example.org"]);
    expect(received).toHaveLength(1);
    const mailFrom = received[0]!.mailFrom;
    expect(received[0]!.rcptTo).toEqual(["jane@example.org"]);
    expect(mailFrom).toBe(info.rebound.returnPath);
    expect(mailFrom.endsWith(`@${DOMAIN}`)).toBe(true);
    expect(decodeVerp(mailFrom, [KEY])).toMatchObject({
      ok: true,
      recipient: "jane@example.org",
      stream: "news",
      tenant: "acme",
    });
    expect(await mxAccepts(mailFrom)).toBe(250);
    expect(info.rebound.dropped).toEqual([]);
  });

  it("signs locally with the key when given, and the MX accepts that return path", async () => {
    const tx = transporter({ verp: { keys: KEYS_ENV, domain: DOMAIN, tenant: "acme" } });
    await tx.sendMail(mail("bob@example.org"));
    const mailFrom = received[0]!.mailFrom;
    expect(decodeVerp(mailFrom, [KEY])).toMatchObject({
      ok: true,
      recipient: "bob@example.org",
      tenant: "acme",
    });
    expect(await mxAccepts(mailFrom)).toBe(250);
    // A forged one (another key) is refused at RCPT: the check above can fail.
    const forged = mailFrom.replace(/.{8}@/, "aaaaaaaa@");
    expect(await mxAccepts(forged)).toBe(550);
  });

  it("refuses a mail with a suppressed recipient, naming the address and the reason; nothing is sent", async () => {
    const err = await transporter()
      .sendMail(mail(["ok@example.org", "gone@example.org"]))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReboundSuppressedError);
    expect((err as ReboundSuppressedError).suppressed).toEqual([
      expect.objectContaining({ address: "gone@example.org", reason: "userunknown", stream: "*" }),
    ]);
    expect((err as Error).message).toContain("gone@example.org (userunknown");
    expect(received).toEqual([]);
  });

  it("looks up in the mail's stream: a complaint in news refuses a news mail, not a transactional one", async () => {
    await expect(transporter().sendMail(mail("complained@example.org"))).rejects.toBeInstanceOf(
      ReboundSuppressedError,
    );
    await transporter({ stream: () => "transactional" }).sendMail(mail("complained@example.org"));
    expect(received.map((r) => r.rcptTo)).toEqual([["complained@example.org"]]);
    expect(decodeVerp(received[0]!.mailFrom, [KEY])).toMatchObject({ ok: true, stream: "transactional" });
  });

  it("drops suppressed recipients (to, cc, bcc), reports them in info, and signs for the one left", async () => {
    const info = await transporter({ suppressed: "drop" }).sendMail({
      ...mail("Ann <ann@example.org>, gone@example.org"),
      cc: "complained@example.org",
      bcc: ["gone@example.org"],
    });
    expect(received).toHaveLength(1);
    expect(received[0]!.rcptTo).toEqual(["ann@example.org"]);
    expect(received[0]!.raw).not.toContain("gone@example.org");
    expect(received[0]!.raw).not.toContain("complained@example.org");
    expect(info.accepted).toEqual(["ann@example.org"]);
    expect(info.rebound.dropped.map((d) => [d.address, d.reason]).sort()).toEqual([
      ["complained@example.org", "feedback"],
      ["gone@example.org", "userunknown"],
    ]);
    expect(decodeVerp(String(info.rebound.returnPath), [KEY])).toMatchObject({
      ok: true,
      recipient: "ann@example.org",
    });
  });

  it("sends nothing and says so in info when every recipient is dropped", async () => {
    const info = await transporter({ suppressed: "drop" }).sendMail(mail("gone@example.org"));
    expect(received).toEqual([]);
    expect(info).toMatchObject({ accepted: [], rejected: ["gone@example.org"], rebound: { skipped: true } });
  });

  it("refuses a mail to several recipients (a signed return path names one) unless a fallback return path is set", async () => {
    await expect(transporter().sendMail(mail(["a@example.org", "b@example.org"]))).rejects.toBeInstanceOf(
      ReboundReturnPathError,
    );
    expect(received).toEqual([]);
    await transporter({ fallbackReturnPath: `bounces@${DOMAIN}` }).sendMail(
      mail(["a@example.org", "b@example.org"]),
    );
    expect(received[0]).toMatchObject({
      mailFrom: `bounces@${DOMAIN}`,
      rcptTo: ["a@example.org", "b@example.org"],
    });
  });

  it("split: sends a mail to several recipients once per recipient, each with its own signed return path", async () => {
    const tx = transporter({ split: true, suppressed: "drop" });
    const info = await tx.sendMail({
      ...mail(["a@example.org", "b@example.org"]),
      cc: "complained@example.org",
    });
    expect(received.map((r) => r.rcptTo).sort()).toEqual([["a@example.org"], ["b@example.org"]]);
    for (const r of received) {
      expect(decodeVerp(r.mailFrom, [KEY])).toMatchObject({
        ok: true,
        recipient: r.rcptTo[0],
        stream: "news",
      });
      expect(r.raw).toContain("a@example.org, b@example.org");
      expect(r.raw).not.toContain("complained@example.org");
    }
    const ids = received.map((r) => /^Message-ID: (\S{1,200})/im.exec(r.raw)?.[1]);
    expect(ids[0]).toBeTruthy();
    expect(ids[1]).toBe(ids[0]);
    expect(info.messageId).toBe(ids[0]);
    expect([...info.accepted].sort()).toEqual(["a@example.org", "b@example.org"]);
    expect(Object.keys(info.rebound.returnPaths ?? {}).sort()).toEqual(["a@example.org", "b@example.org"]);
    expect(info.rebound.dropped.map((d) => d.address)).toEqual(["complained@example.org"]);
  });

  it("split: refuses the whole mail before any copy leaves when a recipient is suppressed", async () => {
    const err = await transporter({ split: true })
      .sendMail(mail(["a@example.org", "gone@example.org"]))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReboundSuppressedError);
    expect(received).toEqual([]);
  });

  it("leaves a mail without recipients to Nodemailer's own error", async () => {
    const err = await transporter()
      .sendMail({ from: "news@example.com", subject: "nobody", text: "hi" })
      .catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(ReboundSuppressedError);
    expect(err).toMatchObject({ code: "EENVELOPE" });
    expect(received).toEqual([]);
  });

  it("shares one batch lookup among mails sent at once", async () => {
    const calls: string[] = [];
    const counting = createClient({
      baseUrl: api.url,
      token: (await createKey(t.db, { tenant: "acme", scopes: ["read", "write"] })).token,
      fetch: (input, init) => {
        calls.push(new URL(String(input)).pathname);
        return fetch(input, init);
      },
    });
    const tx = transporter({ client: counting, verp: { keys: KEYS_ENV, domain: DOMAIN, tenant: "acme" } });
    await Promise.all(["c1", "c2", "c3"].map((x) => tx.sendMail(mail(`${x}@example.org`))));
    expect(calls).toEqual(["/v1/suppressions/check"]);
    expect(received).toHaveLength(3);
  });
});
