// The pino root logger. Children per role and per mail carry their ids; no mail content is ever logged, and
// what slips into a log line by mistake (a request's headers, a key's token, a webhook's secret, a mail's raw
// bytes) is censored by field name, at the top level and up to two levels down.
import { pino, type Logger } from "pino";

export type { Logger };

/** Field names whose values never reach a log line. */
export const REDACTED_FIELDS = [
  "authorization",
  "cookie",
  "token",
  "secret",
  "password",
  "raw",
  "verpKeys",
  "databaseUrl",
] as const;

export const REDACT_PATHS = REDACTED_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]);

export const CENSORED = "[redacted]";

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    { level, base: { service: "rebound" }, redact: { paths: REDACT_PATHS, censor: CENSORED } },
    destination ?? pino.destination(2),
  );
}
