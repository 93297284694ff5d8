// The policy file: what Rebound does with each class of event. One zod schema with documented defaults
// (docs/policy.md, policy.example.json). Pure: the file is read by loadPolicy() in src/policy-file.ts.
import { z } from "zod";
import { REASONS } from "./report.js";

const days = z.number().positive();
const minutes = z.number().int().positive();

/** How soft bounces of one reason are retried and escalated. */
export const softRuleSchema = z
  .object({
    /** Minutes before the next retry, by the number of soft bounces in the window (the last value repeats). */
    backoffMinutes: z.array(minutes).min(1),
    /** Soft bounces on this many distinct days (UTC) within `windowDays` escalate to a suppression; null: never. */
    threshold: z.number().int().min(1).nullable(),
    windowDays: days,
    /** Length of the first temporary suppression. */
    suppressDays: days,
    /** Each further escalation lasts `multiplier` times longer. */
    multiplier: z.number().min(1),
    /** Escalations after this many are permanent; null: never permanent. */
    permanentAfter: z.number().int().min(0).nullable(),
  })
  .strict();
export type SoftRule = z.infer<typeof softRuleSchema>;

const DEFAULT_SOFT: SoftRule = {
  backoffMinutes: [30, 120, 480, 1440],
  threshold: 3,
  windowDays: 7,
  suppressDays: 14,
  multiplier: 2,
  permanentAfter: 3,
};

/** Reasons that differ from the default soft rule. A full mailbox is the recipient's; a server error is the server's. */
const DEFAULT_SOFT_REASONS: Record<string, Partial<SoftRule>> = {
  mailboxfull: { backoffMinutes: [240, 720, 1440], threshold: 3, windowDays: 7, suppressDays: 14 },
  suspend: { backoffMinutes: [720, 1440], threshold: 2, windowDays: 14, suppressDays: 30 },
  systemerror: {
    backoffMinutes: [15, 60, 240],
    threshold: 5,
    windowDays: 10,
    suppressDays: 7,
    permanentAfter: null,
  },
  systemfull: {
    backoffMinutes: [15, 60, 240],
    threshold: 5,
    windowDays: 10,
    suppressDays: 7,
    permanentAfter: null,
  },
  networkerror: {
    backoffMinutes: [15, 60, 240],
    threshold: 5,
    windowDays: 10,
    suppressDays: 7,
    permanentAfter: null,
  },
  mailererror: {
    backoffMinutes: [15, 60, 240],
    threshold: 5,
    windowDays: 10,
    suppressDays: 7,
    permanentAfter: null,
  },
  expired: {
    backoffMinutes: [60, 240, 1440],
    threshold: 4,
    windowDays: 10,
    suppressDays: 7,
    permanentAfter: null,
  },
  emailtoolarge: { backoffMinutes: [60], threshold: null },
};

/**
 * A permanent failure of no known reason (`reason: undefined, permanent: true`): the remote said no for good but
 * not why. Retried as a soft bounce, escalated on the second distinct day it happens again.
 */
const DEFAULT_PERMANENT_UNDEFINED: Partial<SoftRule> = {
  backoffMinutes: [240, 1440],
  threshold: 2,
  windowDays: 14,
  suppressDays: 30,
};

const reasonKey = z.enum(REASONS);

export const policySchema = z
  .object({
    verification: z
      .object({
        /**
         * `signed`: only events whose VERP signature verifies may suppress or count (the default: a forged
         * bounce cannot suppress a customer's list). `plain`: events that arrived at a plain, non-VERP address
         * act too (for senders that do not use VERP); a bad signature never acts.
         */
        mode: z.enum(["signed", "plain"]).default("signed"),
      })
      .strict()
      .prefault({}),
    hard: z
      .object({
        /** Days a hard-bounce suppression lasts; null: permanent. */
        expiresDays: days.nullable().default(null),
        /** Per-reason overrides of `expiresDays`. */
        reasons: z.partialRecord(reasonKey, z.object({ expiresDays: days.nullable() }).strict()).default({}),
      })
      .strict()
      .prefault({}),
    soft: z
      .object({
        default: softRuleSchema.partial().default({}),
        /** Per-reason overrides, merged over `default` (and over the built-in per-reason defaults). */
        reasons: z.partialRecord(reasonKey, softRuleSchema.partial()).default({}),
        /**
         * A permanent failure whose reason is unknown (`reason: undefined`, `permanent: true`), merged over
         * `default` (and over its built-in default: escalate on the second distinct day).
         */
        permanentUndefined: softRuleSchema.partial().default({}),
        /** An escalation level is forgotten after this many days without one (counts decay). */
        levelDecayDays: days.default(90),
      })
      .strict()
      .prefault({}),
    complaint: z
      .object({
        /** `stream`: suppress in the complaint's stream; `all`: in every stream of the tenant (`*`). */
        scope: z.enum(["stream", "all"]).default("stream"),
        /** Days a complaint suppression lasts; null: permanent. */
        expiresDays: days.nullable().default(null),
        /** Feedback types that are recorded but never suppress. */
        ignoreFeedbackTypes: z.array(z.string()).default(["not-spam"]),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type PolicyFile = z.input<typeof policySchema>;
type ParsedPolicy = z.infer<typeof policySchema>;

/** The resolved policy: every soft reason's rule filled in. */
export interface Policy extends Omit<ParsedPolicy, "soft"> {
  soft: {
    default: SoftRule;
    reasons: Record<string, SoftRule>;
    permanentUndefined: SoftRule;
    levelDecayDays: number;
  };
}

export class PolicyError extends Error {}

/** Validate a parsed policy file (an object) and fill in the defaults. Throws PolicyError naming every problem. */
export function parsePolicy(input: unknown, source = "policy"): Policy {
  const r = policySchema.safeParse(input ?? {});
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new PolicyError(`invalid ${source}:\n  ${lines.join("\n  ")}`);
  }
  const p = r.data;
  const base: SoftRule = { ...DEFAULT_SOFT, ...p.soft.default };
  const reasons: Record<string, SoftRule> = {};
  for (const reason of new Set([...Object.keys(DEFAULT_SOFT_REASONS), ...Object.keys(p.soft.reasons)])) {
    reasons[reason] = {
      ...base,
      ...DEFAULT_SOFT_REASONS[reason],
      ...p.soft.reasons[reason as keyof typeof p.soft.reasons],
    };
  }
  const permanentUndefined: SoftRule = {
    ...base,
    ...DEFAULT_PERMANENT_UNDEFINED,
    ...p.soft.permanentUndefined,
  };
  return {
    ...p,
    soft: { default: base, reasons, permanentUndefined, levelDecayDays: p.soft.levelDecayDays },
  };
}

/** The documented defaults (no policy file). */
export const DEFAULT_POLICY: Policy = parsePolicy({});
