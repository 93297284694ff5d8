import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError, ENV, loadConfig } from "../src/config.js";

describe("configuration", () => {
  it("documents every variable of the ENV map in README.md", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const missing = Object.values(ENV).filter((name) => !readme.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it("reads REBOUND_DOMAIN_TENANTS as domain=tenant pairs (domains lower-cased, IDNs as A-labels) and refuses a pair without a tenant or domain", () => {
    const c = loadConfig({}, { REBOUND_DOMAIN_TENANTS: "Example.COM=acme, bücher.example=beta" });
    expect([...c.domainTenants]).toEqual([
      ["example.com", "acme"],
      ["xn--bcher-kva.example", "beta"],
    ]);
    expect(() => loadConfig({}, { REBOUND_DOMAIN_TENANTS: "example.com" })).toThrow(
      /"example\.com" is not `domain=tenant`/,
    );
    expect(() => loadConfig({}, { REBOUND_DOMAIN_TENANTS: "a@b.example=acme" })).toThrow(ConfigError);
  });

  it("binds SMTP and HTTP to loopback unless told otherwise", () => {
    const c = loadConfig({}, {});
    expect([c.smtpHost, c.httpHost]).toEqual(["127.0.0.1", "127.0.0.1"]);
    const open = loadConfig({}, { REBOUND_SMTP_HOST: "0.0.0.0", REBOUND_HTTP_HOST: "::" });
    expect([open.smtpHost, open.httpHost]).toEqual(["0.0.0.0", "::"]);
  });

  it("refuses an unknown REBOUND_* variable, naming the nearest setting", () => {
    expect(() => loadConfig({}, { REBOUND_SMTP_PROT: "25" })).toThrow(ConfigError);
    expect(() => loadConfig({}, { REBOUND_SMTP_PROT: "25" })).toThrow(
      "REBOUND_SMTP_PROT: no such setting (did you mean REBOUND_SMTP_PORT?)",
    );
    expect(() => loadConfig({}, { REBOUND_VERP_KEY: "k1:0123456789abcdef" })).toThrow(
      "did you mean REBOUND_VERP_KEYS?",
    );
  });

  it("names no setting for a variable that is near none, and ignores variables of other programs", () => {
    let message = "";
    try {
      loadConfig({}, { REBOUND_COMPLETELY_DIFFERENT_THING: "1", PATH: "/bin", DATABASE_URLS: "x" });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(
      "REBOUND_COMPLETELY_DIFFERENT_THING: no such setting; see the table in README.md",
    );
    expect(message).not.toContain("did you mean");
    expect(message).not.toContain("PATH");
    expect(loadConfig({}, { PATH: "/bin", HOME: "/root" }).httpPort).toBe(8025);
  });
});
