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

/** `<a@b>` -> `a@b` (Postfix writes `<>` for the null sender). */
const unangle = (v: string) => (v.startsWith("<") && v.endsWith(">") ? v.slice(1, -1) : v);

interface OpenMail {
  from?: string;
  messageId?: string;
  /** Recipients deferred so far, with their last deferral: what `status=expired` returns (made at the first). */
  deferred?: Map<string, PostfixDelivery>;
}

const SP = 0x20;
const COLON = 0x3a;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isIdChar = (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const digits2 = (line: string, i: number) => (line.charCodeAt(i) - 0x30) * 10 + line.charCodeAt(i + 1) - 0x30;

/**
 * The value of the last `key=value` part of `text` between `start` and `end`, parts separated by `, ` (what
 * fields() would map `key` to), as its bounds; -1 when there is none. `key` includes its `=`.
 */
function fieldAt(text: string, start: number, end: number, key: string): number {
  const i = text.lastIndexOf(`, ${key}`, end - key.length - 2);
  if (i >= start) return i + 2 + key.length;
  return text.startsWith(key, start) && start + key.length <= end ? start + key.length : -1;
}

/** Where the value that starts at `from` ends: at the next `, ` before `end`, or at `end`. */
function valueEnd(text: string, from: number, end: number): number {
  const c = text.indexOf(", ", from);
  return c < 0 || c > end ? end : c;
}

/** fieldAt's value as a string (undefined when absent). */
function field(text: string, start: number, end: number, key: string): string | undefined {
  const v = fieldAt(text, start, end, key);
  return v < 0 ? undefined : text.slice(v, valueEnd(text, v, end));
}

/** Where a syslog timestamp's time has its digits (`Dec  7 04:38:46`). */
const HMS_DIGITS = [7, 8, 10, 11, 13, 14];

/** What most lines give: no record (one array for all of them). */
const NONE: readonly PostfixDelivery[] = Object.freeze([]);

/** Programs seen, kept as one string each (records share them): a log has a handful. */
const MAX_PROGRAMS = 64;

/**
 * Reads Postfix lines in order and yields the delivery records, each with its mail's sender and Message-ID.
 * Holds the mails still in the queue (bounded: the oldest are dropped past `maxOpen`); `state()` and the
 * constructor's `restore` carry them over a restart.
 *
 * Most lines are traditional syslog lines: those are read in place (offsets into the line, no intermediate
 * strings), the start of their day taken from the line before. Any other line goes through splitLine; both ways
 * give the same records.
 */
export class PostfixLogReader {
  private open = new Map<string, OpenMail>();
  /** The day of the last syslog line read (its first 7 characters), the `now` it was read with, its start
   * this year and the year before. */
  private day = "";
  private dayNow = NaN;
  private dayMs = 0;
  private dayBeforeMs = 0;
  private programs: string[] = [];

  constructor(
    private readonly maxOpen = 100_000,
    restore?: PostfixReaderState,
  ) {
    for (const [id, m] of restore?.open ?? []) this.open.set(id, { from: m.from, messageId: m.messageId });
  }

  /** The records one line completes (none for most lines). */
  push(line: string, now: Date): readonly PostfixDelivery[] {
    if (line.length > MAX_LINE) return NONE;
    const ms = this.syslogTime(line, now);
    if (ms === undefined) {
      const l = splitLine(line, now);
      return l ? this.message(l.message, 0, l.program, l.at.getTime()) : NONE;
    }
    // "Dec  7 04:38:46 host prog[pid]: msg": splitLine's steps, by offsets.
    const hostEnd = line.indexOf(" ", 16);
    if (hostEnd < 0) return NONE;
    const tagStart = hostEnd + 1;
    const tagEnd = line.indexOf(": ", tagStart);
    if (tagEnd < 0) return NONE;
    const bracket = line.indexOf("[", tagStart);
    const nameEnd = bracket < 0 || bracket > tagEnd ? tagEnd : bracket;
    if (!line.startsWith("postfix", tagStart) || tagStart + 7 > nameEnd) return NONE;
    const slash = line.lastIndexOf("/", nameEnd - 1);
    if (slash < tagStart || slash + 1 === nameEnd) return NONE;
    return this.message(line, tagEnd + 2, this.program(line, slash + 1, nameEnd), ms);
  }

  /**
   * The time of a traditional syslog line whose day and time are plain digits (splitLine's other lines:
   * undefined). The day's start is kept from the line before when it has the same day: syslogDate's value is
   * that of Date.UTC, which adds the time of day to the day's start.
   */
  private syslogTime(line: string, now: Date): number | undefined {
    if (line.length <= 15) return undefined;
    for (const i of HMS_DIGITS) if (!isDigit(line.charCodeAt(i))) return undefined;
    if (line.charCodeAt(9) !== COLON || line.charCodeAt(12) !== COLON) return undefined;
    const nowMs = now.getTime();
    if (nowMs !== this.dayNow || !line.startsWith(this.day)) {
      if (line.charCodeAt(3) !== SP || line.charCodeAt(6) !== SP) return undefined;
      const month = MONTHS.indexOf(line.slice(0, 3));
      if (month < 0) return undefined;
      const d0 = line.charCodeAt(4);
      if (!isDigit(line.charCodeAt(5)) || !(d0 === SP || isDigit(d0))) return undefined;
      const day = d0 === SP ? line.charCodeAt(5) - 0x30 : digits2(line, 4);
      if (day < 1 || day > 31) return undefined;
      const y = now.getUTCFullYear();
      this.day = line.slice(0, 7);
      this.dayNow = nowMs;
      this.dayMs = Date.UTC(y, month, day);
      this.dayBeforeMs = Date.UTC(y - 1, month, day);
    }
    const t = digits2(line, 7) * 3_600_000 + digits2(line, 10) * 60_000 + digits2(line, 13) * 1000;
    // syslogDate: this year, unless that is more than a day ahead of `now`
    return this.dayMs + t > nowMs + 86_400_000 ? this.dayBeforeMs + t : this.dayMs + t;
  }

  /** The program name at text[start, end), as the string kept for it. */
  private program(text: string, start: number, end: number): string {
    const n = end - start;
    for (const p of this.programs) if (p.length === n && text.startsWith(p, start)) return p;
    const p = text.slice(start, end);
    if (this.programs.length < MAX_PROGRAMS) this.programs.push(p);
    return p;
  }

  /** A Postfix line's message: text from `start` to its end, logged by `program` at `ms`. */
  private message(text: string, start: number, program: string, ms: number): readonly PostfixDelivery[] {
    // "ID: rest": a queue id is short (hex, 6+) or long (`enable_long_queue_ids`: base 52 with a `z`-less
    // alphabet); here 5 to 20 characters of [0-9A-Za-z], not NOQUEUE.
    const colon = text.indexOf(": ", start);
    if (colon - start < 5 || colon - start > 20) return NONE;
    for (let i = start; i < colon; i++) if (!isIdChar(text.charCodeAt(i))) return NONE;
    const r = colon + 2;
    const end = text.length;
    if (colon - start === 7 && text.startsWith("NOQUEUE", start)) return NONE;
    if (end - r === 7 && text.startsWith("removed", r)) {
      this.open.delete(text.slice(start, colon));
      return NONE;
    }
    if (program === "qmgr" || program === "pickup") {
      if (text.startsWith("from=", r)) {
        const mail = this.mail(text.slice(start, colon));
        mail.from = unangle(field(text, r, end, "from=") ?? "");
        if (field(text, r, end, "status=") === "expired") {
          if (!mail.deferred) return NONE;
          const at = new Date(ms);
          const out = [...mail.deferred.values()].map((d) => ({
            ...d,
            at,
            status: "expired" as const,
            again: false,
          }));
          mail.deferred.clear();
          return out;
        }
      }
      return NONE;
    }
    if (program === "cleanup" && text.startsWith("message-id=", r)) {
      this.mail(text.slice(start, colon)).messageId = unangle(text.slice(r + "message-id=".length).trim());
      return NONE;
    }
    if (!text.startsWith("to=", r)) return NONE;
    const s = text.indexOf(", status=", r);
    if (s < 0) return NONE;
    const a = s + ", status=".length;
    const sp = text.indexOf(" ", a);
    const status = (sp < 0 ? text.slice(a) : text.slice(a, sp)) as PostfixStatus;
    if (!(POSTFIX_STATUSES as readonly string[]).includes(status)) return NONE;
    let reply: string;
    if (sp < 0) reply = "";
    else if (text.charCodeAt(sp + 1) === 0x28 && text.charCodeAt(end - 1) === 0x29 && end - sp > 2)
      reply = text.slice(sp + 2, end - 1); // "(...)": nothing for trim() to take
    else {
      reply = text.slice(sp + 1).trim();
      if (reply.startsWith("(") && reply.endsWith(")")) reply = reply.slice(1, -1);
    }
    const queueId = text.slice(start, colon);
    const mail = this.mail(queueId);
    // The fields before `, status=`, parts split at `, ` (a key repeated: its last part counts)
    let to = "";
    let origTo: string | undefined;
    let relay: string | undefined;
    let dsn: string | undefined;
    for (let p = r; ;) {
      const c = text.indexOf(", ", p);
      const e = c < 0 || c > s ? s : c;
      const k = text.charCodeAt(p);
      if (k === 0x74 /* t */ && text.startsWith("to=", p)) to = text.slice(p + 3, e);
      else if (k === 0x72 /* r */ && text.startsWith("relay=", p)) relay = text.slice(p + 6, e);
      else if (k === 0x64 /* d */ && text.startsWith("dsn=", p)) dsn = text.slice(p + 4, e);
      else if (k === 0x6f /* o */ && text.startsWith("orig_to=", p)) origTo = text.slice(p + 8, e);
      if (e === s) break;
      p = e + 2;
    }
    to = unangle(to);
    const d: PostfixDelivery = {
      queueId,
      at: new Date(ms),
      from: mail.from,
      messageId: mail.messageId,
      to,
      origTo: origTo === undefined ? undefined : unangle(origTo),
      relay,
      dsn,
      status,
      reply,
      program,
      again: status === "deferred" && !!mail.deferred?.has(to),
    };
    if (!to) return NONE;
    if (status === "deferred") (mail.deferred ??= new Map()).set(to, d);
    else mail.deferred?.delete(to);
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
      this.open.set(id, (m = { from: undefined, messageId: undefined }));
    }
    return m;
  }
}

export interface PostfixReaderState {
  open: [string, { from?: string; messageId?: string }][];
}
