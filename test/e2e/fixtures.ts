// End-to-end fixtures: test/fixtures/e2e/*.eml with {{RECIPIENT}}, {{RETURN_PATH}}, {{RCPT}} and {{ID}} filled in.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { encodeVerp } from "../../src/core/verp.js";

export const E2E_FIXTURES = ["dsn-exim-user-unknown", "arf-abuse", "vacation-de"] as const;
export type E2eFixture = (typeof E2E_FIXTURES)[number];

export const BOUNCE_DOMAIN = "bounces.example.com";
export const FBL_DOMAIN = "fbl.example.com";
export const VERP_KEY = { id: "k1", secret: "e2e-test-secret-000001" };
export const VERP_KEYS_ENV = `${VERP_KEY.id}:${VERP_KEY.secret}`;

export function verp(recipient: string, stream = "marketing", tenant: string | null = "acme"): string {
  return encodeVerp({ recipient, stream, tenant }, [VERP_KEY], BOUNCE_DOMAIN);
}

/** A signed return path whose MAC was tampered with (what a forger would send). */
export function forgedVerp(recipient: string, stream = "marketing", tenant: string | null = "acme"): string {
  const real = verp(recipient, stream, tenant);
  const at = real.lastIndexOf("@");
  const local = real.slice(0, at);
  const last = local.at(-1) === "a" ? "b" : "a";
  return `${local.slice(0, -1)}${last}${real.slice(at)}`;
}

export function e2eMail(
  name: E2eFixture,
  v: { recipient: string; returnPath: string; rcpt?: string; id?: string },
): Buffer {
  const text = readFileSync(fileURLToPath(new URL(`../fixtures/e2e/${name}.eml`, import.meta.url)), "utf8");
  return Buffer.from(
    text
      .replaceAll("{{RECIPIENT}}", v.recipient)
      .replaceAll("{{RETURN_PATH}}", v.returnPath)
      .replaceAll("{{RCPT}}", v.rcpt ?? v.returnPath)
      .replaceAll("{{ID}}", v.id ?? randomUUID().replaceAll("-", ""))
      .replace(/\r?\n/g, "\r\n"),
  );
}
