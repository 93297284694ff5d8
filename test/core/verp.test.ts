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

describe("dated return paths (REBOUND_VERP_MAX_AGE_DAYS)", () => {
  const DAY = 86_400_000;
  const now = new Date("2026-12-07T12:00:00Z");
  const ago = (days: number) => new Date(now.getTime() - days * DAY);
  const enc = (recipient: string, issuedAt?: Date, keys = [K1]) =>
    encodeVerp({ recipient, tenant: "acme", stream: "marketing" }, keys, "b.example", { issuedAt });

  it("signs the week of issue in after the key id, and decodes like an undated one", () => {
    const rp = enc("jane@example.com", now);
    expect(rp).toMatch(/^r=jane=example\.com=marketing\.acme=k1\.[a-z2-7]{2}[a-z2-7]{8}@b\.example$/);
    expect(decodeVerp(rp, [K1], { now, maxAgeDays: 30 })).toMatchObject({
      ok: true,
      recipient: "jane@example.com",
      keyId: "k1",
    });
  });

  it("refuses a path past the maximum age as expired, keeps it at least that long and at most a week more", () => {
    const opts = { now, maxAgeDays: 30 };
    expect(decodeVerp(enc("a@example.com", ago(30)), [K1], opts)).toMatchObject({ ok: true });
    expect(decodeVerp(enc("a@example.com", ago(38)), [K1], opts)).toMatchObject({
      ok: false,
      reason: "expired",
    });
    expect(decodeVerp(enc("a@example.com", ago(400)), [K1], opts)).toMatchObject({
      ok: false,
      reason: "expired",
    });
    // No maximum age (the default): any age verifies.
    expect(decodeVerp(enc("a@example.com", ago(400)), [K1], { now })).toMatchObject({ ok: true });
    // A clock a little behind the sender's (issued "next week") is not 19 years old.
    expect(decodeVerp(enc("a@example.com", ago(-7)), [K1], opts)).toMatchObject({ ok: true });
  });

  it("refuses a path whose week was changed (the week is signed), and verifies undated paths of a configured key", () => {
    const rp = enc("a@example.com", ago(60));
    const week = /k1\.([a-z2-7]{2})/.exec(rp)![1]!;
    const other = week === "aa" ? "ab" : "aa";
    const moved = rp.replace(`k1.${week}`, `k1.${other}`);
    expect(decodeVerp(moved, [K1], { now, maxAgeDays: 30 })).toMatchObject({
      ok: false,
      reason: "bad_signature",
    });
    // Minted before dating, with the previous key: verifies while that key is configured (a rotation).
    const undated = enc("a@example.com", undefined, [K2]);
    expect(decodeVerp(undated, [K1, K2], { now, maxAgeDays: 30 })).toMatchObject({ ok: true, keyId: "k2" });
  });

  it("stays within 64 octets in its longest hashed form, and a hashed dated path expires too", () => {
    const rp = encodeVerp(
      { recipient: `${"x".repeat(60)}@example.com`, tenant: "t".repeat(20), stream: "s".repeat(20) },
      [{ id: "abcdefgh", secret: K1.secret }],
      "b.example",
      { issuedAt: now },
    );
    expect(rp.startsWith("h=")).toBe(true);
    expect(Buffer.byteLength(local(rp))).toBeLessThanOrEqual(MAX_LOCAL_PART_OCTETS);
    const long = `${"y".repeat(60)}@example.com`;
    const old = enc(long, ago(90));
    expect(old.startsWith("h=")).toBe(true);
    expect(decodeVerp(old, [K1], { candidates: [long], now, maxAgeDays: 30 })).toMatchObject({
      ok: false,
      reason: "expired",
    });
    expect(decodeVerp(old, [K1], { candidates: [long], now })).toMatchObject({ ok: true, recipient: long });
  });

  it("writes an IDN bounce domain as its A-label", () => {
    expect(enc("a@example.com", now).endsWith("@b.example")).toBe(true);
    const rp = encodeVerp({ recipient: "a@example.com", stream: "s" }, [K1], "Bünce.example", {
      issuedAt: now,
    });
    expect(rp.endsWith("@xn--bnce-0ra.example")).toBe(true);
  });
});
