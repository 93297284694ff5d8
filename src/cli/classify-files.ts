// The paths `rebound classify` is given, as the files its threads read (classify-mails.ts classifies them), and
// the vocabulary the command and its threads share. Light: the command's own thread loads no part of the
// classifier.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export const FORMATS = ["ndjson", "pretty"] as const;
export type Format = (typeof FORMATS)[number];

/**
 * What the command writes, in input order: results (stdout, as UTF-8 bytes made in the thread that classified
 * them, and transferred) and what it could not read (stderr).
 */
export type Output = { out: Uint8Array } | { err: string };

/** A read error in a few words. */
export function reasonOf(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === "ENOENT") return "no such file or folder";
  if (e?.code === "EACCES") return "permission denied";
  return e instanceof Error ? e.message : String(err);
}

/** Files in a folder that are never mails: the expected results and notes kept beside samples. */
const NOT_MAIL = /\.(json|md)$/i;

/**
 * A file, or every file under a folder (recursively, sorted by name; dot-files and `.json` / `.md` files
 * skipped). A file named on the command line is always read.
 */
export function listFiles(path: string): string[] {
  const st = statSync(path);
  if (!st.isDirectory()) return [path];
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 32) return;
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    // join(dir, name) for every name (which holds no `/` and is not `.` or `..`): the folder normalised once.
    const prefix = join(dir, "x").slice(0, -1);
    for (const e of entries) {
      if (e.name.startsWith(".")) continue;
      const p = prefix + e.name;
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.isFile() && !NOT_MAIL.test(e.name)) out.push(p);
    }
  };
  walk(path, 0);
  return out;
}
