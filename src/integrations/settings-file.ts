// What the integrations' JSON settings files share (IMAP and POP3 accounts, ESP endpoints): the text parsed and
// validated once, every problem named with its path, and secrets read from files of their own.
import type { z } from "zod";

/**
 * The file's JSON text validated by `schema`; `what` names the file in errors ("the IMAP accounts file"), thrown
 * as `error(message)`.
 */
export function parseSettingsFile<S extends z.ZodType>(
  text: string,
  schema: S,
  what: string,
  error: (message: string) => Error,
): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw error(`${what} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw error(
      `${what} is invalid:\n  ` +
        parsed.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`).join("\n  "),
    );
  return parsed.data;
}

/** A secret file's text without its final line break. */
export const secretOf = (text: string): string => text.replace(/\r?\n$/, "");
