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
    createServer((socket) => serve(socket, deps)),
    host,
    port,
  );
}

function serve(socket: Socket, deps: PolicyServerDeps): void {
  let partial = "";
  let attrs: PolicyAttributes = {};
  let count = 0;
  const replies = new ReplyQueue(socket);
  socket.setEncoding("utf8");
  socket.setNoDelay(true);
  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk: string) => {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf("\n", start);
      if (nl < 0) break;
      // The line is text[from, to): read where it lies in the chunk (no string of it), unless it began in an
      // earlier one. Postfix sends some 25 attributes a request; only the three a decision reads are kept.
      let text = chunk;
      let from = start;
      let to = nl;
      if (partial) {
        text = partial + chunk.slice(start, nl);
        from = 0;
        to = text.length;
        partial = "";
      }
      start = nl + 1;
      // A trailing CR dropped (no regex per line: this runs for every attribute of every lookup).
      if (to > from && text.charCodeAt(to - 1) === 13) to--;
      if (to === from) {
        const request = attrs;
        attrs = {};
        count = 0;
        replies.add(decide(request, deps), asIs);
        continue;
      }
      const eq = text.indexOf("=", from);
      if (eq <= from || eq >= to || ++count > MAX_ATTRIBUTES) {
        replies.flush();
        return refuse(socket, deps, "not a policy request");
      }
      const name = eq - from;
      if (name === 9 && text.startsWith("recipient", from)) attrs.recipient = text.slice(eq + 1, to);
      else if (name === 6 && text.startsWith("sender", from)) attrs.sender = text.slice(eq + 1, to);
      else if (name === 7 && text.startsWith("request", from)) attrs.request = text.slice(eq + 1, to);
    }
    replies.flush();
    partial += chunk.slice(start);
    if (partial.length > MAX_LINE) refuse(socket, deps, "line too long");
  });
}

function refuse(socket: Socket, deps: PolicyServerDeps, why: string): void {
  deps.logger.warn({ remote: socket.remoteAddress, why }, "policy: bad request, closing");
  socket.destroy();
}

function decide(attrs: PolicyAttributes, deps: PolicyServerDeps): string | Promise<string> {
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
