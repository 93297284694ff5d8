// Placeholder until the classifier lands: classify(raw) -> Report, pure.
import type { Report } from "./report.js";

/** Bumped whenever rules or parsers change what classify() says; stored with every event. */
export const CLASSIFIER_VERSION = "0.1.0";

export function classify(_raw: Buffer | string): Report {
  return { kind: "not_a_report", recipients: [], original: { headers: {} } };
}
