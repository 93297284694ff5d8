// The pino root logger. Children per role and per mail carry their ids; no mail content is ever logged.
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { service: "rebound" } }, destination ?? pino.destination(2));
}
