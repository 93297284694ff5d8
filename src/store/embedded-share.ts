// The embedded database (PGlite) is one process's: a second process opening its folder would corrupt it. So the
// process that holds it (`rebound start`) lends it over a Unix socket in the data folder, and the CLI's commands
// (`keys`, `suppressions`, `reprocess`, `migrate`...) borrow it while the server runs instead of failing.
//
// The protocol is the part of pg.Pool that kysely uses: a borrower opens one socket per pooled connection,
// `acquire` takes the owner's one connection (queued behind the owner's own transactions, so a borrower's
// transaction is as isolated as the owner's), `query` runs on it, `release` gives it back. A socket that closes
// while it holds the connection rolls back whatever it left open. Frames: a 4-byte length, then the message in
// V8's serialization (Dates, bytes and bigints keep their types, as they come out of PGlite in the owner).
// The socket file is 0600 in the data folder: who may open the database's files may borrow it, nobody else.
import { chmodSync, unlinkSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { deserialize, serialize } from "node:v8";
import type pg from "pg";

type Message =
  | { op: "acquire" }
  | { op: "query"; text: string; params: unknown[] }
  | { op: "release" }
  | { ok: true; result?: unknown }
  | { ok: false; error: Record<string, unknown> & { message: string } };

interface PoolClient {
  query(text: string, params?: unknown[]): Promise<unknown>;
  release(): void;
}

/** The socket's path in a data folder. */
export function shareSocketPath(dataDir: string): string {
  return join(dataDir, "rebound.sock");
}

// A Unix socket path holds at most 107 bytes on Linux (103 on macOS).
const MAX_SOCKET_PATH = 100;

function frame(msg: Message): Buffer {
  const body = serialize(msg);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

/** Calls `onMessage` with each whole frame received on the socket. */
function readFrames(socket: net.Socket, onMessage: (msg: Message) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= 4) {
      const len = buf.readUInt32BE(0);
      if (buf.length < 4 + len) break;
      const body = buf.subarray(4, 4 + len);
      buf = buf.subarray(4 + len);
      onMessage(deserialize(body) as Message);
    }
  });
}

function errorPayload(err: unknown): Record<string, unknown> & { message: string } {
  if (!(err instanceof Error)) return { message: String(err) };
  const out: Record<string, unknown> & { message: string } = { message: err.message, name: err.name };
  for (const [k, v] of Object.entries(err))
    if (v === null || ["string", "number", "boolean"].includes(typeof v)) out[k] = v;
  return out;
}

export interface ShareServer {
  path: string;
  close(): Promise<void>;
}

/**
 * Lend the owner's pool over a Unix socket at `path`. Undefined when the path is too long for a socket (the
 * CLI then finds the database locked, as before).
 */
export async function shareEmbeddedDb(pool: pg.Pool, path: string): Promise<ShareServer | undefined> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) return undefined;
  try {
    unlinkSync(path); // left by a process that died: the caller holds the data folder's lock now
  } catch {
    // none
  }
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let client: PoolClient | undefined;
    let acquiring: Promise<PoolClient> | undefined;
    let closed = false;
    // Messages are handled one after another, in order, whatever each waits for.
    let chain: Promise<void> = Promise.resolve();
    const reply = (msg: Message) => {
      if (!closed) socket.write(frame(msg));
    };
    readFrames(socket, (msg) => {
      chain = chain.then(async () => {
        try {
          if ("op" in msg && msg.op === "acquire") {
            acquiring = pool.connect() as unknown as Promise<PoolClient>;
            client = await acquiring;
            reply({ ok: true });
          } else if ("op" in msg && msg.op === "query") {
            if (!client) throw new Error("query before acquire");
            reply({ ok: true, result: await client.query(msg.text, msg.params) });
          } else if ("op" in msg && msg.op === "release") {
            client?.release();
            client = undefined;
            reply({ ok: true });
          } else throw new Error("unknown message");
        } catch (err) {
          reply({ ok: false, error: errorPayload(err) });
        }
      });
    });
    const drop = () => {
      closed = true;
      sockets.delete(socket);
      // A borrower gone while holding the connection (killed mid-transaction): roll back what it left open.
      void chain.then(async () => {
        const c = client ?? (acquiring ? await acquiring.catch(() => undefined) : undefined);
        if (!c || !client) return;
        client = undefined;
        await c.query("rollback").catch(() => undefined);
        c.release();
      });
    };
    socket.on("close", drop);
    socket.on("error", () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** One borrowed connection: a socket of its own. */
class RemoteClient {
  private pending: { resolve(v: unknown): void; reject(e: Error): void }[] = [];
  private failure: Error | undefined;

  constructor(private readonly socket: net.Socket) {
    readFrames(socket, (msg) => {
      const p = this.pending.shift();
      if (!p) return;
      if ("ok" in msg && msg.ok) p.resolve(msg.result);
      else if ("ok" in msg) p.reject(Object.assign(new Error(msg.error.message), msg.error));
    });
    const fail = (err: Error) => {
      this.failure = err;
      for (const p of this.pending.splice(0)) p.reject(err);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("the running `rebound start` closed the shared database")));
  }

  send(msg: Message): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.write(frame(msg));
    });
  }

  query(text: string, params: unknown[] = []): Promise<unknown> {
    return this.send({ op: "query", text, params });
  }

  release(): void {
    void this.send({ op: "release" })
      .catch(() => undefined)
      .finally(() => this.socket.end());
  }
}

function connectSocket(path: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/**
 * The part of pg.Pool kysely uses, over the socket of a running owner; undefined when no owner listens there
 * (no socket, or a socket left by a process that died).
 */
export async function borrowEmbeddedDb(path: string): Promise<pg.Pool | undefined> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) return undefined;
  let probe: net.Socket;
  try {
    probe = await connectSocket(path);
  } catch {
    return undefined;
  }
  probe.destroy();
  return {
    async connect() {
      const client = new RemoteClient(await connectSocket(path));
      await client.send({ op: "acquire" });
      return client;
    },
    async end() {},
  } as unknown as pg.Pool;
}
