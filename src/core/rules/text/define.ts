// A small builder for rule tables: family-qualified ids, and the priority bands used across the tables.
import type { Reason } from "../../report.js";
import type { TextRule } from "../types.js";

/**
 * Priority bands. A provider's own sentence or error code (>= 90) outranks everything generic and even a
 * definitive status code. Generic rules follow Sisimai's order of checks, so a text naming two reasons
 * ("550 5.1.1 ... mailbox full") resolves as Sisimai resolves it.
 */
export const P = {
  /** A provider's own error code or exact sentence. */
  provider: 95,
  /** A provider's sentence that is a little less exact, or an MTA's fixed sentence. */
  mta: 90,
  mailboxfull: 80,
  emailtoolarge: 78,
  suspend: 76,
  hasmoved: 75,
  norelaying: 74,
  authfailure: 73,
  userunknown: 70,
  filtered: 69,
  requireptr: 68,
  notcompliantrfc: 67,
  badreputation: 66,
  contenterror: 65,
  virusdetected: 64,
  failedstarttls: 63,
  notaccept: 62,
  rejected: 60,
  hostunknown: 58,
  spamdetected: 57,
  ratelimited: 56,
  blocked: 55,
  policyviolation: 50,
  suppressed: 48,
  systemfull: 46,
  systemerror: 45,
  networkerror: 44,
  expired: 41,
  securityerror: 39,
  mailererror: 38,
  /** Below the hint threshold: a status code other than 5.5.x decides before these words. */
  syntaxerror: 34,
  onhold: 30,
  /** Vague words that only hint at a reason ("access denied", "rejected"). */
  weak: 20,
} as const;

export type RuleSpec = [
  name: string,
  reason: Reason,
  pattern: RegExp,
  example: string,
  priority?: number,
  when?: "4" | "5",
  onDelay?: Reason,
  flags?: { yieldsToStatus?: true },
];

/** Builds a family's table from compact specs; ids become `<family>.<name>`. */
export function table(family: string, specs: RuleSpec[]): TextRule[] {
  return specs.map(([name, reason, pattern, example, priority, when, onDelay, flags]) => {
    const rule: TextRule = { id: `${family}.${name}`, reason, pattern, example };
    if (priority !== undefined) rule.priority = priority;
    if (when !== undefined) rule.when = { statusClass: when };
    if (onDelay !== undefined) rule.onDelay = onDelay;
    if (flags?.yieldsToStatus) rule.yieldsToStatus = true;
    return rule;
  });
}
