// The bounce mailboxes `rebound ingest imap` reads: a JSON file (REBOUND_IMAP_ACCOUNTS or --accounts), validated
// once with every problem named.
//
//   [{ "name": "old-bounces", "host": "imap.example.com", "user": "bounces@example.com",
//      "passwordFile": "/run/secrets/imap", "folders": ["INBOX"], "after": "move", "moveTo": "Rebound" }]
import { readFileSync } from "node:fs";
import { z } from "zod";
import { parseSettingsFile, secretOf } from "../settings-file.js";

/** What becomes of a message once its bytes are committed to the spool. */
export const IMAP_AFTER = ["flag", "move", "delete"] as const;
export type ImapAfter = (typeof IMAP_AFTER)[number];

/** The keyword set on a message taken (with `after: flag`), and left out by the next search. */
export const TAKEN_KEYWORD = "$Rebound";

const account = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "letters, digits, `_`, `.` and `-`, 1 to 64"),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).optional(),
    /** TLS from the start (port 993); false: plain, upgraded with STARTTLS where the server offers it. */
    secure: z.boolean().default(true),
    user: z.string().min(1),
    password: z.string().min(1).optional(),
    /** A file holding the password (a secret mounted by the orchestrator), read at start. */
    passwordFile: z.string().min(1).optional(),
    folders: z.array(z.string().min(1)).min(1).default(["INBOX"]),
    after: z.enum(IMAP_AFTER).default("flag"),
    /** The folder messages are moved to (`after: move`); made when missing. */
    moveTo: z.string().min(1).default("Rebound"),
    /** Refuse a server certificate that does not verify (default true; false for a test server only). */
    verifyTls: z.boolean().default(true),
  })
  .strict()
  .refine((a) => !!a.password !== !!a.passwordFile, "give exactly one of password and passwordFile")
  // A folder read and also moved to: each run would take its own moved mail again.
  .refine((a) => a.after !== "move" || !a.folders.includes(a.moveTo), {
    message: "moveTo is one of the folders read: choose a folder that is not read",
    path: ["moveTo"],
  });

const accounts = z.array(account).min(1);

export type ImapAccount = z.infer<typeof account> & { port: number; password: string };

export class AccountsError extends Error {}

/** Parse the accounts file's JSON text; `readSecret` reads a passwordFile (the caller's I/O). */
export function parseImapAccounts(text: string, readSecret: (path: string) => string): ImapAccount[] {
  const list = parseSettingsFile(text, accounts, "the IMAP accounts file", (m) => new AccountsError(m));
  const names = new Set<string>();
  return list.map((a) => {
    if (names.has(a.name)) throw new AccountsError(`the IMAP accounts file names "${a.name}" twice`);
    names.add(a.name);
    return {
      ...a,
      port: a.port ?? (a.secure ? 993 : 143),
      password: a.password ?? secretOf(readSecret(a.passwordFile!)),
    };
  });
}

export function loadImapAccounts(path: string): ImapAccount[] {
  return parseImapAccounts(readFileSync(path, "utf8"), (p) => readFileSync(p, "utf8"));
}
