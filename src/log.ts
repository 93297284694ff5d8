// The pino root logger. Children per role and per mail carry their ids; no mail content is ever logged.
// On a terminal the lines are pretty-printed (pino-pretty, in-process); elsewhere (a container, a file, a pipe)
// one JSON object a line, for a log collector. REBOUND_LOG_FORMAT forces either.
import { pino, type Logger } from "pino";
import { PinoPretty } from "pino-pretty";

export type { Logger };

export type LogFormat = "auto" | "pretty" | "json";

export function createLogger(
  level: string,
  destination?: pino.DestinationStream,
  format: LogFormat = "json",
): Logger {
  const options = { level, base: { service: "rebound" } };
  if (destination) return pino(options, destination);
  const pretty = format === "pretty" || (format === "auto" && process.stderr.isTTY === true);
  if (!pretty) return pino(options, pino.destination(2));
  return pino(
    options,
    PinoPretty({
      destination: 2,
      sync: true,
      colorize: process.stderr.isTTY === true,
      translateTime: "SYS:HH:MM:ss.l",
      ignore: "pid,hostname,service",
      singleLine: true,
    }),
  );
}
