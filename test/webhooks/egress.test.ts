import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { createEgressPolicy, parseCidr, refusedHost } from "../../src/webhooks/egress.js";

const strict = createEgressPolicy([]);

describe("the webhook egress policy", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["::1", "loopback"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["::", "unspecified"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["fd12:3456::1", "private"],
    ["fc00::1", "private"],
    ["100.64.0.1", "shared (CGNAT)"],
    ["100.127.255.255", "shared (CGNAT)"],
    ["169.254.169.254", "link-local"],
    ["fe80::1", "link-local"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["ff02::1", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["192.0.2.10", "documentation"],
    ["2001:db8::1", "documentation"],
    ["198.18.0.1", "benchmarking"],
    ["192.0.0.170", "special-purpose"],
    ["2002:7f00:1::1", "special-purpose"],
    ["2001:0:4136:e378::1", "special-purpose"],
    ["64:ff9b::7f00:1", "special-purpose"],
    ["::7f00:1", "special-purpose"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:169.254.169.254", "link-local"],
    ["::ffff:10.0.0.1", "private"],
    ["not-an-address", "special-purpose"],
  ])("refuses %s (%s)", (address, kind) => {
    expect(strict.classify(address)).toEqual({ kind, allowed: false });
  });

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "172.32.0.1",
    "100.128.0.1",
    "169.255.0.1",
    "2606:4700::1111",
    "::ffff:8.8.8.8",
  ])("allows the public address %s", (address) => {
    expect(strict.classify(address)).toEqual({ kind: "public", allowed: true });
  });

  it("allows exactly the networks the operator allows, IPv4-mapped forms included", () => {
    const p = createEgressPolicy(["127.0.0.0/8", "10.20.0.0/16", "fd00::/8", "169.254.10.5"]);
    expect(p.classify("127.0.0.1")).toEqual({ kind: "loopback", allowed: true });
    expect(p.classify("::ffff:127.0.0.1")).toEqual({ kind: "loopback", allowed: true });
    expect(p.classify("10.20.3.4").allowed).toBe(true);
    expect(p.classify("10.21.3.4").allowed).toBe(false);
    expect(p.classify("fd00::5").allowed).toBe(true);
    expect(p.classify("fc00::5").allowed).toBe(false);
    expect(p.classify("169.254.10.5").allowed).toBe(true);
    expect(p.classify("169.254.169.254").allowed).toBe(false);
    expect(p.classify("::1").allowed).toBe(false);
  });

  it("reads networks as address/prefix or a bare address, and nothing else", () => {
    expect(parseCidr("10.0.0.0/8")).toEqual({ address: "10.0.0.0", prefix: 8, family: "ipv4" });
    expect(parseCidr(" fd00::/8 ")).toEqual({ address: "fd00::", prefix: 8, family: "ipv6" });
    expect(parseCidr("192.168.1.10")).toEqual({ address: "192.168.1.10", prefix: 32, family: "ipv4" });
    for (const bad of [
      "10.0.0.0/33",
      "::/129",
      "10.0.0.0/",
      "10.0.0/8",
      "example.com/8",
      "10.0.0.0/8/8",
      "1.2.3.4/-1",
    ])
      expect(parseCidr(bad), bad).toBeUndefined();
    expect(() => createEgressPolicy(["10.0.0.0/33"])).toThrow(/not a network/);
  });

  it("refuses literal and localhost hosts of URLs before any lookup, and leaves other names to delivery", () => {
    const host = (url: string) => refusedHost(strict, new URL(url).hostname);
    expect(host("http://127.0.0.1:6379/")).toBe(
      "destination 127.0.0.1 is not a public address (loopback); an operator may allow its network with REBOUND_WEBHOOK_ALLOWED_NETWORKS",
    );
    expect(host("http://169.254.169.254/latest/meta-data/")).toContain(
      "169.254.169.254 is not a public address (link-local)",
    );
    expect(host("http://[::1]:5432/")).toContain("(loopback)");
    expect(host("http://[::ffff:127.0.0.1]:6379/")).toContain("(loopback)");
    // The URL parser reads the other spellings of an IPv4 address too.
    expect(host("http://2130706433/")).toContain("127.0.0.1 is not a public address");
    expect(host("http://0x7f.1/")).toContain("127.0.0.1 is not a public address");
    expect(host("http://LOCALHOST:8080/")).toContain(
      "localhost (127.0.0.1) is not a public address (loopback)",
    );
    expect(host("http://api.localhost./")).toContain("(loopback)");
    expect(host("https://hooks.example.com/rebound")).toBeUndefined();
    expect(host("https://8.8.8.8/")).toBeUndefined();
    expect(refusedHost(createEgressPolicy(["127.0.0.0/8"]), "localhost")).toBeUndefined();
  });

  it("is configured by REBOUND_WEBHOOK_ALLOWED_NETWORKS, empty by default, with a bad network named", () => {
    expect(loadConfig({}, {}).webhookAllowedNetworks).toEqual([]);
    expect(
      loadConfig({}, { REBOUND_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8, fd00::/8,10.1.2.3" })
        .webhookAllowedNetworks,
    ).toEqual(["127.0.0.0/8", "fd00::/8", "10.1.2.3"]);
    expect(() => loadConfig({}, { REBOUND_WEBHOOK_ALLOWED_NETWORKS: "10.0.0.0/8,intranet" })).toThrow(
      ConfigError,
    );
    expect(() => loadConfig({}, { REBOUND_WEBHOOK_ALLOWED_NETWORKS: "10.0.0.0/40" })).toThrow(
      /REBOUND_WEBHOOK_ALLOWED_NETWORKS: "10.0.0.0\/40" is not a network/,
    );
  });
});
