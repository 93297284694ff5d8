import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY, PolicyError } from "../src/core/policy-config.js";
import { loadPolicy } from "../src/policy-file.js";

const dir = mkdtempSync(join(tmpdir(), "rebound-policy-"));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe("the policy file", () => {
  it("gives the documented defaults when no file is configured", () => {
    expect(loadPolicy({})).toBe(DEFAULT_POLICY);
  });

  it("reads the example file at the root, which spells out the defaults", () => {
    const p = loadPolicy({ policyPath: "policy.example.json" });
    expect(p.verification).toEqual(DEFAULT_POLICY.verification);
    expect(p.soft.default).toEqual(DEFAULT_POLICY.soft.default);
    expect(p.soft.reasons.mailboxfull).toEqual(DEFAULT_POLICY.soft.reasons.mailboxfull);
    expect(p.complaint).toEqual(DEFAULT_POLICY.complaint);
    expect(p.hard.reasons.hasmoved).toEqual({ expiresDays: 365 });
  });

  it("names the file and the problem when it is missing, not JSON, or invalid", () => {
    expect(() => loadPolicy({ policyPath: join(dir, "nope.json") })).toThrow(/REBOUND_POLICY: cannot read/);
    expect(() => loadPolicy({ policyPath: file("bad.json", "{ nope") })).toThrow(/is not valid JSON/);
    expect(() =>
      loadPolicy({ policyPath: file("invalid.json", '{"complaint":{"scope":"everywhere"}}') }),
    ).toThrow(PolicyError);
    expect(() =>
      loadPolicy({ policyPath: file("invalid2.json", '{"complaint":{"scope":"everywhere"}}') }),
    ).toThrow(/complaint\.scope/);
  });
});
