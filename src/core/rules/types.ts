// Rules as data: each maps a reply text (or a status code) to one reason, with an id that ends up in the
// classification's `rule` and a real-looking example the rule must match (tested).
import type { Reason } from "../report.js";

export interface TextRule {
  /** Family-qualified id, e.g. `postfix.user-unknown`, `google.5.7.26-unauthenticated`. The classification's rule is `text:<id>`. */
  id: string;
  reason: Reason;
  pattern: RegExp;
  /** A real-looking reply or bounce text this rule matches. */
  example: string;
  /** Use only when the failure is permanent (5) or temporary (4), when that is known. */
  when?: { statusClass?: "4" | "5" };
  /** Higher wins when several rules match the same text (default 0). Specific texts outrank generic ones. */
  priority?: number;
  /**
   * What the words mean on a delay notice (Action delayed, a warning the sender still retries), where that differs:
   * a connection the remote refused is the delay itself there (`expired`), though on a final notice Sisimai reads
   * it as the remote's block.
   */
  onDelay?: Reason;
  /**
   * The words name only the SMTP state the failure came in (Gmail's `(state 9)`): a specific enhanced status code
   * in the reply (`5.1.1`, not `X.Y.0`) decides before them, as Sisimai's Gmail module lets the status name win.
   */
  yieldsToStatus?: boolean;
}

/** A status-code rule: an RFC 3463 enhanced code (exact like `5.1.1`, or a class pattern like `5.1.*`) to a reason. */
export interface StatusRule {
  status: string;
  reason: Reason;
  /** True when the code alone is decisive (a text rule of lower priority does not override it). */
  definitive?: boolean;
  example: string;
}
