import { describe, expect, it } from "vitest";
import { decide, EMPTY_HISTORY, type AddressHistory, type PolicyEvent } from "../../src/core/policy.js";
import { DEFAULT_POLICY, parsePolicy, PolicyError } from "../../src/core/policy-config.js";

const DAY = 86_400_000;
const T0 = new Date("2026-03-02T10:00:00Z");
const at = (days: number, hours = 0) => new Date(T0.getTime() + days * DAY + hours * 3_600_000);

const ev = (o: Partial<PolicyEvent> = {}): PolicyEvent => ({
  class: "hard",
  reason: "userunknown",
  stream: "marketing",
  verification: "verified",
  recipientDomain: "example.com",
  occurredAt: T0,
  ...o,
});

/** Feed a series of soft bounces through decide(), carrying the state like the store does. */
function run(events: PolicyEvent[], policy = DEFAULT_POLICY, start: AddressHistory = EMPTY_HISTORY) {
  let h: AddressHistory = { ...start, softBounces: [...start.softBounces] };
  return events.map((e) => {
    const d = decide(e, h, policy, e.occurredAt);
    const acted = d.action === "retry" || d.action === "suppress";
    h = {
      ...(d.state ?? h),
      softBounces: e.class === "soft" && acted ? [...h.softBounces, e.occurredAt] : h.softBounces,
    };
    return d;
  });
}

describe("the policy engine", () => {
  it("suppresses a verified hard bounce permanently in its stream", () => {
    const d = decide(ev(), EMPTY_HISTORY, DEFAULT_POLICY, T0);
    expect(d).toMatchObject({
      action: "suppress",
      rule: "policy.hard",
      suppression: { stream: "marketing", expiresAt: null, source: "bounce" },
    });
  });

  it("lets the policy file make hard suppressions expire, per reason", () => {
    const p = parsePolicy({ hard: { expiresDays: 365, reasons: { hasmoved: { expiresDays: null } } } });
    expect(decide(ev(), EMPTY_HISTORY, p, T0).suppression?.expiresAt).toEqual(at(365));
    const moved = decide(ev({ reason: "hasmoved" }), EMPTY_HISTORY, p, T0);
    expect(moved).toMatchObject({ rule: "policy.hard.hasmoved", suppression: { expiresAt: null } });
  });

  it("never lets an unverified bounce suppress under the default policy", () => {
    for (const verification of ["invalid", "absent"] as const) {
      const d = decide(ev({ verification }), EMPTY_HISTORY, DEFAULT_POLICY, T0);
      expect(d).toMatchObject({ action: "record", rule: "policy.unverified" });
      expect(d.suppression).toBeUndefined();
    }
  });

  it("acts on plain (non-VERP) bounces when the policy allows them, but never on an invalid signature", () => {
    const p = parsePolicy({ verification: { mode: "plain" } });
    expect(decide(ev({ verification: "absent" }), EMPTY_HISTORY, p, T0).action).toBe("suppress");
    expect(decide(ev({ verification: "invalid" }), EMPTY_HISTORY, p, T0).action).toBe("record");
  });

  it("gives a soft bounce a back-off time and no suppression", () => {
    const d = decide(ev({ class: "soft", reason: "systemerror" }), EMPTY_HISTORY, DEFAULT_POLICY, T0);
    expect(d).toMatchObject({ action: "retry", rule: "policy.soft.systemerror", nextRetryAt: at(0, 0.25) });
    expect(d.suppression).toBeUndefined();
  });

  it("backs off a full mailbox longer than a server error", () => {
    const full = decide(ev({ class: "soft", reason: "mailboxfull" }), EMPTY_HISTORY, DEFAULT_POLICY, T0);
    const sys = decide(ev({ class: "soft", reason: "systemerror" }), EMPTY_HISTORY, DEFAULT_POLICY, T0);
    expect(full.nextRetryAt!.getTime()).toBeGreaterThan(sys.nextRetryAt!.getTime());
    expect(full.rule).toBe("policy.soft.mailboxfull");
  });

  it("escalates to a 14-day suppression after soft bounces on 3 distinct days within 7 days", () => {
    const soft = (d: number, h = 0) => ev({ class: "soft", reason: "mailboxfull", occurredAt: at(d, h) });
    const ds = run([soft(0), soft(0, 5), soft(2), soft(4)]);
    expect(ds.map((d) => d.action)).toEqual(["retry", "retry", "retry", "suppress"]);
    expect(ds[2]!.soft).toMatchObject({ bounces: 3, days: 2 });
    expect(ds[3]).toMatchObject({
      rule: "policy.soft.mailboxfull.escalate",
      suppression: { source: "soft_escalation", stream: "marketing", expiresAt: at(18) },
      state: { softLevel: 1, softResetAt: at(4) },
    });
  });

  it("escalates the same when the mails are processed out of order", () => {
    const soft = (d: number) => ev({ class: "soft", reason: "mailboxfull", occurredAt: at(d) });
    const ds = run([soft(4), soft(0), soft(2)]);
    expect(ds.map((d) => d.action)).toEqual(["retry", "retry", "suppress"]);
    expect(ds[2]!.soft).toMatchObject({ bounces: 3, days: 3 });
  });

  it("does not count many soft bounces on one day as several days", () => {
    const ds = run(
      [0, 1, 2, 3, 4, 5].map((h) => ev({ class: "soft", reason: "mailboxfull", occurredAt: at(0, h) })),
    );
    expect(ds.every((d) => d.action === "retry")).toBe(true);
  });

  it("lets soft bounces older than the window decay", () => {
    const soft = (d: number) => ev({ class: "soft", reason: "mailboxfull", occurredAt: at(d) });
    const ds = run([soft(0), soft(1), soft(9)]);
    expect(ds.map((d) => d.action)).toEqual(["retry", "retry", "retry"]);
  });

  it("doubles each further escalation and makes it permanent after the third", () => {
    const soft = (d: number) => ev({ class: "soft", reason: "mailboxfull", occurredAt: at(d) });
    const series = [0, 1, 2, 20, 21, 22, 60, 61, 62, 130, 131, 132].map(soft);
    const ds = run(series).filter((d) => d.action === "suppress");
    expect(ds.map((d) => d.suppression!.expiresAt)).toEqual([at(2 + 14), at(22 + 28), at(62 + 56), null]);
    expect(ds.map((d) => d.state!.softLevel)).toEqual([1, 2, 3, 4]);
  });

  it("forgets the escalation level after the decay period", () => {
    const h: AddressHistory = { ...EMPTY_HISTORY, softLevel: 3, softResetAt: at(-200) };
    const soft = (d: number) => ev({ class: "soft", reason: "mailboxfull", occurredAt: at(d) });
    const last = run([soft(0), soft(1), soft(2)], DEFAULT_POLICY, h).at(-1)!;
    expect(last).toMatchObject({
      action: "suppress",
      state: { softLevel: 1 },
      suppression: { expiresAt: at(16) },
    });
  });

  it("resets soft counts on a delivery", () => {
    const soft = (d: number) => ev({ class: "soft", reason: "mailboxfull", occurredAt: at(d) });
    const delivered = ev({ class: "delivered", reason: "delivered", occurredAt: at(1, 12) });
    const ds = run([soft(0), soft(1), delivered, soft(2), soft(3)]);
    expect(ds[2]).toMatchObject({
      action: "reset",
      rule: "policy.delivered",
      state: { softLevel: 0, softResetAt: at(1, 12), lastDeliveryAt: at(1, 12) },
    });
    expect(ds.map((d) => d.action)).toEqual(["retry", "retry", "reset", "retry", "retry"]);
  });

  it("never escalates a reason whose threshold is null (a message too large is the message's fault)", () => {
    const ds = run(
      [0, 1, 2, 3, 4].map((d) => ev({ class: "soft", reason: "emailtoolarge", occurredAt: at(d) })),
    );
    expect(ds.every((d) => d.action === "retry")).toBe(true);
  });

  it("counts a block per stream and provider and never suppresses", () => {
    const d = decide(
      ev({ class: "block", reason: "badreputation", recipientDomain: "googlemail.com" }),
      EMPTY_HISTORY,
      DEFAULT_POLICY,
      T0,
    );
    expect(d).toMatchObject({
      action: "count",
      rule: "policy.block",
      count: { stream: "marketing", provider: "google" },
    });
    expect(d.suppression).toBeUndefined();
    // A domain the table does not know is `other` (the provider list is closed), unless the worker resolved it.
    expect(
      decide(ev({ class: "block", recipientDomain: "small.example" }), EMPTY_HISTORY, DEFAULT_POLICY, T0)
        .count?.provider,
    ).toBe("other");
    expect(
      decide(
        ev({ class: "block", recipientDomain: "acme.io", provider: "microsoft" }),
        EMPTY_HISTORY,
        DEFAULT_POLICY,
        T0,
      ).count?.provider,
    ).toBe("microsoft");
  });

  it("suppresses a complaint in its stream, or in every stream when the policy says so", () => {
    const c = ev({ class: "complaint", reason: "feedback", feedbackType: "abuse" });
    expect(decide(c, EMPTY_HISTORY, DEFAULT_POLICY, T0)).toMatchObject({
      action: "suppress",
      suppression: { stream: "marketing", source: "complaint" },
    });
    const all = parsePolicy({ complaint: { scope: "all" } });
    expect(decide(c, EMPTY_HISTORY, all, T0)).toMatchObject({
      rule: "policy.complaint.all",
      suppression: { stream: "*" },
    });
    expect(decide({ ...c, feedbackType: "not-spam" }, EMPTY_HISTORY, DEFAULT_POLICY, T0)).toMatchObject({
      action: "record",
      rule: "policy.complaint.ignored",
    });
  });

  it("never suppresses on an authentication failure report (RFC 6591, DMARC), whatever the verification mode", () => {
    const plain = parsePolicy({ verification: { mode: "plain" } });
    for (const verification of ["verified", "absent", "invalid"] as const) {
      for (const policy of [DEFAULT_POLICY, plain]) {
        const d = decide(
          ev({ class: "complaint", reason: "feedback", feedbackType: "auth-failure", verification }),
          EMPTY_HISTORY,
          policy,
          T0,
        );
        expect(d).toMatchObject({ action: "record", rule: "policy.auth-failure" });
        expect(d.suppression).toBeUndefined();
      }
    }
  });

  it("retries a permanent failure of unknown reason, then escalates it on the second distinct day", () => {
    const e = (days: number) =>
      ev({ class: "soft", reason: "undefined", permanent: true, occurredAt: at(days) });
    const [first, sameDay, nextDay] = run([e(0), { ...e(0), occurredAt: at(0, 3) }, e(1)]);
    expect(first).toMatchObject({ action: "retry", rule: "policy.soft.permanent-undefined" });
    expect(sameDay).toMatchObject({ action: "retry", rule: "policy.soft.permanent-undefined" });
    expect(nextDay).toMatchObject({
      action: "suppress",
      rule: "policy.soft.permanent-undefined.escalate",
      suppression: { source: "soft_escalation", expiresAt: at(1 + 30) },
    });
    // a transient failure of unknown reason follows the default soft rule (three distinct days)
    const t = (days: number) =>
      ev({ class: "soft", reason: "undefined", permanent: false, occurredAt: at(days) });
    expect(run([t(0), t(1)]).map((d) => d.rule)).toEqual(["policy.soft.default", "policy.soft.default"]);
    // and the policy file may change the rule
    const p = parsePolicy({ soft: { permanentUndefined: { threshold: 3 } } });
    expect(run([e(0), e(1)], p)[1]).toMatchObject({ action: "retry" });
  });

  it("only records auto-replies and undetermined results, verified or not", () => {
    expect(
      decide(ev({ class: "auto_reply", reason: "vacation" }), EMPTY_HISTORY, DEFAULT_POLICY, T0),
    ).toMatchObject({ action: "record", rule: "policy.auto_reply" });
    expect(
      decide(
        ev({ class: "undetermined", reason: "undefined", verification: "absent" }),
        EMPTY_HISTORY,
        DEFAULT_POLICY,
        T0,
      ).action,
    ).toBe("record");
  });
});

describe("the policy file", () => {
  it("fills in documented defaults and merges per-reason soft overrides over them", () => {
    const p = parsePolicy({
      soft: { default: { suppressDays: 10 }, reasons: { mailboxfull: { threshold: 2 } } },
    });
    expect(p.soft.default).toMatchObject({ suppressDays: 10, threshold: 3, windowDays: 7 });
    expect(p.soft.reasons.mailboxfull).toMatchObject({
      threshold: 2,
      suppressDays: 14,
      backoffMinutes: [240, 720, 1440],
    });
    expect(p.soft.reasons.onhold).toBeUndefined();
    expect(p.verification.mode).toBe("signed");
    expect(p.complaint.scope).toBe("stream");
  });

  it("names every problem of an invalid file", () => {
    expect(() =>
      parsePolicy({ hard: { expiresDays: -1 }, complaint: { scope: "everywhere" }, surprise: 1 }),
    ).toThrow(PolicyError);
    expect(() => parsePolicy({ hard: { expiresDays: -1 }, soft: { reasons: { notareason: {} } } })).toThrow(
      /hard\.expiresDays[\s\S]*soft\.reasons/,
    );
  });
});
