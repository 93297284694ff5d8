// The policy engine: (event, the address's history, policy, now) -> decision. Pure. Every decision names the
// policy rule that made it (`rule`), and what the store must do: suppress, remember the soft-bounce state,
// count a block for alerting, or only record the event. docs/policy.md describes the rules.
import type { BounceClass } from "./report.js";
import type { Policy, SoftRule } from "./policy-config.js";
import { providerOf } from "./provider.js";

/** How an event's recipient was identified: a valid VERP signature, an invalid one, or no VERP at all. */
export const VERIFICATIONS = ["verified", "invalid", "absent"] as const;
export type Verification = (typeof VERIFICATIONS)[number];

export const ACTIONS = ["suppress", "retry", "count", "reset", "record"] as const;
export type PolicyAction = (typeof ACTIONS)[number];

export type SuppressionSource = "bounce" | "complaint" | "soft_escalation";

export interface PolicyEvent {
  class: BounceClass;
  reason: string;
  stream: string;
  verification: Verification;
  recipientDomain: string;
  /** The recipient's mailbox provider, when resolved beyond the table (MX hosts); default: the table's. */
  provider?: string;
  feedbackType?: string | null;
  /** Whether the failure is permanent (true), transient (false) or unknown (null/absent), as classify() says. */
  permanent?: boolean | null;
  /** When the bounce happened (the mail's arrival): the clock of soft-bounce counting and of expiries. */
  occurredAt: Date;
}

/** Per tenant, stream and address: the soft-bounce state (address_state) and earlier soft bounces. */
export interface AddressState {
  softLevel: number;
  /** Soft bounces count from this moment (the last delivery or escalation). */
  softResetAt: Date | null;
  nextRetryAt: Date | null;
  lastDeliveryAt: Date | null;
}

export interface AddressHistory extends AddressState {
  /** When earlier soft bounces of this address in this stream happened (the current event excluded). */
  softBounces: Date[];
}

export const EMPTY_STATE: AddressState = {
  softLevel: 0,
  softResetAt: null,
  nextRetryAt: null,
  lastDeliveryAt: null,
};
export const EMPTY_HISTORY: AddressHistory = { ...EMPTY_STATE, softBounces: [] };

export interface Decision {
  action: PolicyAction;
  /** The policy rule that decided, e.g. `policy.hard`, `policy.soft.mailboxfull.escalate`, `policy.unverified`. */
  rule: string;
  /** One sentence for operators. */
  why: string;
  suppression?: { stream: string; expiresAt: Date | null; source: SuppressionSource };
  /** For soft bounces: the sender should not retry before this. */
  nextRetryAt?: Date | null;
  /** The address state to store (absent: unchanged). */
  state?: AddressState;
  /** For soft bounces: soft bounces and distinct days in the window, the escalation level reached. */
  soft?: { bounces: number; days: number; windowDays: number; threshold: number | null; level: number };
  /** For blocks: what to count for alerting. */
  count?: { stream: string; provider: string };
}

const DAY = 86_400_000;
const addMs = (d: Date, ms: number) => new Date(d.getTime() + ms);
const dayOf = (d: Date) => Math.floor(d.getTime() / DAY);

export function softRuleFor(
  policy: Policy,
  reason: string,
  permanent?: boolean | null,
): { key: string; rule: SoftRule } {
  if ((reason === "undefined" || reason === "onhold") && permanent === true)
    return { key: "permanent-undefined", rule: policy.soft.permanentUndefined };
  const rule = policy.soft.reasons[reason];
  return rule ? { key: reason, rule } : { key: "default", rule: policy.soft.default };
}

/** Whether an event may change anything (suppress, count, reset) under the policy's verification mode. */
export function mayAct(policy: Policy, v: Verification): boolean {
  return v === "verified" || (v === "absent" && policy.verification.mode === "plain");
}

export function decide(event: PolicyEvent, history: AddressHistory, policy: Policy, now: Date): Decision {
  const cls = event.class;
  if (cls === "auto_reply" || cls === "undetermined") {
    return {
      action: "record",
      rule: `policy.${cls}`,
      why: `${cls === "auto_reply" ? "an auto-reply" : "an undetermined result"} is only recorded`,
    };
  }
  // An authentication failure report (RFC 6591, DMARC) speaks of the sender's SPF/DKIM/DMARC, not of the
  // recipient: recorded with its details, never a suppression, whatever the verification mode.
  if (cls === "complaint" && event.feedbackType?.toLowerCase() === "auth-failure") {
    return {
      action: "record",
      rule: "policy.auth-failure",
      why: "an authentication failure report is a signal on the sender's authentication: recorded, never a suppression",
    };
  }
  if (!mayAct(policy, event.verification)) {
    const what =
      event.verification === "invalid"
        ? "its VERP signature is invalid or does not name this recipient"
        : "it carries no signed VERP";
    return {
      action: "record",
      rule: "policy.unverified",
      why: `recorded only: ${what} (verification mode ${policy.verification.mode})`,
    };
  }
  switch (cls) {
    case "hard":
      return decideHard(event, policy);
    case "soft":
      return decideSoft(event, history, policy, now);
    case "block":
      return {
        action: "count",
        rule: "policy.block",
        why: "the sender or the message was refused: the recipient is not suppressed; counted per stream and provider",
        count: { stream: event.stream, provider: event.provider ?? providerOf(event.recipientDomain) },
      };
    case "complaint":
      return decideComplaint(event, policy);
    case "delivered":
      return {
        action: "reset",
        rule: "policy.delivered",
        why: "a delivery resets the soft-bounce counts",
        state: {
          softLevel: 0,
          softResetAt: event.occurredAt,
          nextRetryAt: null,
          lastDeliveryAt: event.occurredAt,
        },
      };
  }
}

function decideHard(event: PolicyEvent, policy: Policy): Decision {
  const override = policy.hard.reasons[event.reason as keyof typeof policy.hard.reasons];
  const expiresDays = override ? override.expiresDays : policy.hard.expiresDays;
  const expiresAt = expiresDays === null ? null : addMs(event.occurredAt, expiresDays * DAY);
  return {
    action: "suppress",
    rule: override ? `policy.hard.${event.reason}` : "policy.hard",
    why: expiresAt
      ? `a hard bounce suppresses for ${expiresDays} days`
      : "a hard bounce suppresses permanently",
    suppression: { stream: event.stream, expiresAt, source: "bounce" },
  };
}

function decideComplaint(event: PolicyEvent, policy: Policy): Decision {
  const ft = event.feedbackType?.toLowerCase();
  if (ft && policy.complaint.ignoreFeedbackTypes.map((t) => t.toLowerCase()).includes(ft)) {
    return {
      action: "record",
      rule: "policy.complaint.ignored",
      why: `feedback type ${ft} never suppresses`,
    };
  }
  const { scope, expiresDays } = policy.complaint;
  const expiresAt = expiresDays === null ? null : addMs(event.occurredAt, expiresDays * DAY);
  return {
    action: "suppress",
    rule: scope === "all" ? "policy.complaint.all" : "policy.complaint",
    why: `a complaint suppresses in ${scope === "all" ? "every stream" : `stream ${event.stream}`}${expiresAt ? ` for ${expiresDays} days` : ""}`,
    suppression: { stream: scope === "all" ? "*" : event.stream, expiresAt, source: "complaint" },
  };
}

function decideSoft(event: PolicyEvent, h: AddressHistory, policy: Policy, _now: Date): Decision {
  const { key, rule } = softRuleFor(policy, event.reason, event.permanent);
  const at = event.occurredAt;
  // Counts decay: an escalation level is forgotten after levelDecayDays without one.
  const decayed =
    h.softLevel > 0 &&
    h.softResetAt !== null &&
    at.getTime() - h.softResetAt.getTime() > policy.soft.levelDecayDays * DAY;
  const level = decayed ? 0 : h.softLevel;
  // The window ends at the latest soft bounce known, this one or an earlier-processed later one (mails may be
  // processed out of order), and reaches windowDays back; bounces before the last reset never count.
  const since = h.softResetAt?.getTime() ?? -Infinity;
  const counted = h.softBounces.filter((t) => t.getTime() > since);
  const end = Math.max(at.getTime(), ...counted.map((t) => t.getTime()));
  const from = end - rule.windowDays * DAY;
  const inWindow = [...counted, at].filter((t) => t.getTime() > from);
  const days = new Set(inWindow.map(dayOf)).size;
  const backoff = rule.backoffMinutes[Math.min(inWindow.length, rule.backoffMinutes.length) - 1] ?? 60;
  const soft = {
    bounces: inWindow.length,
    days,
    windowDays: rule.windowDays,
    threshold: rule.threshold,
    level,
  };

  if (rule.threshold !== null && days >= rule.threshold) {
    const n = level + 1;
    const permanent = rule.permanentAfter !== null && n > rule.permanentAfter;
    const lengthDays = rule.suppressDays * rule.multiplier ** (n - 1);
    const expiresAt = permanent ? null : addMs(at, lengthDays * DAY);
    return {
      action: "suppress",
      rule: `policy.soft.${key}.escalate`,
      why: `${days} soft bounces on distinct days within ${rule.windowDays} days (threshold ${rule.threshold}): escalation ${n}, ${
        permanent ? "permanent" : `suppressed for ${lengthDays} days`
      }`,
      suppression: { stream: event.stream, expiresAt, source: "soft_escalation" },
      nextRetryAt: expiresAt,
      state: { softLevel: n, softResetAt: at, nextRetryAt: expiresAt, lastDeliveryAt: h.lastDeliveryAt },
      soft: { ...soft, level: n },
    };
  }
  const nextRetryAt = addMs(at, backoff * 60_000);
  return {
    action: "retry",
    rule: `policy.soft.${key}`,
    why: `soft bounce ${inWindow.length} (${days} of ${rule.threshold ?? "∞"} distinct days within ${rule.windowDays} days): retry after ${backoff} minutes`,
    nextRetryAt,
    state: {
      softLevel: level,
      softResetAt: decayed ? null : h.softResetAt,
      nextRetryAt,
      lastDeliveryAt: h.lastDeliveryAt,
    },
    soft,
  };
}
