// A permanent failure of no known reason (a DSN saying `Action: failed`, `Status: 5.0.0` and nothing else:
// `reason: undefined, permanent: true`) end to end: sent over SMTP to the running MX, classified and decided by the
// worker on PostgreSQL under the shipped policy (soft.permanentUndefined: a soft bounce that escalates on the
// second distinct day), read back through the HTTP API. The clock is the app's (injected), so that the bounces
// arrive on the days the test says.
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { startApp, type App } from "../../src/main.js";
import { openDb } from "../../src/store/db.js";
import { mailEvents } from "../../src/store/events.js";
import { createKey } from "../../src/store/keys.js";
import { getMail } from "../../src/store/mails.js";
import { getSuppressions } from "../../src/store/suppressions.js";
import { TEST_DATABASE_URL, uniqueSchema } from "../helpers/db.js";
import { sendOne } from "../helpers/smtp.js";
import { until } from "../helpers/until.js";
import { BOUNCE_DOMAIN, verp, VERP_KEYS_ENV } from "./fixtures.js";

const schema = uniqueSchema("permundef");
const T0 = new Date("2026-11-16T10:00:00Z");
const at = (day: number, hour: number) => new Date(T0.getTime() + day * 86_400_000 + (hour - 10) * 3_600_000);
let clock = T0;
let app: App;
let token: string;

beforeAll(async () => {
  const config = loadConfig(
    {
      domains: BOUNCE_DOMAIN,
      smtpHost: "127.0.0.1",
      smtpPort: 0,
      httpHost: "127.0.0.1",
      httpPort: 0,
      verpKeys: VERP_KEYS_ENV,
      databaseUrl: TEST_DATABASE_URL,
      databaseSchema: schema,
      jobBackoffMs: 50,
      sweepIntervalMs: 200,
      logLevel: "silent",
    },
    {},
  );
  app = await startApp(config, ["intake", "worker", "api"], {
    logger: createLogger("silent"),
    now: () => clock,
  });
  token = (await createKey(app.db, { tenant: "acme", scopes: ["read"] })).token;
});
afterAll(async () => {
  await app?.close();
  const h = await openDb({ databaseUrl: TEST_DATABASE_URL });
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(h.db);
  await h.close();
});

/** A Postfix-style DSN that says the delivery failed for good (5.0.0) and nothing of why. Invented hosts. */
function unexplainedFailure(recipient: string, returnPath: string, n: number): string {
  return [
    "Return-Path: <>",
    "From: MAILER-DAEMON@mx.cinderpost.example (Mail Delivery System)",
    `To: ${returnPath}`,
    "Subject: Undelivered Mail Returned to Sender",
    `Date: ${clock.toUTCString()}`,
    `Message-ID: <dsn-${n}@mx.cinderpost.example>`,
    "MIME-Version: 1.0",
    'Content-Type: multipart/report; report-type=delivery-status; boundary="dsn-b"',
    "",
    "--dsn-b",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    "This is the mail system at host mx.cinderpost.example.",
    "",
    "Your message could not be delivered to one or more recipients.",
    "",
    `<${recipient}>`,
    "",
    "--dsn-b",
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns; mx.cinderpost.example",
    "",
    `Final-Recipient: rfc822; ${recipient}`,
    "Action: failed",
    "Status: 5.0.0",
    "Remote-MTA: dns; mx.fernwald.example",
    "",
    "--dsn-b",
    "Content-Type: text/rfc822-headers",
    "",
    `Return-Path: <${returnPath}>`,
    "From: Fernwald News <news@cinderpost.example>",
    `To: ${recipient}`,
    "Subject: November letter",
    `Message-ID: <letter-${n}@cinderpost.example>`,
    "",
    "--dsn-b--",
    "",
  ].join("\r\n");
}

let sent = 0;
/** One such bounce at `when`, over SMTP to the MX; waits for the worker; returns its event. */
async function bounceAt(recipient: string, when: Date) {
  clock = when;
  const returnPath = verp(recipient, "marketing", "acme");
  const reply = await sendOne(app.smtpPort!, {
    from: "",
    to: [returnPath],
    data: unexplainedFailure(recipient, returnPath, ++sent),
  });
  expect(reply.code, reply.text).toBe(250);
  const id = /queued as (\w+)/.exec(reply.text)![1]!;
  const mail = await until(async () => {
    const m = await getMail(app.db, id);
    return m && ["processed", "failed"].includes(m.status) ? m : undefined;
  });
  expect(mail).toMatchObject({ status: "processed", kind: "bounce", tenant: "acme" });
  const [event] = await mailEvents(app.db, id);
  return event!;
}

const suppressionsOf = (recipient: string) => getSuppressions(app.db, "acme", app.hashAddress(recipient));

describe("a permanent failure of unknown reason through the MX and the worker (policy soft.permanentUndefined)", () => {
  it("does not suppress on the first bounce, nor on a second the same day; suppresses on another day, naming the rule", async () => {
    const rcpt = "ilse.marten@fernwald.example";
    const first = await bounceAt(rcpt, at(0, 10));
    expect(first).toMatchObject({
      reason: "undefined",
      permanent: true,
      class: "soft",
      status: "5.0.0",
      verified: true,
      stream: "marketing",
    });
    expect(first.decision).toMatchObject({ action: "retry", rule: "policy.soft.permanent-undefined" });
    expect(await suppressionsOf(rcpt)).toEqual([]);

    // The same day again: still one distinct day of the two the rule needs.
    const sameDay = await bounceAt(rcpt, at(0, 16));
    expect(sameDay.decision).toMatchObject({ action: "retry", rule: "policy.soft.permanent-undefined" });
    expect(await suppressionsOf(rcpt)).toEqual([]);

    // The next day: the second distinct day within 14 escalates, for 30 days.
    const nextDay = await bounceAt(rcpt, at(1, 9));
    expect(nextDay.decision).toMatchObject({
      action: "suppress",
      rule: "policy.soft.permanent-undefined.escalate",
    });
    const [s] = await suppressionsOf(rcpt);
    expect(s).toMatchObject({
      stream: "marketing",
      source: "soft_escalation",
      reason: "undefined",
      class: "soft",
      expires_at: new Date(at(1, 9).getTime() + 30 * 86_400_000),
    });
    expect(s!.rule).toBe(`policy.soft.permanent-undefined.escalate <- ${nextDay.rule}`);

    // What the API explains (its copy of the suppressions follows the log within a poll or two): suppressed in
    // marketing, by that rule, until then.
    type Explained = {
      suppressed: boolean;
      reason: string;
      expiresAt: string;
      suppressions: { rule: string; source: string }[];
      events: { id: string; reason: string; status: string }[];
    };
    const body = await until(async () => {
      const res = await fetch(
        `http://127.0.0.1:${app.httpPort}/v1/suppressions/${encodeURIComponent(rcpt)}?stream=marketing`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      expect(res.status).toBe(200);
      const b = (await res.json()) as Explained;
      return b.suppressed ? b : undefined;
    });
    expect(body).toMatchObject({
      suppressed: true,
      reason: "undefined",
      expiresAt: "2026-12-17T09:00:00.000Z",
    });
    expect(body.suppressions.map((x) => [x.source, x.rule])).toEqual([
      ["soft_escalation", `policy.soft.permanent-undefined.escalate <- ${nextDay.rule}`],
    ]);
    expect(body.events.map((e) => [e.id, e.reason, e.status])).toContainEqual([
      String(nextDay.id),
      "undefined",
      "5.0.0",
    ]);
  });
});
