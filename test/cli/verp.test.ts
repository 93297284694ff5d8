import { beforeAll, describe, expect, it } from "vitest";
import { decodeVerp } from "../../src/core/verp.js";
import { cli } from "./run-cli.js";

const KEYS = [
  { id: "k2", secret: "cli-test-secret-new-1" },
  { id: "k1", secret: "cli-test-secret-old-1" },
];

beforeAll(() => {
  process.env.REBOUND_VERP_KEYS = KEYS.map((k) => `${k.id}:${k.secret}`).join(",");
  process.env.REBOUND_DOMAINS = "bounces.example.net,fbl.example.net";
});

describe("rebound verp", () => {
  it("encode prints a return path on the first bounce domain, signed with the first key", async () => {
    const r = await cli(
      "verp",
      "encode",
      "--recipient",
      "Jane@Example.com",
      "--stream",
      "marketing",
      "--tenant",
      "acme",
    );
    expect(r.code).toBe(0);
    const rp = r.stdout.trim();
    // Dated: `.` and the week of issue (2 base32 characters) after the key id.
    expect(rp).toMatch(/^r=Jane=example\.com=marketing\.acme=k2\.[a-z2-7]{10}@bounces\.example\.net$/);
    expect(decodeVerp(rp, KEYS)).toMatchObject({
      ok: true,
      recipient: "Jane@example.com",
      tenant: "acme",
      stream: "marketing",
      keyId: "k2",
    });
  });

  it("encode takes another bounce domain", async () => {
    const r = await cli(
      "verp",
      "encode",
      "--recipient",
      "a@b.io",
      "--stream",
      "tx",
      "--domain",
      "rp.example.org",
    );
    expect(r.stdout.trim()).toMatch(/@rp\.example\.org$/);
  });

  it("decode prints JSON of what the return path carries", async () => {
    const rp = (await cli("verp", "encode", "--recipient", "a@b.io", "--stream", "tx")).stdout.trim();
    const r = await cli("verp", "decode", rp);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      ok: true,
      form: "inline",
      recipient: "a@b.io",
      tenant: null,
      stream: "tx",
      keyId: "k2",
    });
  });

  it("decode exits 1 with the reason on a forged return path", async () => {
    const rp = (await cli("verp", "encode", "--recipient", "a@b.io", "--stream", "tx")).stdout.trim();
    const r = await cli("verp", "decode", rp.replace("r=a=", "r=z="));
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, reason: "bad_signature" });
  });

  it("decode resolves a hashed return path with the candidates given", async () => {
    const long = "someone.with.a.long.address.indeed@mail.some-long-domain.example";
    const rp = (await cli("verp", "encode", "--recipient", long, "--stream", "tx")).stdout.trim();
    expect(rp.startsWith("h=")).toBe(true);
    expect(JSON.parse((await cli("verp", "decode", rp)).stdout)).toMatchObject({
      ok: false,
      reason: "unresolved",
    });
    const r = await cli("verp", "decode", rp, "--candidate", "other@example.com", long);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, form: "hashed", recipient: long });
  });

  it("encode fails with a clear message on an invalid recipient", async () => {
    const r = await cli("verp", "encode", "--recipient", "nope", "--stream", "tx");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/recipient: the address has no @/);
  });
});
