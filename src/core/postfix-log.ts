// Postfix's log, read as what happened to each recipient of each mail it sent. Pure: lines in, records out;
// the caller passes the time (traditional syslog lines carry no year) and feeds the lines in order.
//
//   Dec  7 04:38:46 relay postfix/qmgr[11608]: 9D41320EF77: from=<app@shop.example>, size=341, nrcpt=1 (queue active)
//   Dec  7 04:38:46 relay postfix/smtp[11613]: 9D41320EF77: to=<fine@example.org>, relay=mx.example.org[192.0.2.1]:25,
//       delay=0.14, delays=0.02/0.01/0.11/0.01, dsn=2.0.0, status=sent (250 OK: queued as 4Xyz)
//   Dec  7 04:38:47 relay postfix/qmgr[11608]: 9D41320EF77: removed
//
// Line formats: traditional syslog (`Mmm dd hh:mm:ss host prog[pid]: `), RFC 3339 timestamps (rsyslog's
// high-precision format, `journalctl -o short-iso`), Postfix's own maillog_file, and journald's JSON export
// (`journalctl -o json`: MESSAGE, SYSLOG_IDENTIFIER, __REALTIME_TIMESTAMP). Lines of other programs are
// ignored; a mail's lines are brought together by its queue id (the sender from qmgr, the Message-ID from
// cleanup, then one record per recipient and outcome).

export const POSTFIX_STATUSES = ["sent", "deferred", "bounced", "expired"] as const;
export type PostfixStatus = (typeof POSTFIX_STATUSES)[number];

/** What happened to one recipient of one mail. */
export interface PostfixDelivery {
  queueId: string;
  at: Date;
  /** The envelope sender; empty for Postfix's own notifications (bounces, delay warnings). */
  from: string | undefined;
  messageId: string | undefined;
  to: string;
  /** orig_to=, where an alias or a virtual map rewrote the recipient. */
  origTo: string | undefined;
  /** `host[ip]:port` or `none`. */
  relay: string | undefined;
  dsn: string | undefined;
  status: PostfixStatus;
  /** The text in parentheses after the status: the remote server's reply, or Postfix's own words. */
  reply: string;
  /** The Postfix program that logged it (smtp, lmtp, local, virtual, error, ...). */
  program: string;
  /** A deferral of a recipient this reader saw deferred before (Postfix retries for days). */
  again: boolean;
}

/** One log line's parts, when it is a Postfix line. */
export interface PostfixLine {
  at: Date;
  host: string;
  /** The program after `postfix/` (or `postfix-INSTANCE/`): smtp, qmgr, cleanup, ... */
  program: string;
  message: string;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/** A line longer than this is not Postfix's (its lines are bounded by line_length_limit-ish texts). */
export const MAX_LINE = 16_384;

/** Split a log line. `now`: the reading time, for the year of a traditional syslog line. */
export function splitLine(line: string, now: Date): PostfixLine | undefined {
  if (line.length > MAX_LINE) return undefined;
  if (line.startsWith("{")) return splitJournalJson(line);
  let at: Date | undefined;
  let rest: string;
  if (line.length > 15 && line[3] === " " && MONTHS.includes(line.slice(0, 3))) {
    // "Dec  7 04:38:46 host prog[pid]: msg" (day space-padded or zero-padded)
    const month = MONTHS.indexOf(line.slice(0, 3));
    const day = Number(line.slice(4, 6).trim());
    const hms = line.slice(7, 15);
    if (!/^\d\d:\d\d:\d\d$/.test(hms) || !(day >= 1 && day <= 31)) return undefined;
    at = syslogDate(month, day, hms, now);
    rest = line.slice(16);
  } else if (/^\d{4}-\d\d-\d\dT/.test(line)) {
    const sp = line.indexOf(" ");
    if (sp < 0) return undefined;
    at = new Date(line.slice(0, sp));
    if (Number.isNaN(at.getTime())) return undefined;
    rest = line.slice(sp + 1);
  } else return undefined;
  const sp = rest.indexOf(" ");
  if (sp < 0) return undefined;
  const host = rest.slice(0, sp);
  const tagEnd = rest.indexOf(": ", sp + 1);
  if (tagEnd < 0) return undefined;
  const program = postfixProgram(rest.slice(sp + 1, tagEnd));
  if (!program) return undefined;
  return { at, host, program, message: rest.slice(tagEnd + 2) };
}

/** `postfix/smtp[123]` or `postfix-out/smtp` -> `smtp`; anything else -> undefined. */
function postfixProgram(tag: string): string | undefined {
  const bracket = tag.indexOf("[");
  const name = bracket < 0 ? tag : tag.slice(0, bracket);
  const slash = name.lastIndexOf("/");
  if (slash < 0 || !name.startsWith("postfix")) return undefined;
  return name.slice(slash + 1);
}

function splitJournalJson(line: string): PostfixLine | undefined {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const ident = typeof o.SYSLOG_IDENTIFIER === "string" ? o.SYSLOG_IDENTIFIER : "";
  const program = postfixProgram(ident);
  const message = o.MESSAGE;
  if (!program || typeof message !== "string") return undefined;
  const micros = Number(o.__REALTIME_TIMESTAMP);
  if (!Number.isFinite(micros)) return undefined;
  return {
    at: new Date(micros / 1000),
    host: typeof o._HOSTNAME === "string" ? o._HOSTNAME : "",
    program,
    message,
  };
}

/** A syslog date without a year: this year, unless that is more than a day ahead of `now` (December's lines read in January). */
function syslogDate(month: number, day: number, hms: string, now: Date): Date {
  const [h, m, s] = hms.split(":").map(Number) as [number, number, number];
  const y = now.getUTCFullYear();
  const d = new Date(Date.UTC(y, month, day, h, m, s));
  return d.getTime() > now.getTime() + 86_400_000 ? new Date(Date.UTC(y - 1, month, day, h, m, s)) : d;
}

/** Queue ids: short (hex, 6+) or long (`enable_long_queue_ids`: base 52 with a `z`-less alphabet). */
function queueIdOf(message: string): { id: string; rest: string } | undefined {
  const colon = message.indexOf(": ");
  if (colon < 5 || colon > 20) return undefined;
  const id = message.slice(0, colon);
  if (!/^[0-9A-Za-z]+$/.test(id) || id === "NOQUEUE") return undefined;
  return { id, rest: message.slice(colon + 2) };
}

/** `<a@b>` -> `a@b` (Postfix writes `<>` for the null sender). */
const unangle = (v: string) => (v.startsWith("<") && v.endsWith(">") ? v.slice(1, -1) : v);

/** The `key=value, key=value` fields before `status=` (values hold no `, ` in these lines, addresses aside). */
function fields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(", ")) {
    const eq = part.indexOf("=");
    if (eq > 0) out.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return out;
}

interface OpenMail {
  from?: string;
  messageId?: string;
  /** Recipients deferred so far, with their last deferral: what `status=expired` returns. */
  deferred: Map<string, PostfixDelivery>;
}

/**
 * Reads Postfix lines in order and yields the delivery records, each with its mail's sender and Message-ID.
 * Holds the mails still in the queue (bounded: the oldest are dropped past `maxOpen`); `state()` and the
 * constructor's `restore` carry them over a restart.
 */
export class PostfixLogReader {
  private open = new Map<string, OpenMail>();

  constructor(
    private readonly maxOpen = 100_000,
    restore?: PostfixReaderState,
  ) {
    for (const [id, m] of restore?.open ?? [])
      this.open.set(id, { from: m.from, messageId: m.messageId, deferred: new Map() });
  }

  /** The records one line completes (none for most lines). */
  push(line: string, now: Date): PostfixDelivery[] {
    const l = splitLine(line, now);
    if (!l) return [];
    const q = queueIdOf(l.message);
    if (!q) return [];
    const rest = q.rest;
    if (rest === "removed") {
      this.open.delete(q.id);
      return [];
    }
    if (l.program === "qmgr" || l.program === "pickup") {
      if (rest.startsWith("from=")) {
        const f = fields(rest);
        const mail = this.mail(q.id);
        mail.from = unangle(f.get("from") ?? "");
        if (f.get("status") === "expired") {
          const out = [...mail.deferred.values()].map((d) => ({
            ...d,
            at: l.at,
            status: "expired" as const,
            again: false,
          }));
          mail.deferred.clear();
          return out;
        }
      }
      return [];
    }
    if (l.program === "cleanup" && rest.startsWith("message-id=")) {
      this.mail(q.id).messageId = unangle(rest.slice("message-id=".length).trim());
      return [];
    }
    if (!rest.startsWith("to=")) return [];
    const s = rest.indexOf(", status=");
    if (s < 0) return [];
    const f = fields(rest.slice(0, s));
    const after = rest.slice(s + ", status=".length);
    const sp = after.indexOf(" ");
    const status = (sp < 0 ? after : after.slice(0, sp)) as PostfixStatus;
    if (!(POSTFIX_STATUSES as readonly string[]).includes(status)) return [];
    let reply = sp < 0 ? "" : after.slice(sp + 1).trim();
    if (reply.startsWith("(") && reply.endsWith(")")) reply = reply.slice(1, -1);
    const mail = this.mail(q.id);
    const d: PostfixDelivery = {
      queueId: q.id,
      at: l.at,
      from: mail.from,
      messageId: mail.messageId,
      to: unangle(f.get("to") ?? ""),
      origTo: f.has("orig_to") ? unangle(f.get("orig_to")!) : undefined,
      relay: f.get("relay"),
      dsn: f.get("dsn"),
      status,
      reply,
      program: l.program,
      again: status === "deferred" && mail.deferred.has(unangle(f.get("to") ?? "")),
    };
    if (!d.to) return [];
    if (status === "deferred") mail.deferred.set(d.to, d);
    else mail.deferred.delete(d.to);
    return [d];
  }

  /** What a restart needs: the mails still open (their sender and Message-ID), oldest first. */
  state(): PostfixReaderState {
    return { open: [...this.open].map(([id, m]) => [id, { from: m.from, messageId: m.messageId }]) };
  }

  private mail(id: string): OpenMail {
    let m = this.open.get(id);
    if (!m) {
      if (this.open.size >= this.maxOpen) this.open.delete(this.open.keys().next().value!);
      this.open.set(id, (m = { deferred: new Map() }));
    }
    return m;
  }
}

export interface PostfixReaderState {
  open: [string, { from?: string; messageId?: string }][];
}
