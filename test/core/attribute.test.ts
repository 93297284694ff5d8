import { describe, expect, it } from "vitest";
import { attribute } from "../../src/core/attribute.js";
import type { Recipient, Report } from "../../src/core/report.js";
import { encodeVerp } from "../../src/core/verp.js";

const KEYS = [{ id: "k1", secret: "attribute-test-secret" }];
const D = { tenant: "default", stream: "default" };
const rp = (recipient: string, stream = "marketing", tenant: string | null = "acme") =>
  encodeVerp({ recipient, stream, tenant }, KEYS, "b.example");
const hard = (recipient: string, o: Partial<Recipient> = {}): Recipient => ({
  recipient,
  reason: "userunknown",
  class: "hard",
  permanent: true,
  rule: "dsn.status:5.1.1",
  parser: "dsn",
  ...o,
});
const report = (recipients: Recipient[], o: Partial<Report> = {}): Report => ({
  kind: "bounce",
  recipients,
  original: { headers: {} },
  ...o,
});

describe("attributing a report's recipients", () => {
  it("verifies the recipient that the envelope's return path names, with its tenant and stream", () => {
    const a = attribute(report([hard("Jane@Example.com")]), [rp("jane@example.com")], KEYS, D);
    expect(a.recipients).toMatchObject([
      {
        address: "jane@example.com",
        addressOriginal: "Jane@Example.com",
        tenant: "acme",
        stream: "marketing",
        verification: "verified",
        verpKeyId: "k1",
      },
    ]);
    expect(a.verp).toEqual({ valid: 1, invalid: 0 });
  });

  it("verifies through the returned original's Return-Path when the mail came to a plain address", () => {
    const r = report([hard("jane@example.com")], {
      original: { headers: {}, returnPath: `<${rp("jane@example.com", "news")}>` },
    });
    expect(attribute(r, ["bounces@b.example"], KEYS, D).recipients).toMatchObject([
      { verification: "verified", stream: "news" },
    ]);
  });

  it("ties a lone recipient to the return path's address when the report names someone else (a forward)", () => {
    const a = attribute(report([hard("forwarded@elsewhere.example")]), [rp("jane@example.com")], KEYS, D);
    expect(a.recipients).toMatchObject([
      {
        address: "jane@example.com",
        addressOriginal: "forwarded@elsewhere.example",
        verification: "verified",
      },
    ]);
  });

  it("does not trust other recipients of a report with several, though it keeps the signed tenant", () => {
    const a = attribute(
      report([hard("jane@example.com"), hard("victim@example.com")]),
      [rp("jane@example.com")],
      KEYS,
      D,
    );
    expect(a.recipients.map((r) => [r.address, r.verification, r.tenant])).toEqual([
      ["jane@example.com", "verified", "acme"],
      ["victim@example.com", "invalid", "acme"],
    ]);
  });

  it("marks a forged return path invalid and uses the default tenant and stream", () => {
    const forged = rp("someone@example.com").replace("someone", "victim");
    const a = attribute(report([hard("victim@example.com")]), [forged], KEYS, D);
    expect(a.recipients).toMatchObject([
      {
        address: "victim@example.com",
        verification: "invalid",
        tenant: "default",
        stream: "default",
        verpKeyId: null,
      },
    ]);
    expect(a.verp).toEqual({ valid: 0, invalid: 1 });
  });

  it("marks a bounce to a plain address absent", () => {
    expect(
      attribute(report([hard("x@example.com")]), ["bounces@b.example"], KEYS, D).recipients[0]!.verification,
    ).toBe("absent");
  });

  it("makes an event from the return path alone when the report names nobody", () => {
    const complaint = attribute(
      report([], {
        kind: "complaint",
        arf: { feedbackType: "abuse" },
        original: { headers: {}, returnPath: rp("c@example.com") },
      }),
      ["fbl@b.example"],
      KEYS,
      D,
    );
    expect(complaint.recipients).toMatchObject([
      {
        address: "c@example.com",
        verification: "verified",
        recipient: { class: "complaint", reason: "feedback", feedbackType: "abuse", rule: "verp.recipient" },
      },
    ]);
    const unknown = attribute(report([], { kind: "not_a_report" }), [rp("u@example.com")], KEYS, D);
    expect(unknown.recipients).toMatchObject([
      { address: "u@example.com", recipient: { class: "undetermined", reason: "undefined" } },
    ]);
  });

  it("resolves a hashed return path from the addresses the report names", () => {
    const long = "a.really.long.local.part.to.force.hashing@long-domain.example.org";
    const path = rp(long);
    expect(path.startsWith("h=")).toBe(true);
    const a = attribute(report([hard(long)]), [path], KEYS, D);
    expect(a.recipients).toMatchObject([{ address: long, verification: "verified" }]);
  });

  it("skips a recipient whose address is unusable when no return path vouches for one", () => {
    const a = attribute(
      report([hard("not an address"), hard("ok@example.com")]),
      ["bounces@b.example"],
      KEYS,
      D,
    );
    expect(a.skipped).toEqual([{ recipient: "not an address", error: "not a valid address" }]);
    expect(a.recipients.map((r) => r.address)).toEqual(["ok@example.com"]);
  });
});
