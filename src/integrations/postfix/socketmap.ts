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
  type Governing,
  type Paused,
  type SocketmapMap,
} from "./answer.js";
import type { PauseCheck, SuppressionCheck } from "./check.js";
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
  const server = createServer((socket) => serve(socket, deps));
  return listen(server, host, port);
}

function serve(socket: Socket, deps: LookupServerDeps): void {
  const reader = new NetstringReader(MAX_REQUEST);
  const replies = new ReplyQueue(socket);
  socket.setNoDelay(true);
  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk: Buffer) => {
    let requests: string[];
    try {
      requests = reader.push(chunk);
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
    for (const text of requests) replies.add(answer(text, deps), netstring);
    replies.flush();
  });
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
      this.out += frame(reply);
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
