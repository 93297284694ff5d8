// A socketmap server (Postfix socketmap_table(5)): netstring requests "NAME KEY" on a kept-open connection,
// netstring replies "OK ...", "NOTFOUND " or "TEMP ...". What the names mean: answer.ts.
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import type { Logger } from "../../log.js";
import type { LookupOutcome, LookupServer } from "../../metrics.js";
import {
  isAddressKey,
  parseSocketmapRequest,
  socketmapPausedReply,
  socketmapReply,
  SOCKETMAP_MAPS,
  type Governing,
  type Paused,
  type SocketmapMap,
} from "./answer.js";
import { SLOW, type PauseCheck, type SuppressionCheck } from "./check.js";
import { netstring, NetstringError, NetstringReader } from "./netstring.js";

/** A request holds a map name and an address (at most 320 octets): anything longer is not Postfix talking. */
const MAX_REQUEST = 4096;

export interface LookupServerDeps {
  check: SuppressionCheck;
  /** Pauses of streams: a paused stream's mail is deferred (4xx). Absent: no pauses. */
  paused?: PauseCheck;
  /** The tenant whose suppressions are asked about (a socketmap request names none). */
  tenant: string;
  defaultStream: string;
  logger: Logger;
  onLookup?: (server: LookupServer, outcome: LookupOutcome) => void;
}

export interface ListeningServer {
  port: number;
  close(): Promise<void>;
}

export async function startSocketmapServer(
  deps: LookupServerDeps,
  host: string,
  port: number,
): Promise<ListeningServer> {
  const names = new Names();
  // Half-open: a client may send its request and shut its side (Exim's readsocket does) before a reply that waits
  // on the database is written; the reply still goes out, then the connection ends (ReplyQueue.endAfterReplies).
  const server = createServer({ allowHalfOpen: true }, (socket) => serve(socket, deps, names));
  return listen(server, host, port);
}

function serve(socket: Socket, deps: LookupServerDeps, names: Names): void {
  const reader = new NetstringReader(MAX_REQUEST);
  const replies = new ReplyQueue(socket);
  // Each request read where it lies in the chunk (one function per connection, none per request).
  const each = (buf: Buffer, start: number, end: number) =>
    replies.add(answerBytes(buf, start, end, deps, names), framed);
  socket.setNoDelay(true);
  socket.on("error", () => socket.destroy());
  socket.on("end", () => replies.endAfterReplies());
  socket.on("data", (chunk: Buffer) => {
    try {
      reader.read(chunk, each);
    } catch (err) {
      if (err instanceof NetstringError) {
        deps.logger.warn(
          { err: err.message, remote: socket.remoteAddress },
          "socketmap: bad request, closing",
        );
        socket.destroy();
        return;
      }
      throw err;
    }
    replies.flush();
  });
}

/** The framed reply to most lookups, made once. */
const NOTFOUND = netstring("NOTFOUND ");
const framed = (reply: string) => (reply === "NOTFOUND " ? NOTFOUND : netstring(reply));

const MAP_NAMES = SOCKETMAP_MAPS.map((m) => ({ map: m, bytes: Buffer.from(m, "latin1") }));

/** Whether buf holds `word` at `at` (its length checked by the caller; a loop, not a call into C++). */
function same(word: Buffer, buf: Buffer, at: number): boolean {
  for (let i = 0; i < word.length; i++) if (buf[at + i] !== word[i]) return false;
  return true;
}

/** Stream names as requests spell them, made into strings once (a few per deployment). */
class Names {
  private readonly bytes: Buffer[] = [];
  private readonly names: string[] = [];

  /** buf[from, to) as a string, when it is printable ASCII of 1-200 bytes; undefined otherwise. */
  of(buf: Buffer, from: number, to: number): string | undefined {
    const n = to - from;
    if (n < 1 || n > 200) return undefined;
    for (let i = from; i < to; i++) if (buf[i]! < 0x21 || buf[i]! > 0x7e) return undefined;
    for (let k = 0; k < this.bytes.length; k++) {
      const b = this.bytes[k]!;
      if (b.length === n && same(b, buf, from)) return this.names[k];
    }
    const name = buf.toString("latin1", from, to);
    if (this.bytes.length < 64) {
      this.bytes.push(Buffer.from(name, "latin1"));
      this.names.push(name);
    }
    return name;
  }
}

/**
 * A request read in its bytes: `suppressed KEY`, `transport/STREAM KEY`... answered from memory with no string of
 * it; what this cannot answer so (another map name, a key that is not plain ASCII, memory not current, pauses in
 * force) is answered by answer() from its text, as before.
 */
function answerBytes(
  buf: Buffer,
  start: number,
  end: number,
  deps: LookupServerDeps,
  names: Names,
): string | Promise<string> {
  const check = deps.check.bytes;
  if (!check) return answer(buf.toString("utf8", start, end), deps);
  let sp = start;
  let slash = -1;
  while (sp < end && buf[sp] !== 0x20) {
    if (buf[sp] === 0x2f /* / */ && slash < 0) slash = sp;
    sp++;
  }
  const nameEnd = slash < 0 ? sp : slash;
  let map: SocketmapMap | undefined;
  for (const m of MAP_NAMES) if (m.bytes.length === nameEnd - start && same(m.bytes, buf, start)) map = m.map;
  const stream = slash < 0 ? deps.defaultStream : names.of(buf, slash + 1, sp);
  if (sp === start || sp === end || map === undefined || stream === undefined)
    return answer(buf.toString("utf8", start, end), deps);
  // isAddressKey: something before and after the last @.
  let at = end - 1;
  while (at > sp && buf[at] !== 0x40 /* @ */) at--;
  if (!(at > sp + 1 && at < end - 1)) return "NOTFOUND ";
  let found: ReturnType<typeof check>;
  try {
    found = check(deps.tenant, buf, sp + 1, end, stream);
  } catch (err) {
    return failed(deps, err);
  }
  if (found === SLOW || (!found && deps.paused && !deps.paused.none?.(deps.tenant)))
    return answer(buf.toString("utf8", start, end), deps);
  return done(deps, map, found, undefined);
}

/**
 * Replies in the order of the requests, though some may wait on the database: those answered at once (from
 * memory) go out together in one write per chunk read, unless an earlier one still waits.
 */
export class ReplyQueue {
  private out = "";
  private waiting = 0;
  private chain: Promise<void> = Promise.resolve();
  constructor(private readonly socket: Socket) {}

  add(reply: string | Promise<string>, frame: (s: string) => string): void {
    if (typeof reply === "string" && this.waiting === 0) {
      // One reply per read is the rule (a connection has one request in flight): no concatenation then.
      const framed = frame(reply);
      this.out = this.out === "" ? framed : this.out + framed;
      return;
    }
    this.flush();
    this.waiting++;
    this.chain = this.chain.then(async () => {
      let r: string;
      try {
        r = await reply;
      } catch {
        // The answers catch their errors; should one escape, the client must not wait forever for its reply.
        this.socket.destroy();
        return;
      }
      this.waiting--;
      if (!this.socket.destroyed) this.socket.write(frame(r));
    });
  }

  /** Writes the replies made at once so far. */
  flush(): void {
    if (this.out && !this.socket.destroyed) this.socket.write(this.out);
    this.out = "";
  }

  /** The client has shut its side (no more requests): the replies still owed are written, then ours is shut. */
  endAfterReplies(): void {
    this.flush();
    this.chain = this.chain.then(() => {
      if (!this.socket.destroyed) this.socket.end();
    });
  }
}

function answer(text: string, deps: LookupServerDeps): string | Promise<string> {
  const parsed = parseSocketmapRequest(text);
  if (!parsed.ok) return `PERM ${parsed.error}`;
  const { map, stream, key } = parsed.value;
  if (!isAddressKey(key)) return "NOTFOUND ";
  const s = stream ?? deps.defaultStream;
  // No closure on the common path (answered from memory at once): a lookup makes as little garbage as it can.
  let found: ReturnType<LookupServerDeps["check"]>;
  try {
    found = deps.check(deps.tenant, key, s);
  } catch (err) {
    return failed(deps, err);
  }
  return found instanceof Promise
    ? found.then((f) => finish(deps, map, key, s, f)).catch((err: unknown) => failed(deps, err))
    : finish(deps, map, key, s, found);
}

function finish(
  deps: LookupServerDeps,
  map: SocketmapMap,
  key: string,
  stream: string,
  found: Governing | undefined,
): string | Promise<string> {
  // A suppression is final (5xx); a pause only makes the mail wait (4xx).
  const paused = found ? undefined : deps.paused?.(deps.tenant, key, stream);
  return paused instanceof Promise
    ? paused.then(
        (p) => done(deps, map, found, p),
        (err: unknown) => failed(deps, err),
      )
    : done(deps, map, found, paused);
}

function done(
  deps: LookupServerDeps,
  map: SocketmapMap,
  found: Governing | undefined,
  p: Paused | undefined,
): string {
  deps.onLookup?.("socketmap", found ? "suppressed" : p ? "paused" : "not_suppressed");
  return p ? socketmapPausedReply(map, p) : socketmapReply(map, found);
}

function failed(deps: LookupServerDeps, err: unknown): string {
  deps.onLookup?.("socketmap", "error");
  deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, "socketmap: lookup failed");
  return "TEMP the suppression database does not answer";
}

export async function listen(server: Server, host: string, port: number): Promise<ListeningServer> {
  const sockets = new Set<Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        // Postfix keeps lookup connections open: close them, or the server never closes.
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
