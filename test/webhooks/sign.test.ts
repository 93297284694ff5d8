import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
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

describe("the verification snippets in docs/webhooks.md", () => {
  const docs = readFileSync(fileURLToPath(new URL("../../docs/webhooks.md", import.meta.url)), "utf8");
  const block = (lang: string) => {
    const m = new RegExp("```" + lang + "\\n([\\s\\S]*?)```").exec(docs);
    if (!m?.[1]) throw new Error(`no ${lang} block in docs/webhooks.md`);
    return m[1];
  };
  const secret = generateSecret();
  const body = JSON.stringify({ id: "evt_42", type: "complaint", data: { address: "ä@example.com" } });
  const now = Math.floor(Date.now() / 1000);

  it("the Node.js one accepts what Rebound signs and refuses a changed body or an old timestamp", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rebound-doc-"));
    const file = join(dir, "verify.mjs");
    writeFileSync(file, block("js"));
    const { verifyRebound } = (await import(pathToFileURL(file).href)) as {
      verifyRebound: (s: string, h: string, b: string | Buffer) => boolean;
    };
    expect(verifyRebound(secret, signatureHeader(secret, now, body), Buffer.from(body))).toBe(true);
    expect(verifyRebound(secret, signatureHeader(secret, now, body), body)).toBe(true);
    expect(verifyRebound(secret, signatureHeader(secret, now, body), body.replace("42", "43"))).toBe(false);
    expect(verifyRebound(secret, signatureHeader(secret, now - 3600, body), body)).toBe(false);
    expect(verifyRebound(secret, "garbage", body)).toBe(false);
  });

  it("the Python one agrees", () => {
    const cases = [
      [signatureHeader(secret, now, body), body],
      [signatureHeader(secret, now, body), `${body} `],
      [signatureHeader(secret, now - 3600, body), body],
    ];
    const script = `${block("python")}
import json, sys
print(json.dumps([verify_rebound(sys.argv[1], h, b.encode()) for h, b in json.loads(sys.argv[2])]))
`;
    const out = execFileSync("python3", ["-c", script, secret, JSON.stringify(cases)]).toString();
    expect(JSON.parse(out)).toEqual([true, false, false]);
  });
});
