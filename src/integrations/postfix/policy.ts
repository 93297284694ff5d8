// A Postfix policy delegation server (SMTPD_POLICY_README): `name=value` lines up to an empty line, answered
// with `action=...` and an empty line, several requests per connection. It refuses a recipient that is
// suppressed in the stream of the mail: the stream (and tenant) of a signed return path when the sender is
// one that verifies for this recipient, else the configured map of senders to streams, else the default.
import { createServer, type Socket } from "node:net";
import { normalizeAddress } from "../../core/address.js";
import { decodeVerp, type VerpKey } from "../../core/verp.js";
import {
  policyPausedReply,
  policyReply,
  streamOfSender,
  type Governing,
  type Paused,
  type PolicyAttributes,
} from "./answer.js";
import { SLOW } from "./check.js";
import { listen, ReplyQueue, type ListeningServer, type LookupServerDeps } from "./socketmap.js";

/** Postfix's own attributes are short; a line or a request beyond these is not Postfix talking. */
const MAX_LINE = 8192;
const MAX_ATTRIBUTES = 200;

export interface PolicyServerDeps extends LookupServerDeps {
  verpKeys: readonly VerpKey[];
  /** Lower-cased sender address or domain -> stream. */
  senderStreams: ReadonlyMap<string, string>;
  defaultTenant: string;
}

export async function startPolicyServer(
  deps: PolicyServerDeps,
  host: string,
  port: number,
): Promise<ListeningServer> {
  return listen(
    // Half-open, as the socketmap server: a client that shuts its side still gets the replies it is owed.
    createServer({ allowHalfOpen: true }, (socket) => serve(socket, deps)),
    host,
    port,
  );
}

/** An attribute's value: bytes buf[from, to) (buf undefined: not sent). */
interface Value {
  buf: Buffer | undefined;
  from: number;
  to: number;
}

const REQUEST = Buffer.from("request");
const SENDER = Buffer.from("sender");
const RECIPIENT = Buffer.from("recipient");
const SMTPD_ACCESS_POLICY = Buffer.from("smtpd_access_policy");

function serve(socket: Socket, deps: PolicyServerDeps): void {
  // Postfix sends some 25 attributes a request; only the three a decision reads are kept, as where their bytes
  // lie in the chunk read (no string of a line, a name or a value): a value is copied only when its request goes
  // on in the next chunk.
  let partial: Buffer | undefined;
  const request: Value = { buf: undefined, from: 0, to: 0 };
  const sender: Value = { buf: undefined, from: 0, to: 0 };
  const recipient: Value = { buf: undefined, from: 0, to: 0 };
  let count = 0;
  const replies = new ReplyQueue(socket);
  socket.setNoDelay(true);
  socket.on("error", () => socket.destroy());
  socket.on("end", () => replies.endAfterReplies());
  socket.on("data", (chunk: Buffer) => {
    let start = 0;
    for (;;) {
      // Scanned here (Buffer.indexOf is a call into C++ per line: dearer than the loop for Postfix's short lines).
      let nl = start;
      while (nl < chunk.length && chunk[nl] !== 10) nl++;
      if (nl === chunk.length) break;
      // The line is buf[from, to): where it lies in the chunk, unless it began in an earlier one.
      let buf = chunk;
      let from = start;
      let to = nl;
      if (partial) {
        buf = Buffer.concat([partial, chunk.subarray(start, nl)]);
        from = 0;
        to = buf.length;
        partial = undefined;
      }
      start = nl + 1;
      // A trailing CR dropped (no regex per line: this runs for every attribute of every lookup).
      if (to > from && buf[to - 1] === 13) to--;
      if (to === from) {
        count = 0;
        replies.add(decide(request, sender, recipient, deps), asIs);
        request.buf = sender.buf = recipient.buf = undefined;
        continue;
      }
      let eq = from;
      while (eq < to && buf[eq] !== 0x3d /* = */) eq++;
      if (eq === from || eq === to || ++count > MAX_ATTRIBUTES) {
        replies.flush();
        return refuse(socket, deps, "not a policy request");
      }
      const name = eq - from;
      const v =
        name === 9 && same(RECIPIENT, buf, from)
          ? recipient
          : name === 6 && same(SENDER, buf, from)
            ? sender
            : name === 7 && same(REQUEST, buf, from)
              ? request
              : undefined;
      if (v) {
        v.buf = buf;
        v.from = eq + 1;
        v.to = to;
      }
    }
    replies.flush();
    // A request that goes on in the next chunk: the values read so far copied out of this one.
    detach(request, chunk);
    detach(sender, chunk);
    detach(recipient, chunk);
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      partial = partial ? Buffer.concat([partial, rest]) : Buffer.from(rest);
      if (partial.length > MAX_LINE) refuse(socket, deps, "line too long");
    }
  });
}

/** Whether buf holds `word` at `at` (its length checked by the caller). */
function same(word: Buffer, buf: Buffer, at: number): boolean {
  for (let i = 0; i < word.length; i++) if (buf[at + i] !== word[i]) return false;
  return true;
}

/** A value read from `chunk` copied out of it (its request goes on in the next chunk). */
function detach(v: Value, chunk: Buffer): void {
  if (v.buf !== chunk) return;
  v.buf = Buffer.from(chunk.subarray(v.from, v.to));
  v.to -= v.from;
  v.from = 0;
}

/**
 * Whether decodeVerp could take the sender for a signed return path: its local part starts with `r=` or `h=`
 * (src/core/verp.ts), read on the bytes. Anything decodeVerp would trim or unwrap first (a space, a control or
 * non-ASCII byte, `<`) counts as could.
 */
function maybeVerp(sender: Value): boolean {
  const b = sender.buf;
  if (!b || sender.to === sender.from) return false;
  const c0 = b[sender.from]!;
  if (c0 <= 0x20 || c0 >= 0x7f || c0 === 0x3c /* < */) return true;
  return (c0 | 0x20) !== 0x72 /* r */ && (c0 | 0x20) !== 0x68 /* h */
    ? false
    : sender.to - sender.from > 1 && b[sender.from + 1] === 0x3d; /* = */
}

const text = (v: Value) => (v.buf ? v.buf.toString("utf8", v.from, v.to) : undefined);

function refuse(socket: Socket, deps: PolicyServerDeps, why: string): void {
  deps.logger.warn({ remote: socket.remoteAddress, why }, "policy: bad request, closing");
  socket.destroy();
}

function decide(
  request: Value,
  sender: Value,
  recipient: Value,
  deps: PolicyServerDeps,
): string | Promise<string> {
  if (
    !request.buf ||
    request.to - request.from !== SMTPD_ACCESS_POLICY.length ||
    !same(SMTPD_ACCESS_POLICY, request.buf, request.from) ||
    !recipient.buf ||
    recipient.to === recipient.from
  )
    return policyReply(undefined);
  // A sender that is surely not a signed return path: the stream from the sender map (the sender's text read
  // only when there is one), the recipient's bytes asked where they lie. What this cannot answer (see
  // SuppressionCheck.bytes; pauses in force) goes by the text.
  const bytes = deps.check.bytes;
  if (bytes && (deps.verpKeys.length === 0 || !maybeVerp(sender))) {
    const stream =
      deps.senderStreams.size === 0
        ? deps.defaultStream
        : (streamOfSender(text(sender) ?? "", deps.senderStreams) ?? deps.defaultStream);
    let found: ReturnType<typeof bytes>;
    try {
      found = bytes(deps.tenant, recipient.buf, recipient.from, recipient.to, stream);
    } catch (err) {
      return failed(deps, err);
    }
    if (found !== SLOW && (found || !deps.paused || deps.paused.none?.(deps.tenant)))
      return done(deps, found, undefined);
  }
  return decideText(
    { request: "smtpd_access_policy", sender: text(sender), recipient: text(recipient) },
    deps,
  );
}

function decideText(attrs: PolicyAttributes, deps: PolicyServerDeps): string | Promise<string> {
  const recipient = attrs.recipient ?? "";
  if (attrs.request !== "smtpd_access_policy" || !recipient) return policyReply(undefined);
  const { tenant, stream } = streamOf(attrs.sender ?? "", recipient, deps);
  // No closure on the common path (answered from memory at once): a lookup makes as little garbage as it can.
  let found: ReturnType<PolicyServerDeps["check"]>;
  try {
    found = deps.check(tenant, recipient, stream);
  } catch (err) {
    return failed(deps, err);
  }
  return found instanceof Promise
    ? found.then((f) => finish(deps, tenant, recipient, stream, f)).catch((err: unknown) => failed(deps, err))
    : finish(deps, tenant, recipient, stream, found);
}

function finish(
  deps: PolicyServerDeps,
  tenant: string,
  recipient: string,
  stream: string,
  found: Governing | undefined,
): string | Promise<string> {
  // A suppression is final (5xx); a pause only makes the mail wait (4xx).
  const paused = found ? undefined : deps.paused?.(tenant, recipient, stream);
  return paused instanceof Promise
    ? paused.then(
        (p) => done(deps, found, p),
        (err: unknown) => failed(deps, err),
      )
    : done(deps, found, paused);
}

function done(deps: PolicyServerDeps, found: Governing | undefined, p: Paused | undefined): string {
  deps.onLookup?.("policy", found ? "suppressed" : p ? "paused" : "not_suppressed");
  return p ? policyPausedReply(p) : policyReply(found);
}

function failed(deps: PolicyServerDeps, err: unknown): string {
  deps.onLookup?.("policy", "error");
  deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, "policy: lookup failed");
  // The mail waits (4xx) rather than going to an address that may be suppressed.
  return "action=DEFER_IF_PERMIT 4.3.0 the suppression database does not answer\n\n";
}

const asIs = (s: string) => s;

function streamOf(
  sender: string,
  recipient: string,
  deps: PolicyServerDeps,
): { tenant: string; stream: string } {
  if (sender && deps.verpKeys.length > 0) {
    const v = decodeVerp(sender, deps.verpKeys, { candidates: [recipient] });
    const r = normalizeAddress(recipient, { caseSensitiveLocalPart: true });
    if (v.ok && r.ok && v.recipient.toLowerCase() === r.address.toLowerCase())
      return { tenant: v.tenant ?? deps.defaultTenant, stream: v.stream };
  }
  return { tenant: deps.tenant, stream: streamOfSender(sender, deps.senderStreams) ?? deps.defaultStream };
}
