import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError, configWarnings, ENV, loadConfig } from "../src/config.js";

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

  it("takes the reports' old relay and sender names as deprecated names of REBOUND_MAIL_RELAY_URL and REBOUND_MAIL_FROM, with a warning", () => {
    const old = loadConfig(
      {},
      { REBOUND_REPORT_SMTP_URL: "smtp://relay.example.net:25", REBOUND_REPORT_FROM: "r@example.net" },
    );
    expect([old.mailRelayUrl, old.mailFrom]).toEqual(["smtp://relay.example.net:25", "r@example.net"]);
    expect(configWarnings(old)).toEqual([
      "REBOUND_REPORT_SMTP_URL is deprecated: rename it REBOUND_MAIL_RELAY_URL (the old name is read for one more release)",
      "REBOUND_REPORT_FROM is deprecated: rename it REBOUND_MAIL_FROM (the old name is read for one more release)",
    ]);
    const both = loadConfig(
      {},
      { REBOUND_REPORT_SMTP_URL: "smtp://old.example.net", REBOUND_MAIL_RELAY_URL: "smtp://new.example.net" },
    );
    expect(both.mailRelayUrl).toBe("smtp://new.example.net");
    expect(configWarnings(both)[0]).toMatch(/REBOUND_REPORT_SMTP_URL is deprecated and ignored/);
    expect(configWarnings(loadConfig({}, { REBOUND_MAIL_RELAY_URL: "smtp://new.example.net" }))).toEqual([]);
    // A bad value under the old name is named by it.
    expect(() => loadConfig({}, { REBOUND_REPORT_SMTP_URL: "http://x" })).toThrow(
      "REBOUND_REPORT_SMTP_URL (deprecated name of REBOUND_MAIL_RELAY_URL)",
    );
    expect(() =>
      loadConfig({}, { REBOUND_REPORT_SCHEDULE: "0 7 * * 1", REBOUND_REPORT_TO: "a@example.net" }),
    ).toThrow("a scheduled report needs REBOUND_REPORT_TO (who gets it) and REBOUND_MAIL_RELAY_URL");
  });
});
