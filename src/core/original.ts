// The returned original's identifiers, so a sender can tie a report to its own send.
import type { Headers } from "./mail.js";
import type { OriginalMessage } from "./report.js";

const MAX_HEADERS = 200;
const MAX_VALUE = 2000;
/** What every header name kept below starts with: the original's other fields' names need not be made. */
const KEPT_PREFIXES: readonly string[] = ["x-", "list-", "feedback-id"];

/** Message-ID, From, To, Subject, Date, Return-Path and every X-*, List-* and Feedback-ID header of the original. */
export function readOriginal(h: Headers | undefined): OriginalMessage {
  const original: OriginalMessage = { headers: {} };
  if (!h) return original;
  const pick = (name: string): string | undefined => {
    const v = h.get(name)?.trim();
    return v ? v.slice(0, MAX_VALUE) : undefined;
  };
  const messageId = pick("message-id");
  if (messageId) original.messageId = messageId;
  const from = pick("from");
  if (from) original.from = from;
  const to = pick("to");
  if (to) original.to = to;
  const subject = pick("subject");
  if (subject) original.subject = subject;
  const date = pick("date");
  if (date) original.date = date;
  const returnPath = pick("return-path");
  if (returnPath) original.returnPath = returnPath;
  let n = 0;
  const keep = (name: string): boolean =>
    name.startsWith("x-") || name.startsWith("list-") || name === "feedback-id";
  const picked =
    "entriesWhere" in h
      ? (
          h as Headers & { entriesWhere(k: typeof keep, prefixes: readonly string[]): [string, string][] }
        ).entriesWhere(keep, KEPT_PREFIXES)
      : h.entries().filter(([name]) => keep(name));
  const seen = new Set<string>();
  for (const [name, value] of picked) {
    if (n >= MAX_HEADERS) break;
    if (seen.has(name)) continue;
    seen.add(name);
    original.headers[name] = value.slice(0, MAX_VALUE);
    n++;
  }
  return original;
}
