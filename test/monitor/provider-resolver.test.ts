import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProviderResolver } from "../../src/monitor/provider-resolver.js";
import { startDns, type TestDns } from "./dns-server.js";

let dns: TestDns;
beforeAll(async () => {
  dns = await startDns({
    mx: {
      "workspace.io": ["aspmx.l.google.com", "alt1.aspmx.l.google.com"],
      "m365.io": ["m365-io.mail.protection.outlook.com"],
      "selfhosted.io": ["mx1.selfhosted.io"],
      "twice.io": ["mx.zoho.com"],
    },
    hang: ["hanging.io"],
    servfail: ["broken.io"],
  });
});
afterAll(async () => dns?.close());

const count = (name: string) => dns.queries.filter((q) => q === name).length;

describe("resolving providers from MX hosts over a real DNS server", () => {
  it("names Google Workspace and Microsoft 365 tenants, and `other` for self-hosted or unknown domains", async () => {
    const r = new ProviderResolver({ servers: [dns.address], timeoutMs: 500 });
    const got = await r.resolveAll(["Workspace.io", "m365.io", "selfhosted.io", "nxdomain.io"]);
    expect(Object.fromEntries(got)).toEqual({
      "workspace.io": "google",
      "m365.io": "microsoft",
      "selfhosted.io": "other",
      "nxdomain.io": "other",
    });
    r.close();
  });

  it("asks nothing for known consumer or reserved domains", async () => {
    const before = dns.queries.length;
    const r = new ProviderResolver({ servers: [dns.address], timeoutMs: 500 });
    expect(Object.fromEntries(await r.resolveAll(["gmail.com", "outlook.com", "example.com"]))).toEqual({
      "gmail.com": "google",
      "outlook.com": "microsoft",
      "example.com": "other",
    });
    expect(dns.queries.length).toBe(before);
    expect(r.stats.lookups).toBe(0);
  });

  it("caches answers: the same domain, many times and at once, is one query", async () => {
    const r = new ProviderResolver({ servers: [dns.address], timeoutMs: 500 });
    const answers = await Promise.all(Array.from({ length: 5 }, () => r.resolve("twice.io")));
    expect(answers).toEqual(Array(5).fill("zoho"));
    expect(await r.resolve("twice.io")).toBe("zoho");
    expect(count("twice.io")).toBe(1);
    expect(r.peek("twice.io")).toBe("zoho");
  });

  it("gives `other` when the server hangs, within the timeout, and looks the domain up again after retryMs", async () => {
    let now = 1_000_000;
    const r = new ProviderResolver({
      servers: [dns.address],
      timeoutMs: 200,
      retryMs: 60_000,
      now: () => now,
    });
    const t0 = Date.now();
    expect(await r.resolve("hanging.io")).toBe("other");
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(r.stats.failures).toBe(1);
    const asked = count("hanging.io");
    expect(asked).toBeGreaterThanOrEqual(1);
    // Within retryMs: the failure's `other` is kept, nothing asked.
    expect(await r.resolve("hanging.io")).toBe("other");
    expect(count("hanging.io")).toBe(asked);
    // After it: asked again.
    now += 60_001;
    expect(await r.resolve("hanging.io")).toBe("other");
    expect(count("hanging.io")).toBeGreaterThan(asked);
    r.close();
  });

  it("treats SERVFAIL as a failure to retry, not as an answer", async () => {
    let now = 0;
    const r = new ProviderResolver({
      servers: [dns.address],
      timeoutMs: 300,
      retryMs: 1_000,
      now: () => now,
    });
    expect(await r.resolve("broken.io")).toBe("other");
    expect(r.stats.failures).toBe(1);
    now += 1_001;
    await r.resolve("broken.io");
    expect(r.stats.lookups).toBe(2);
  });

  it("keeps at most maxEntries domains", async () => {
    const r = new ProviderResolver({ servers: [dns.address], timeoutMs: 500, maxEntries: 2 });
    await r.resolveAll(["workspace.io", "m365.io"]);
    await r.resolve("selfhosted.io");
    expect(r.peek("workspace.io")).toBeUndefined();
    expect(r.peek("m365.io")).toBe("microsoft");
    expect(r.peek("selfhosted.io")).toBe("other");
  });
});
