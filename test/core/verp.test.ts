import { describe, expect, it } from "vitest";
import { decodeVerp, encodeVerp, MAX_LOCAL_PART_OCTETS, VerpError } from "../../src/core/verp.js";

const K1 = { id: "k1", secret: "first-secret-of-sixteen" };
const K2 = { id: "k2", secret: "second-secret-of-sixteen" };
const local = (addr: string) => addr.slice(0, addr.lastIndexOf("@"));

describe("signed return paths (VERP)", () => {
  it("encodes a short recipient inline and decodes it back with its tenant, stream and key", () => {
    const rp = encodeVerp(
      { recipient: "Jane.Doe@Example.COM", tenant: "acme", stream: "marketing" },
      [K1],
      "bounces.example.net",
    );
    expect(rp).toMatch(/^r=Jane\.Doe=example\.com=marketing\.acme=k1[a-z2-7]{8}@bounces\.example\.net$/);
    expect(decodeVerp(rp, [K1])).toEqual({
      ok: true,
      form: "inline",
      recipient: "Jane.Doe@example.com",
      tenant: "acme",
      stream: "marketing",
      keyId: "k1",
    });
  });

  it("omits the tenant when none is given and decodes it as null", () => {
    const rp = encodeVerp({ recipient: "a@b.io", stream: "transactional" }, [K1], "b.example");
    expect(rp).toMatch(/^r=a=b\.io=transactional=k1/);
    expect(decodeVerp(rp, [K1])).toMatchObject({
      ok: true,
      recipient: "a@b.io",
      tenant: null,
      stream: "transactional",
    });
  });

  it("keeps every return path within the 64-octet local-part limit", () => {
    for (const recipient of [
      "x@y.io",
      "a".repeat(30) + "@example.com",
      "a".repeat(64) + "@" + "d".repeat(60) + ".com",
      "user+tag=x@sub.example.co.uk",
    ]) {
      const rp = encodeVerp(
        { recipient, tenant: "tenant-with-20-chars", stream: "stream_with_20_chars" },
        [{ id: "kid12345", secret: K1.secret }],
        "b.example",
      );
      expect(Buffer.byteLength(local(rp))).toBeLessThanOrEqual(MAX_LOCAL_PART_OCTETS);
    }
  });

  it("falls back to the hashed form for a long address, which verifies against the addresses the bounce names", () => {
    const recipient = "a.very.long.local.part.for.testing@a-rather-long-domain-name.example.org";
    const rp = encodeVerp({ recipient, tenant: "acme", stream: "marketing" }, [K1], "b.example");
    expect(rp).toMatch(/^h=marketing\.acme=k1[a-z2-7]{8}@b\.example$/);
    expect(decodeVerp(rp, [K1])).toMatchObject({
      ok: false,
      reason: "unresolved",
      form: "hashed",
      tenant: "acme",
      stream: "marketing",
    });
    expect(
      decodeVerp(rp, [K1], { candidates: ["other@example.org", recipient.toUpperCase()] }),
    ).toMatchObject({
      ok: true,
      form: "hashed",
      recipient: "A.VERY.LONG.LOCAL.PART.FOR.TESTING@a-rather-long-domain-name.example.org",
      tenant: "acme",
      stream: "marketing",
    });
    expect(
      decodeVerp(rp, [K1], { candidates: ["someone.else@a-rather-long-domain-name.example.org"] }),
    ).toMatchObject({ ok: false, reason: "bad_signature" });
  });

  it("uses the hashed form for an internationalised local part, so the return path stays ASCII", () => {
    const rp = encodeVerp({ recipient: "josé@exemple.fr", stream: "s" }, [K1], "b.example");
    expect(rp).toMatch(/^h=s=k1[a-z2-7]{8}@b\.example$/);
    expect(decodeVerp(rp, [K1], { candidates: ["josé@exemple.fr"] })).toMatchObject({
      ok: true,
      recipient: "josé@exemple.fr",
    });
  });

  it("uses the hashed form for a quoted local part, which cannot go inline", () => {
    const rp = encodeVerp({ recipient: '"john smith"@example.com', stream: "s" }, [K1], "b.example");
    expect(rp.startsWith("h=s=k1")).toBe(true);
  });

  it("survives an MTA that changes the case of the return path", () => {
    const rp = encodeVerp(
      { recipient: "someone@example.com", tenant: "acme", stream: "news" },
      [K1],
      "b.example",
    );
    expect(decodeVerp(rp.toUpperCase(), [K1])).toMatchObject({
      ok: true,
      recipient: "SOMEONE@example.com",
      tenant: "acme",
      stream: "news",
    });
  });

  it("rejects a forged recipient, a tampered stream and a tampered MAC as bad signatures", () => {
    const rp = encodeVerp({ recipient: "victim@example.com", stream: "marketing" }, [K1], "b.example");
    expect(decodeVerp(rp.replace("victim", "victin"), [K1])).toMatchObject({
      ok: false,
      reason: "bad_signature",
    });
    expect(decodeVerp(rp.replace("=marketing=", "=transact="), [K1])).toMatchObject({
      ok: false,
      reason: "bad_signature",
    });
    const mac = rp.slice(rp.indexOf("@") - 8, rp.indexOf("@"));
    const flipped = (mac[0] === "a" ? "b" : "a") + mac.slice(1);
    expect(decodeVerp(rp.replace(mac + "@", flipped + "@"), [K1])).toMatchObject({
      ok: false,
      reason: "bad_signature",
    });
  });

  it("verifies with any configured key (rotation) and names an unknown key id", () => {
    const old = encodeVerp({ recipient: "a@example.com", stream: "s" }, [K1], "b.example");
    const fresh = encodeVerp({ recipient: "a@example.com", stream: "s" }, [K2, K1], "b.example");
    expect(fresh).toContain("=k2");
    expect(decodeVerp(old, [K2, K1])).toMatchObject({ ok: true, keyId: "k1" });
    expect(decodeVerp(fresh, [K2, K1])).toMatchObject({ ok: true, keyId: "k2" });
    expect(decodeVerp(fresh, [K1])).toMatchObject({ ok: false, reason: "unknown_key", keyId: "k2" });
    // the same key id with another secret is a bad signature
    expect(decodeVerp(old, [{ id: "k1", secret: "another-secret-entirely" }])).toMatchObject({
      ok: false,
      reason: "bad_signature",
    });
  });

  it("tells plain addresses from broken return paths", () => {
    expect(decodeVerp("fbl@fbl.example.com", [K1])).toEqual({ ok: false, reason: "not_verp" });
    expect(decodeVerp("<bounces@b.example>", [K1])).toEqual({ ok: false, reason: "not_verp" });
    expect(decodeVerp("r=oops@b.example", [K1])).toEqual({ ok: false, reason: "malformed" });
    expect(decodeVerp("r=a=example.com=s=k1!!!!!!!!@b.example", [K1])).toEqual({
      ok: false,
      reason: "malformed",
    });
    expect(decodeVerp("r=a=nodot=s=k1aaaaaaaa@b.example", [K1])).toEqual({ ok: false, reason: "malformed" });
    expect(decodeVerp("h=s=extra=k1aaaaaaaa@b.example", [K1])).toEqual({ ok: false, reason: "malformed" });
  });

  it("decodes a recipient whose local part contains the separator", () => {
    const rp = encodeVerp({ recipient: "a=b+c@example.com", stream: "s" }, [K1], "b.example");
    expect(decodeVerp(`<${rp}>`, [K1])).toMatchObject({ ok: true, recipient: "a=b+c@example.com" });
  });

  it("refuses to encode without a key, with an invalid recipient or with a bad stream name", () => {
    expect(() => encodeVerp({ recipient: "a@example.com", stream: "s" }, [], "b.example")).toThrow(VerpError);
    expect(() => encodeVerp({ recipient: "not-an-address", stream: "s" }, [K1], "b.example")).toThrow(
      /recipient/,
    );
    expect(() => encodeVerp({ recipient: "a@example.com", stream: "has space" }, [K1], "b.example")).toThrow(
      /stream/,
    );
    expect(() =>
      encodeVerp({ recipient: "a@example.com", stream: "s".repeat(21) }, [K1], "b.example"),
    ).toThrow(/stream/);
  });
});
