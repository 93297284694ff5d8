import { describe, expect, it } from "vitest";
import { ESP_RULES, espRuleFor, type EspRule } from "../../../src/core/esp/mapping.js";
import { readMailgunEvent } from "../../../src/core/esp/mailgun.js";
import { readPostmarkRecord } from "../../../src/core/esp/postmark.js";
import { readSendgridEvent } from "../../../src/core/esp/sendgrid.js";
import { readSesNotification } from "../../../src/core/esp/ses.js";
import type { EspEvent, EspItem } from "../../../src/core/esp/types.js";
import { CLASSES, isReason } from "../../../src/core/report.js";

const NOW = new Date("2026-12-07T12:00:00Z");

function read(rule: Pick<EspRule, "provider" | "example">): EspItem[] {
  switch (rule.provider) {
    case "ses":
      return readSesNotification(rule.example, NOW);
    case "sendgrid":
      return [readSendgridEvent(rule.example, NOW)];
    case "mailgun":
      return [readMailgunEvent(rule.example, NOW)];
    case "postmark":
      return [readPostmarkRecord(rule.example, NOW)];
  }
}

function only(items: EspItem[]): EspEvent {
  expect(items).toHaveLength(1);
  const item = items[0]!;
  if (!("event" in item)) throw new Error(`not an event: ${JSON.stringify(item)}`);
  return item.event;
}

describe("the ESP mapping table", () => {
  it("has one entry per provider and type, each id unique, each reason in Rebound's vocabulary", () => {
    const ids = ESP_RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    const keys = ESP_RULES.map((r) => `${r.provider}:${r.type}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const r of ESP_RULES) {
      expect(r.id.startsWith(`${r.provider}.`), r.id).toBe(true);
      if (r.kind !== null) expect(r.reason && isReason(r.reason), r.id).toBe(true);
    }
  });

  it.each(ESP_RULES.map((r) => [r.id, r] as const))("maps its own example: %s", (id, rule) => {
    const items = read(rule);
    if (rule.kind === null) {
      expect(items).toEqual([{ ignored: { type: expect.any(String), rule: id } }]);
      return;
    }
    const e = only(items);
    expect(e.kind).toBe(rule.kind);
    expect(e.recipient.rule === id || e.recipient.rule.startsWith(`${id}/`), e.recipient.rule).toBe(true);
    expect(e.recipient.parser).toBe(`esp:${rule.provider}`);
    expect(e.recipient.recipient).toBe("jane@example.org");
    expect(CLASSES).toContain(e.recipient.class);
    expect(e.eventId.length).toBeGreaterThan(0);
    if (rule.permanent !== undefined && rule.kind === "bounce")
      expect(e.recipient.permanent).toBe(rule.permanent);
    if (!rule.read) expect(e.recipient.reason).toBe(rule.reason);
  });

  it("reads the diagnostic of a generic permanent SES bounce: user unknown, hard, the entry and the text rule named", () => {
    const e = only(read(ESP_RULES.find((r) => r.id === "ses.bounce.permanent")!));
    expect(e.recipient).toMatchObject({ reason: "userunknown", class: "hard", permanent: true });
    expect(e.recipient.rule).toMatch(/^ses\.bounce\.permanent\//);
    expect(e.messageId).toBe("<campaign-1.jane@example.com>");
    expect(e.occurredAt.toISOString()).toBe("2026-12-07T10:00:05.000Z");
  });

  it("keeps the provider's permanence: a transient SES bounce is soft and not permanent, an SES delivery is delivered", () => {
    expect(only(read(ESP_RULES.find((r) => r.id === "ses.bounce.transient")!)).recipient).toMatchObject({
      class: "soft",
      permanent: false,
    });
    expect(only(read(ESP_RULES.find((r) => r.id === "ses.delivery")!)).recipient).toMatchObject({
      reason: "delivered",
      class: "delivered",
      permanent: null,
    });
  });

  it("maps blocks to the block class (never the recipient's fault) and complaints to complaints with their feedback type", () => {
    expect(only(read(ESP_RULES.find((r) => r.id === "sendgrid.blocked")!)).recipient.class).toBe("block");
    expect(only(read(ESP_RULES.find((r) => r.id === "postmark.bounce.unknown")!)).recipient.class).toBe(
      "block",
    );
    const c = only(read(ESP_RULES.find((r) => r.id === "ses.complaint")!));
    expect(c.recipient).toMatchObject({ class: "complaint", reason: "feedback", feedbackType: "abuse" });
  });

  it("takes the most specific entry and falls back to the shorter key for a sub-type it does not know", () => {
    expect(espRuleFor("ses", ["Bounce", "Permanent", "NoEmail"])?.id).toBe("ses.bounce.permanent.noemail");
    expect(espRuleFor("ses", ["Bounce", "Permanent", "SomethingNew"])?.id).toBe("ses.bounce.permanent");
    expect(espRuleFor("sendgrid", ["bounce", "bounce", "Unclassified"])?.id).toBe("sendgrid.bounce");
    expect(espRuleFor("mailgun", ["failed", "temporary", "espblock"])?.id).toBe("mailgun.failed.temporary");
    expect(espRuleFor("mailgun", ["teleported"])).toBeUndefined();
  });

  it("ignores an unknown event type under `<provider>.unknown` and refuses an item without a recipient", () => {
    expect(readMailgunEvent({ event: "teleported", id: "x" }, NOW)).toEqual({
      ignored: { type: "teleported", rule: "mailgun.unknown" },
    });
    expect(readPostmarkRecord({ RecordType: "Bounce", Type: "HardBounce", ID: 1 }, NOW)).toEqual({
      invalid: "Bounce/HardBounce: no recipient",
    });
    expect(readSendgridEvent("not an object", NOW)).toEqual({ invalid: "an event is not a JSON object" });
  });

  it("names one event per recipient of an SES bounce, each with its own id, and reads the stream tag and SES's message id", () => {
    const items = readSesNotification(
      {
        eventType: "Bounce",
        bounce: {
          bounceType: "Permanent",
          bounceSubType: "NoEmail",
          feedbackId: "fb-1",
          bouncedRecipients: [{ emailAddress: "a@example.org" }, { emailAddress: "B@example.org" }],
        },
        mail: { messageId: "m", tags: { rebound_stream: ["news"] } },
      },
      NOW,
    );
    const events = items.map((i) => ("event" in i ? i.event : undefined));
    expect(events.map((e) => e?.eventId)).toEqual(["fb-1/a@example.org", "fb-1/b@example.org"]);
    expect(events.map((e) => e?.stream)).toEqual(["news", "news"]);
    // no original headers: SES's own message id (what SendEmail answered)
    expect(events.map((e) => e?.messageId)).toEqual(["m", "m"]);
    // no timestamp in the bounce: the time it was read
    expect(events[0]?.occurredAt).toEqual(NOW);
  });

  it("keeps provider text bounded and free of control characters", () => {
    const e = only([
      readPostmarkRecord(
        {
          RecordType: "Bounce",
          Type: "HardBounce",
          ID: 7,
          Email: "jane@example.org",
          Details: "550\u0000 user unknown " + "x".repeat(10_000),
        },
        NOW,
      ),
    ]);
    expect(e.recipient.diagnostic!.length).toBeLessThanOrEqual(2_000);
    expect(e.recipient.diagnostic).not.toContain("\u0000");
  });
});
