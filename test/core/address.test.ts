import { describe, expect, it } from "vitest";
import { normalizeAddress } from "../../src/core/address.js";

describe("normalizeAddress", () => {
  it("refuses control characters (C0, DEL, C1) anywhere in an address", () => {
    for (const a of [
      "a\u0000b@example.com",
      "a\u0001b@example.com",
      "ab@exa\u007fmple.com",
      "a\u0085b@example.com",
    ])
      expect(normalizeAddress(a), JSON.stringify(a)).toMatchObject({ ok: false, error: "control_character" });
  });

  it("still trims surrounding whitespace and folds the domain", () => {
    expect(normalizeAddress(" Jane@Example.COM\n")).toMatchObject({ ok: true, address: "jane@example.com" });
  });
});
