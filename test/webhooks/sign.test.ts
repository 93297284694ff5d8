import { describe, expect, it } from "vitest";
import { generateSecret, signatureHeader, verifySignature } from "../../src/webhooks/sign.js";

describe("webhook signatures", () => {
  const secret = generateSecret();
  const body = JSON.stringify({ id: "evt_1", type: "bounce.hard" });

  it("verifies a header made for the same secret, timestamp and body", () => {
    const header = signatureHeader(secret, 1_700_000_000, body);
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(verifySignature(secret, header, body, 1_700_000_010)).toEqual({
      ok: true,
      timestamp: 1_700_000_000,
    });
  });

  it("refuses a changed body, another secret, a stale timestamp and a malformed header", () => {
    const header = signatureHeader(secret, 1_700_000_000, body);
    expect(verifySignature(secret, header, body.replace("hard", "soft"), 1_700_000_000)).toEqual({
      ok: false,
      error: "mismatch",
    });
    expect(verifySignature(generateSecret(), header, body, 1_700_000_000)).toEqual({
      ok: false,
      error: "mismatch",
    });
    expect(verifySignature(secret, header, body, 1_700_000_000 + 301)).toEqual({
      ok: false,
      error: "too_old",
    });
    expect(verifySignature(secret, "v1=abc", body, 1_700_000_000)).toEqual({ ok: false, error: "malformed" });
    // A timestamp moved forward with the old MAC does not verify.
    expect(
      verifySignature(secret, header.replace("t=1700000000", "t=1700000100"), body, 1_700_000_100),
    ).toEqual({ ok: false, error: "mismatch" });
  });

  it("makes a different secret each time", () => {
    expect(generateSecret()).not.toBe(generateSecret());
    expect(generateSecret()).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
  });
});
