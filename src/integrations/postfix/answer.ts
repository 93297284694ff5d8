// What Rebound answers Postfix (and Exim) at send time: pure functions from a request and the suppression in
// force to the reply's text. The servers (socketmap.ts, policy.ts) do the I/O.
//
//   socketmap (socketmap_table(5)): the request is "NAME KEY"; NAME chooses what the answer is for:
//     suppressed            an access(5) result for check_recipient_access: "REJECT 5.7.1 ..." or not found
//     suppressed/STREAM     the same in STREAM (suppressed/* : a suppression in any stream counts)
//     transport             a transport(5) result for transport_maps: "error:5.7.1 ..." or not found, so
//     transport/STREAM      that mail submitted locally (sendmail, pickup) is refused too
//   policy delegation (SMTPD_POLICY_README): "action=REJECT 5.7.1 ..." or "action=DUNNO"
//
// Without a stream in the map's name, the stream is the default stream, as for a bounce that names none.

/** The suppression in force that decided, as much of it as an answer names. */
export interface Governing {
  stream: string;
  reason: string;
  class: string;
  since: Date;
  until: Date | null;
}

export const SOCKETMAP_MAPS = ["suppressed", "transport"] as const;
export type SocketmapMap = (typeof SOCKETMAP_MAPS)[number];

export interface SocketmapRequest {
  map: SocketmapMap;
  /** The stream asked about; `*`: any; undefined: the default stream. */
  stream: string | undefined;
  key: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** "suppressed/marketing jane@example.org" -> its parts. */
export function parseSocketmapRequest(text: string): Parsed<SocketmapRequest> {
  const sp = text.indexOf(" ");
  if (sp <= 0) return { ok: false, error: "the request is not 'name key'" };
  const name = text.slice(0, sp);
  const key = text.slice(sp + 1);
  const slash = name.indexOf("/");
  const map = slash < 0 ? name : name.slice(0, slash);
  const stream = slash < 0 ? undefined : name.slice(slash + 1);
  if (!(SOCKETMAP_MAPS as readonly string[]).includes(map))
    return { ok: false, error: `no map named "${map}" (maps: ${SOCKETMAP_MAPS.join(", ")})` };
  if (stream !== undefined && !isPrintable(stream, 200)) return { ok: false, error: "bad stream name" };
  return { ok: true, value: { map: map as SocketmapMap, stream, key } };
}

/**
 * Whether a lookup key is an address to answer for. Postfix also asks for the domain, parent domains and
 * `user@` (access(5), transport(5)): those are never suppressed by themselves.
 */
export function isAddressKey(key: string): boolean {
  const at = key.lastIndexOf("@");
  return at > 0 && at < key.length - 1;
}

/** The human part of a refusal: what, why and since when. */
export function refusalText(g: Governing): string {
  const day = g.since.toISOString().slice(0, 10);
  const scope = g.stream === "*" ? "every stream" : `stream ${clean(g.stream)}`;
  const until = g.until ? `, until ${g.until.toISOString().slice(0, 16)}Z` : "";
  return `suppressed by Rebound in ${scope}: ${g.reason} (${g.class}) since ${day}${until}`;
}

/** The socketmap reply (without netstring framing) for a lookup's outcome. */
export function socketmapReply(map: SocketmapMap, found: Governing | undefined): string {
  if (!found) return "NOTFOUND ";
  return map === "suppressed"
    ? `OK REJECT 5.7.1 ${refusalText(found)}`
    : `OK error:5.7.1 ${refusalText(found)}`;
}

/** A stream paused (issue 12 §5): the mail waits in the sender's queue (a 4xx) until it is resumed. */
export interface Paused {
  stream: string;
  provider: string | null;
  since: Date;
  reason: string;
}

export function pausedText(p: Paused): string {
  const whom = p.provider === null ? "" : ` for ${clean(p.provider)}`;
  return `stream ${clean(p.stream)} paused by Rebound${whom} since ${p.since.toISOString().slice(0, 16)}Z: ${words(p.reason)}`;
}

/** The socketmap reply that defers: `450 4.7.1` for access(5), the retry transport for transport(5). */
export function socketmapPausedReply(map: SocketmapMap, p: Paused): string {
  return map === "suppressed" ? `OK 450 4.7.1 ${pausedText(p)}` : `OK retry:4.7.1 ${pausedText(p)}`;
}

export function policyPausedReply(p: Paused): string {
  return `action=450 4.7.1 ${pausedText(p)}\n\n`;
}

/**
 * What a decision reads of a policy delegation request's attributes (`name=value` lines up to an empty line;
 * the others are not kept).
 */
export interface PolicyAttributes {
  request?: string;
  sender?: string;
  recipient?: string;
}

/** The reply to a policy delegation request, newline-terminated and followed by the empty line. */
export function policyReply(found: Governing | undefined): string {
  return found ? `action=REJECT 5.7.1 ${refusalText(found)}\n\n` : "action=DUNNO\n\n";
}

/**
 * The stream of a sender from the configured map: the whole address first, then its domain and each parent
 * domain (`news@mail.example.com`, `mail.example.com`, `example.com`). Undefined when nothing matches.
 */
export function streamOfSender(sender: string, map: ReadonlyMap<string, string>): string | undefined {
  if (map.size === 0 || !sender) return undefined;
  const s = sender.toLowerCase();
  const exact = map.get(s);
  if (exact !== undefined) return exact;
  let domain = s.slice(s.lastIndexOf("@") + 1);
  while (domain) {
    const hit = map.get(domain);
    if (hit !== undefined) return hit;
    const dot = domain.indexOf(".");
    if (dot < 0) break;
    domain = domain.slice(dot + 1);
  }
  return undefined;
}

function isPrintable(s: string, max: number): boolean {
  if (s.length === 0 || s.length > max) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c === 0x7f) return false;
  }
  return true;
}

/** Text from the database put in an SMTP reply: printable ASCII only. */
function clean(s: string): string {
  let out = "";
  for (let i = 0; i < s.length && out.length < 200; i++) {
    const c = s.charCodeAt(i);
    out += c >= 0x21 && c < 0x7f ? s[i] : "?";
  }
  return out;
}

/** Free text from the database put in an SMTP reply: printable ASCII and spaces, at most 200 characters. */
function words(s: string): string {
  let out = "";
  for (let i = 0; i < s.length && out.length < 200; i++) {
    const c = s.charCodeAt(i);
    out += c >= 0x20 && c < 0x7f ? s[i] : c === 9 || c === 10 || c === 13 ? " " : "?";
  }
  return out.trim();
}
