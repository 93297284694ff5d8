// Reads the policy file named by the configuration (REBOUND_POLICY). The I/O edge of src/core/policy-config.ts.
import { readFileSync } from "node:fs";
import type { Config } from "./config.js";
import { DEFAULT_POLICY, parsePolicy, PolicyError, type Policy } from "./core/policy-config.js";

/** The policy: the file at `config.policyPath` (JSON) over the documented defaults; the defaults when unset. */
export function loadPolicy(config: Pick<Config, "policyPath">): Policy {
  if (!config.policyPath) return DEFAULT_POLICY;
  let text: string;
  try {
    text = readFileSync(config.policyPath, "utf8");
  } catch (err) {
    throw new PolicyError(`REBOUND_POLICY: cannot read ${config.policyPath}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new PolicyError(
      `REBOUND_POLICY: ${config.policyPath} is not valid JSON: ${(err as Error).message}`,
    );
  }
  return parsePolicy(json, `policy file ${config.policyPath}`);
}
