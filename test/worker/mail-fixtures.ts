// Mail fixtures for the worker tests: test/fixtures/mail/*.eml with {{RECIPIENT}}, {{RETURN_PATH}}, {{RCPT}} and
// {{ID}} filled in.
import { createHash, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const FIXTURES = [
  "dsn-hard",
  "dsn-soft-mailboxfull",
  "dsn-delivered",
  "dsn-block-spamhaus",
  "arf-complaint",
  "arf-auth-failure",
  "autoreply",
  "unreadable-bounce",
] as const;
export type Fixture = (typeof FIXTURES)[number];

export function fixture(
  name: Fixture,
  v: { recipient: string; returnPath: string; rcpt?: string; id?: string },
): Buffer {
  const text = readFileSync(fileURLToPath(new URL(`../fixtures/mail/${name}.eml`, import.meta.url)), "utf8");
  return Buffer.from(
    text
      .replaceAll("{{RECIPIENT}}", v.recipient)
      .replaceAll("{{RETURN_PATH}}", v.returnPath)
      .replaceAll("{{RCPT}}", v.rcpt ?? v.returnPath)
      .replaceAll("{{ID}}", v.id ?? randomUUID())
      .replace(/\r?\n/g, "\r\n"),
  );
}

export const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
