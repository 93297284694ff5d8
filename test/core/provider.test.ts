import { describe, expect, it } from "vitest";
import {
  isReservedDomain,
  knownProvider,
  MX_RULES,
  PROVIDERS,
  providerOf,
  providerOfMx,
} from "../../src/core/provider.js";

describe("the provider of a recipient domain", () => {
  it("knows the big consumer domains, case and trailing dot aside", () => {
    expect(providerOf("gmail.com")).toBe("google");
    expect(providerOf("Hotmail.CO.UK")).toBe("microsoft");
    expect(providerOf("aol.com")).toBe("yahoo");
    expect(providerOf("web.de.")).toBe("gmx-webde");
    expect(providerOf("wanadoo.fr")).toBe("orange");
    expect(providerOf("icloud.com")).toBe("apple");
  });

  it("gives `other`, never the domain itself, for a domain the table does not know (labels stay bounded)", () => {
    expect(providerOf("acme-corp.io")).toBe("other");
    expect(knownProvider("acme-corp.io")).toBeUndefined();
  });

  it("names the provider behind MX hosts: Google Workspace and Microsoft 365 tenants", () => {
    expect(providerOfMx(["aspmx.l.google.com", "alt1.aspmx.l.google.com"])).toEqual({
      provider: "google",
      rule: "mx.google",
    });
    expect(providerOfMx(["acme-io.mail.protection.outlook.com."])).toEqual({
      provider: "microsoft",
      rule: "mx.microsoft",
    });
    expect(providerOfMx(["mx.acme.io"])).toEqual({ provider: "other", rule: null });
    expect(providerOfMx([])).toEqual({ provider: "other", rule: null });
  });

  it("does not take a look-alike host for a provider's (a suffix must be a whole label)", () => {
    expect(providerOfMx(["mx.notgoogle.com"]).provider).toBe("other");
    expect(providerOfMx(["google.com.evil.example"]).provider).toBe("other");
  });

  it("claims each MX rule's own example for its provider, and every provider is in the closed list", () => {
    for (const r of MX_RULES) {
      expect(providerOfMx([r.example]), r.id).toEqual({ provider: r.provider, rule: r.id });
      expect(PROVIDERS).toContain(r.provider);
    }
  });

  it("knows reserved domains have no MX", () => {
    expect(isReservedDomain("example.com")).toBe(true);
    expect(isReservedDomain("mail.example.org")).toBe(true);
    expect(isReservedDomain("shop.test")).toBe(true);
    expect(isReservedDomain("acme.io")).toBe(false);
  });
});
