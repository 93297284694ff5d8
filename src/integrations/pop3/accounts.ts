// The POP3 mailboxes `rebound ingest pop3` reads: a JSON file (REBOUND_POP3_ACCOUNTS or --accounts), validated
// once with every problem named. For servers without IMAP.
//
//   [{ "name": "old-bounces", "host": "pop.example.com", "user": "bounces@example.com",
//      "passwordFile": "/run/secrets/pop3", "after": "delete" }]
import { readFileSync } from "node:fs";
import { z } from "zod";
import { parseSettingsFile, secretOf } from "../settings-file.js";

/** What becomes of a message once its bytes are committed: deleted on the server, or left there. */
export const POP3_AFTER = ["delete", "keep"] as const;
export type Pop3After = (typeof POP3_AFTER)[number];

/** No control characters (a user or password goes on a command line). */
const text = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[^\u0000-\u001f\u007f]+$/, "no control characters");

const account = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "letters, digits, `_`, `.` and `-`, 1 to 64"),
    host: z.string().min(1).max(255),
    port: z.number().int().min(1).max(65535).optional(),
    /** TLS from the start (port 995); false: plain, upgraded with STLS where the server offers it. */
    secure: z.boolean().default(true),
    /** With `secure: false`: `auto` upgrades with STLS where offered; `required` refuses to log in without it. */
    stls: z.enum(["auto", "required"]).default("auto"),
    user: text,
    password: text.optional(),
    /** A file holding the password (a secret mounted by the orchestrator), read at start. */
    passwordFile: z.string().min(1).optional(),
    /** `delete` (default): deleted on the server once committed; `keep`: left there, never taken twice. */
    after: z.enum(POP3_AFTER).default("delete"),
    /** Refuse a server certificate that does not verify (default true; false for a test server only). */
    verifyTls: z.boolean().default(true),
  })
  .strict()
  .refine((a) => !!a.password !== !!a.passwordFile, "give exactly one of password and passwordFile");

export type Pop3Account = z.infer<typeof account> & { port: number; password: string };

export class Pop3AccountsError extends Error {}

/** Parse the accounts file's JSON text; `readSecret` reads a passwordFile (the caller's I/O). */
export function parsePop3Accounts(json: string, readSecret: (path: string) => string): Pop3Account[] {
  const list = parseSettingsFile(
    json,
    z.array(account).min(1),
    "the POP3 accounts file",
    (m) => new Pop3AccountsError(m),
  );
  const names = new Set<string>();
  return list.map((a) => {
    if (names.has(a.name)) throw new Pop3AccountsError(`the POP3 accounts file names "${a.name}" twice`);
    names.add(a.name);
    const password = a.password ?? secretOf(readSecret(a.passwordFile!));
    if (!text.safeParse(password).success)
      throw new Pop3AccountsError(`${a.name}: the password file holds no password (or a control character)`);
    return { ...a, port: a.port ?? (a.secure ? 995 : 110), password };
  });
}

export function loadPop3Accounts(path: string): Pop3Account[] {
  return parsePop3Accounts(readFileSync(path, "utf8"), (p) => readFileSync(p, "utf8"));
}
