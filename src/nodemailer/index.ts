// `rebound/nodemailer`: a Nodemailer plugin. Before each mail is sent it asks Rebound about the recipients (one
// batch lookup; concurrent mails share it) and refuses the mail, or drops the suppressed recipients, and it sets
// the envelope's MAIL FROM to the signed return path (VERP) of the mail's recipient, signed here with the key
// when one is given (src/core/verp.ts, the format the MX verifies), else minted by the API (POST /v1/verp).
//
//   const transporter = useRebound(nodemailer.createTransport(smtp), { client, stream: "transactional" });
//   const info = await transporter.sendMail({ from, to, subject, text });   // info.rebound says what it did
import { randomUUID } from "node:crypto";
import addressparser from "nodemailer/lib/addressparser";
import type { LookupResult, ReboundClient } from "../client/index.js";
import { encodeVerp, type VerpKey } from "../core/verp.js";

export const SUPPRESSED_ACTIONS = ["refuse", "drop"] as const;
/** refuse: a mail with a suppressed recipient is not sent (ReboundSuppressedError); drop: they are removed. */
export type SuppressedAction = (typeof SUPPRESSED_ACTIONS)[number];

/** The fields of a Nodemailer message the plugin reads and changes (its `mail.data`). */
export interface MailData {
  from?: unknown;
  messageId?: unknown;
  to?: unknown;
  cc?: unknown;
  bcc?: unknown;
  envelope?: { from?: unknown; to?: unknown; cc?: unknown; bcc?: unknown };
}

export interface ReboundNodemailerOptions {
  client: ReboundClient;
  /** The sender's stream (`transactional`, `marketing`): the lookups' and the return path's. A function picks
   * it per message. */
  stream: string | ((mail: MailData) => string);
  /** What to do with suppressed recipients (default `refuse`). */
  suppressed?: SuppressedAction;
  /** Sign return paths here (no request per mail): the VERP keys (`REBOUND_VERP_KEYS`' `id:secret,...` or a
   * list; the first signs), the bounce domain and the tenant (absent: the default tenant). Without it, each
   * mail's return path is minted by POST /v1/verp for the client's key's tenant. */
  verp?: { keys: string | readonly VerpKey[]; domain: string; tenant?: string };
  /** The bounce domain asked of POST /v1/verp (default: the MX's first). */
  verpDomain?: string;
  /** A signed return path names one recipient: a mail to several gets this plain return path instead (one of
   * the MX's plain local parts, `bounces@bounces.example.com`); absent, such a mail is refused
   * (ReboundReturnPathError). Send one mail per recipient to have every bounce signed. */
  fallbackReturnPath?: string;
  /** (`useRebound` only) A mail to several recipients goes out as one SMTP transaction per recipient, each with
   * its own signed return path: the same message (headers, Message-ID) to each. Takes precedence over
   * `fallbackReturnPath`. */
  split?: boolean;
}

export interface SuppressedRecipient {
  address: string;
  reason: string | undefined;
  class: string | undefined;
  /** The stream of the suppression that applies (`*`: every stream). */
  stream: string | undefined;
  expiresAt: string | null | undefined;
}

/** What the plugin did to one mail: `info.rebound` of `sendMail`'s answer. */
export interface ReboundReport {
  /** The mail's return path (null when it was not sent, or split: see returnPaths). */
  returnPath: string | null;
  /** Split mails: each recipient's return path. */
  returnPaths?: Record<string, string>;
  stream: string;
  /** Recipients removed because suppressed (`drop`). */
  dropped: SuppressedRecipient[];
  /** true when every recipient was suppressed: nothing was sent. */
  skipped: boolean;
}

/** A mail refused because recipients are suppressed (`suppressed: "refuse"`); names them and why. */
export class ReboundSuppressedError extends Error {
  override readonly name = "ReboundSuppressedError";
  readonly code = "ESUPPRESSED";
  constructor(readonly suppressed: SuppressedRecipient[]) {
    super(
      `not sent: suppressed recipient${suppressed.length > 1 ? "s" : ""} ${suppressed
        .map((s) => `${s.address} (${s.reason ?? "suppressed"}${s.stream ? ` in ${s.stream}` : ""})`)
        .join(", ")}`,
    );
  }
}

/** A mail whose return path cannot be signed (several recipients without `fallbackReturnPath`). */
export class ReboundReturnPathError extends Error {
  override readonly name = "ReboundReturnPathError";
  readonly code = "ERETURNPATH";
}

const REPORT = "reboundReport";
/** Set by useRebound on a split mail's copies: their recipients were looked up already. */
const SCREENED = "reboundScreened";

interface Addr {
  name: string;
  address: string;
}

/** Every mailbox of an address field as Nodemailer takes it (a string, an object, a list of either). */
function mailboxes(field: unknown): Addr[] {
  if (field === undefined || field === null || field === false) return [];
  if (Array.isArray(field)) return field.flatMap(mailboxes);
  if (typeof field === "object" && typeof (field as Addr).address === "string")
    return [{ name: String((field as Addr).name ?? ""), address: (field as Addr).address }];
  return addressparser(String(field), { flatten: true }).filter((a) => a.address);
}

function parseKeys(keys: string | readonly VerpKey[]): VerpKey[] {
  if (typeof keys !== "string") return [...keys];
  return keys
    .split(",")
    .map((k) => k.trim())
    .filter(Boolean)
    .map((k) => {
      const i = k.indexOf(":");
      if (i <= 0) throw new TypeError('verp.keys: each key is "id:secret"');
      return { id: k.slice(0, i), secret: k.slice(i + 1) };
    });
}

/** The recipients of a mail: the envelope's when the message sets one, else to, cc and bcc. */
function recipientsOf(data: MailData) {
  const fields = (["to", "cc", "bcc"] as const).filter((f) => data.envelope?.[f] !== undefined);
  const holder = (data.envelope?.to !== undefined ? data.envelope : data) as Record<string, unknown>;
  const keys = data.envelope?.to !== undefined ? fields : (["to", "cc", "bcc"] as const);
  const lists = Object.fromEntries(keys.map((k) => [k, mailboxes(holder[k])])) as Record<string, Addr[]>;
  const addresses = [...new Set(Object.values(lists).flatMap((l) => l.map((a) => a.address)))];
  return { holder, keys, lists, addresses };
}

/**
 * Looks the mail's recipients up (one batch with the other mails of the tick); refuses the mail or drops the
 * suppressed from it, as configured. The recipients left; undefined when the mail has none at all. Throws
 * ReboundSuppressedError (with `report.skipped` when `drop` left nobody).
 */
async function screenMail(
  client: ReboundClient,
  action: SuppressedAction,
  data: MailData,
  stream: string,
  report: Partial<ReboundReport>,
): Promise<string[] | undefined> {
  const { holder, keys, lists, addresses } = recipientsOf(data);
  if (!addresses.length) return undefined;
  const results = await Promise.all(addresses.map((a) => client.lookup(a, { stream })));
  const suppressed = new Map<string, SuppressedRecipient>();
  results.forEach((r: LookupResult, i) => {
    if (r.suppressed)
      suppressed.set(addresses[i]!, {
        address: addresses[i]!,
        reason: r.reason,
        class: r.class,
        stream: r.stream,
        expiresAt: r.expiresAt,
      });
  });
  if (suppressed.size && action === "refuse") throw new ReboundSuppressedError([...suppressed.values()]);
  report.dropped = [...suppressed.values()];
  if (suppressed.size) for (const k of keys) holder[k] = lists[k]!.filter((a) => !suppressed.has(a.address));
  const remaining = addresses.filter((a) => !suppressed.has(a));
  if (!remaining.length) {
    report.skipped = true;
    throw new ReboundSuppressedError(report.dropped);
  }
  return remaining;
}

/** The compile-step plugin itself (`transporter.use("compile", reboundPlugin(options))`); `useRebound` adds the
 * report to `info` and answers for a mail whose recipients were all dropped. */
export function reboundPlugin(options: ReboundNodemailerOptions) {
  const action = options.suppressed ?? "refuse";
  if (!SUPPRESSED_ACTIONS.includes(action))
    throw new TypeError(`suppressed: "refuse" or "drop", not "${action}"`);
  const local = options.verp ? { ...options.verp, keys: parseKeys(options.verp.keys) } : undefined;
  if (local && !local.keys.length) throw new TypeError("verp.keys: no key");
  const streamOf = (data: MailData) =>
    typeof options.stream === "function" ? options.stream(data) : options.stream;
  const screen = (data: MailData, stream: string, report: Partial<ReboundReport>) =>
    screenMail(options.client, action, data, stream, report);

  async function returnPathFor(recipient: string, stream: string): Promise<string> {
    if (local)
      return encodeVerp({ recipient, stream, tenant: local.tenant ?? null }, local.keys, local.domain, {
        issuedAt: new Date(),
      });
    const minted = await options.client.verpEncode({
      recipient,
      stream,
      ...(options.verpDomain ? { domain: options.verpDomain } : {}),
    });
    return minted.returnPath;
  }

  async function compile(data: MailData): Promise<void> {
    const stream = streamOf(data);
    const report = ((data as Record<string, unknown>)[REPORT] ?? {}) as Partial<ReboundReport>;
    // A mail screened by useRebound (split) keeps the recipients dropped then.
    Object.assign(report, { stream, returnPath: null, dropped: report.dropped ?? [], skipped: false });
    const remaining = (data as Record<string, unknown>)[SCREENED]
      ? recipientsOf(data).addresses
      : await screen(data, stream, report);
    // No recipient at all: Nodemailer says so itself (EENVELOPE).
    if (remaining === undefined) return;
    let returnPath: string;
    if (remaining.length === 1) returnPath = await returnPathFor(remaining[0]!, stream);
    else if (options.fallbackReturnPath) returnPath = options.fallbackReturnPath;
    else
      throw new ReboundReturnPathError(
        `a signed return path names one recipient, this mail has ${remaining.length}: send one mail per recipient, ` +
          "or set split or fallbackReturnPath",
      );
    report.returnPath = returnPath;
    data.envelope = { from: returnPath, to: remaining };
  }

  return (mail: { data: MailData }, callback: (err?: Error | null) => void): void => {
    compile(mail.data).then(
      () => callback(),
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
    );
  };
}

/** What `useRebound` needs of a Nodemailer transporter. */
export interface TransporterLike {
  use(
    step: "compile",
    plugin: (mail: { data: MailData }, callback: (err?: Error | null) => void) => void,
  ): unknown;
  sendMail(data: object): Promise<unknown>;
}

/** What the SMTP transport answers, plus the plugin's report. */
export type WithReport<I> = I & { rebound: ReboundReport };

/** What a transporter's `sendMail` answers (overloaded: the callback form or the promise form, either order). */
export type SentInfo<T> = T extends {
  sendMail(data: never, callback: (err: Error | null, info: infer I) => void): void;
}
  ? I
  : T extends { sendMail(data: never): Promise<infer I> }
    ? I
    : unknown;

/** The transporter after `useRebound`: its `sendMail` (promise form) answers with the report. */
export type ReboundTransporter<T extends TransporterLike> = Omit<T, "sendMail"> & {
  sendMail(data: Parameters<T["sendMail"]>[0]): Promise<WithReport<SentInfo<T>>>;
};

/** The answer for a mail none of whose recipients was sent to. */
function notSent(report: ReboundReport) {
  return {
    accepted: [],
    rejected: report.dropped.map((d) => d.address),
    pending: [],
    envelope: { from: false, to: [] },
    messageId: undefined,
    response: "not sent: every recipient is suppressed",
    rebound: report,
  };
}

interface SmtpInfo {
  accepted?: unknown[];
  rejected?: unknown[];
  pending?: unknown[];
  response?: string;
}

/**
 * Installs the plugin on a transporter and wraps its `sendMail` (promise form) so that the answer carries
 * `info.rebound` (the return path, the recipients dropped), so that a mail whose recipients were all dropped
 * resolves as not sent (`info.rebound.skipped`, `info.accepted` empty) instead of failing, and (`split`) so that
 * a mail to several recipients goes out once per recipient, each copy with its own signed return path.
 */
export function useRebound<T extends TransporterLike>(
  transporter: T,
  options: ReboundNodemailerOptions,
): ReboundTransporter<T> {
  transporter.use("compile", reboundPlugin(options));
  const send = transporter.sendMail.bind(transporter);
  const action = options.suppressed ?? "refuse";

  async function sendOne(data: object, report = {} as ReboundReport) {
    try {
      const info = (await send({ ...data, [REPORT]: report })) as object;
      return Object.assign(info, { rebound: report });
    } catch (err) {
      if (!(err instanceof ReboundSuppressedError && report.skipped)) throw err;
      return notSent(report);
    }
  }

  async function sendSplit(data: MailData) {
    const stream = typeof options.stream === "function" ? options.stream(data) : options.stream;
    const mail: MailData = { ...data, envelope: data.envelope ? { ...data.envelope } : undefined };
    if (!mail.envelope) delete mail.envelope;
    const report: ReboundReport = { returnPath: null, stream, dropped: [], skipped: false };
    let remaining: string[] | undefined;
    try {
      remaining = await screenMail(options.client, action, mail, stream, report);
    } catch (err) {
      if (err instanceof ReboundSuppressedError && report.skipped) return notSent(report);
      throw err;
    }
    if (!remaining || remaining.length < 2) return sendOne({ ...mail, [SCREENED]: true }, report);
    // One message, one Message-ID, to each recipient in its own transaction.
    const domain = mailboxes(mail.from)[0]?.address.split("@").pop() || "localhost";
    const messageId = typeof mail.messageId === "string" ? mail.messageId : `<${randomUUID()}@${domain}>`;
    const copies = await Promise.allSettled(
      remaining.map((to) => sendOne({ ...mail, messageId, envelope: { to: [to] }, [SCREENED]: true })),
    );
    const sent = copies.flatMap((c) =>
      c.status === "fulfilled" ? [c.value as SmtpInfo & { rebound: ReboundReport }] : [],
    );
    const failed = copies.flatMap((c, i) =>
      c.status === "rejected" ? [{ to: remaining[i]!, err: c.reason as unknown }] : [],
    );
    if (!sent.length) throw failed[0]!.err;
    report.returnPaths = Object.fromEntries(
      copies.flatMap((c, i) =>
        c.status === "fulfilled" && c.value.rebound.returnPath
          ? [[remaining[i]!, c.value.rebound.returnPath]]
          : [],
      ),
    );
    return {
      accepted: sent.flatMap((i) => i.accepted ?? []),
      rejected: [...sent.flatMap((i) => i.rejected ?? []), ...failed.map((f) => f.to)],
      rejectedErrors: failed.map((f) => f.err),
      pending: sent.flatMap((i) => i.pending ?? []),
      envelope: { from: false, to: remaining },
      messageId,
      response: sent.map((i) => i.response).join("; "),
      rebound: report,
    };
  }

  transporter.sendMail = (async (data: object) =>
    options.split ? sendSplit(data as MailData) : sendOne(data)) as T["sendMail"];
  return transporter as unknown as ReboundTransporter<T>;
}
