// A small POP3 client (RFC 1939, CAPA and STLS of RFC 2449 / 2595) over node:net and node:tls: what
// `rebound ingest pop3` needs (USER/PASS, UIDL, LIST, RETR, DELE, QUIT), nothing more.
//
// Line handling is linear and bounded: each chunk is scanned once for its line feeds, a line split across chunks
// is joined once, and a line longer than `maxLineBytes` is dropped as it streams by (the reply it belongs to is
// then marked, never held). One command at a time; a multi-line reply ends at its lone "." line, and lines
// starting with a "." lose that first dot (byte-stuffing).
import { isIP, connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";

export interface Pop3Options {
  host: string;
  port: number;
  /** TLS from the start (POP3S, port 995); false: plain, upgraded with STLS where the server offers it. */
  secure: boolean;
  /**
   * A plain connection (`secure: false`): `auto` (default) upgrades with STLS when CAPA names it; `required`
   * always sends STLS and gives up, before the password is sent, when the server refuses it.
   */
  stls?: "auto" | "required";
  /** Refuse a server certificate that does not verify. */
  verifyTls: boolean;
  user: string;
  password: string;
  /** Idle time before the connection is given up (default 60 s). */
  timeoutMs?: number;
  /** The longest line kept (default 1 MiB); a longer one is dropped and its reply marked. */
  maxLineBytes?: number;
}

export class Pop3Error extends Error {}

type Line = Buffer | { tooLong: number };

const DOT = 0x2e;
const LF = 0x0a;
const CR = 0x0d;
const CRLF = Buffer.from("\r\n");

export class Pop3Client {
  private socket: Socket | TLSSocket;
  private parts: Buffer[] = [];
  private size = 0;
  private dropped = -1;
  private readonly lines: Line[] = [];
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;
  private readonly maxLine: number;
  /** The server takes several commands before answering them (CAPA PIPELINING, RFC 2449). */
  private pipelining = false;

  private constructor(
    socket: Socket | TLSSocket,
    private readonly o: Pop3Options,
  ) {
    this.maxLine = o.maxLineBytes ?? 1 << 20;
    this.socket = socket;
    this.attach(socket);
  }

  /** Connect, read the greeting, upgrade with STLS where offered (plain connections), log in. */
  static async connect(o: Pop3Options): Promise<Pop3Client> {
    const timeout = o.timeoutMs ?? 60_000;
    const socket = await new Promise<Socket | TLSSocket>((resolve, reject) => {
      const s = o.secure
        ? tlsConnect({
            host: o.host,
            port: o.port,
            servername: serverName(o.host),
            rejectUnauthorized: o.verifyTls,
          })
        : netConnect({ host: o.host, port: o.port });
      s.setTimeout(timeout, () => s.destroy(new Pop3Error(`POP3 ${o.host}: no answer for ${timeout} ms`)));
      s.once("error", reject);
      s.once(o.secure ? "secureConnect" : "connect", () => {
        s.off("error", reject);
        resolve(s);
      });
    });
    const c = new Pop3Client(socket, o);
    try {
      await c.reply(); // greeting
      const has = async (cap: string) =>
        (await c.multi("CAPA").catch(() => [] as Line[])).some(
          (l) => Buffer.isBuffer(l) && l.toString("latin1").trim().toUpperCase() === cap,
        );
      if (!o.secure) {
        // a server may leave STLS out of CAPA (or have no CAPA): required, it is tried all the same
        if (o.stls === "required" || (await has("STLS")))
          await c.startTls().catch((err: unknown) => {
            throw o.stls === "required" && err instanceof Pop3Error
              ? new Pop3Error(`${err.message} (STLS is required for this account: no password sent)`)
              : err;
          });
      }
      await c.command(`USER ${o.user}`);
      await c.command(`PASS ${o.password}`, "PASS ***");
      // asked once logged in (a server may name more capabilities then; those read before STLS are forgotten,
      // RFC 2595 §4): without PIPELINING, one command at a time
      c.pipelining = await has("PIPELINING");
      return c;
    } catch (err) {
      c.close();
      throw err;
    }
  }

  /** Message number -> unique id (UIDL). */
  async uidl(): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    for (const l of await this.multi("UIDL")) {
      if (!Buffer.isBuffer(l)) continue;
      const [n, id] = l.toString("latin1").trim().split(" ", 2);
      if (n && id && /^[0-9]{1,9}$/.test(n)) out.set(Number(n), id);
    }
    return out;
  }

  /** Message number -> size in octets (LIST). */
  async list(): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    for (const l of await this.multi("LIST")) {
      if (!Buffer.isBuffer(l)) continue;
      const [n, size] = l.toString("latin1").trim().split(" ", 2);
      if (n && size && /^[0-9]{1,9}$/.test(n) && /^[0-9]{1,15}$/.test(size)) out.set(Number(n), Number(size));
    }
    return out;
  }

  /**
   * Messages' bytes (CRLF line ends), each undefined when larger than `maxBytes` (read and dropped) or refused.
   * With PIPELINING, the RETR commands go out together and the answers are read in turn: one round trip.
   */
  async retrMany(ns: number[], maxBytes: number): Promise<(Buffer | undefined)[]> {
    if (!ns.length) return [];
    if (!this.pipelining) {
      const out: (Buffer | undefined)[] = [];
      for (const n of ns) out.push(await this.retr(n, maxBytes));
      return out;
    }
    this.socket.write(ns.map((n) => `RETR ${n}\r\n`).join(""));
    const out: (Buffer | undefined)[] = [];
    for (const n of ns) {
      const ok = await this.reply(`RETR ${n}`).then(
        () => true,
        (err: unknown) => {
          if (err instanceof Pop3Error) return false; // a -ERR for this one: its answer is that line alone
          throw err;
        },
      );
      out.push(ok ? messageOf(await this.multiLines(), maxBytes) : undefined);
    }
    return out;
  }

  /** A message's bytes (CRLF line ends), or undefined when it is larger than `maxBytes` (read and dropped). */
  async retr(n: number, maxBytes: number): Promise<Buffer | undefined> {
    return messageOf(await this.multi(`RETR ${n}`), maxBytes);
  }

  /** DELE of several messages; with PIPELINING in one round trip. Pop3Error when the server refuses one. */
  async deleMany(ns: number[]): Promise<void> {
    if (!ns.length) return;
    if (!this.pipelining) {
      for (const n of ns) await this.dele(n);
      return;
    }
    this.socket.write(ns.map((n) => `DELE ${n}\r\n`).join(""));
    let refused: unknown;
    for (const n of ns) await this.reply(`DELE ${n}`).catch((err: unknown) => (refused ??= err));
    if (refused) throw refused;
  }

  async dele(n: number): Promise<void> {
    await this.command(`DELE ${n}`);
  }

  /** QUIT: the server deletes the messages marked with DELE (and only then). */
  async quit(): Promise<void> {
    await this.command("QUIT");
    this.close();
  }

  close(): void {
    this.socket.destroy();
  }

  private async startTls(): Promise<void> {
    await this.command("STLS");
    const plain = this.socket;
    plain.removeAllListeners("data");
    const secure = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({
        socket: plain,
        servername: serverName(this.o.host),
        rejectUnauthorized: this.o.verifyTls,
      });
      s.once("error", reject);
      s.once("secureConnect", () => {
        s.off("error", reject);
        resolve(s);
      });
    });
    this.socket = secure;
    this.attach(secure);
  }

  private attach(s: Socket | TLSSocket): void {
    s.on("data", (chunk: Buffer) => this.take(chunk));
    s.on("error", (err) => this.fail(err));
    s.on("close", () => this.fail(new Pop3Error(`POP3 ${this.o.host}: connection closed`)));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** A chunk from the server, cut into lines (scanned once). */
  private take(chunk: Buffer): void {
    let from = 0;
    for (let nl = chunk.indexOf(LF, from); nl >= 0; nl = chunk.indexOf(LF, from)) {
      this.add(chunk.subarray(from, nl));
      this.endLine();
      from = nl + 1;
    }
    this.add(chunk.subarray(from));
    if (this.lines.length) this.wake();
  }

  private add(b: Buffer): void {
    if (!b.length) return;
    if (this.dropped >= 0) this.dropped += b.length;
    else if (this.size + b.length > this.maxLine) {
      this.dropped = this.size + b.length;
      this.parts = [];
      this.size = 0;
    } else {
      this.parts.push(b);
      this.size += b.length;
    }
  }

  private endLine(): void {
    if (this.dropped >= 0) this.lines.push({ tooLong: this.dropped });
    else {
      let line = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
      if (line.length && line[line.length - 1] === CR) line = line.subarray(0, -1);
      this.lines.push(line);
    }
    this.parts = [];
    this.size = 0;
    this.dropped = -1;
  }

  private async nextLine(): Promise<Line> {
    for (;;) {
      const l = this.lines.shift();
      if (l !== undefined) return l;
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  /** One status line: its text after `+OK`; Pop3Error with the server's words after `-ERR`. */
  private async reply(what = "greeting"): Promise<string> {
    const l = await this.nextLine();
    if (!Buffer.isBuffer(l)) throw new Pop3Error(`POP3 ${this.o.host}: ${what}: an answer line too long`);
    const text = l.toString("utf8");
    if (text.startsWith("+OK")) return text.slice(3).trim();
    throw new Pop3Error(`POP3 ${this.o.host}: ${what}: ${text.slice(0, 300)}`);
  }

  private async command(line: string, shown = line): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.reply(shown);
  }

  /** A command with a multi-line answer: its lines, un-stuffed, without the final ".". */
  private async multi(line: string): Promise<Line[]> {
    await this.command(line);
    return this.multiLines();
  }

  /** The lines of a multi-line answer whose status line was read. */
  private async multiLines(): Promise<Line[]> {
    const out: Line[] = [];
    for (;;) {
      const l = await this.nextLine();
      if (Buffer.isBuffer(l) && l.length > 0 && l[0] === DOT) {
        if (l.length === 1) return out;
        out.push(l.subarray(1));
      } else out.push(l);
    }
  }
}

/** The SNI name of a host: none for an IP address (RFC 6066 allows names only). */
const serverName = (host: string): string | undefined => (isIP(host) ? undefined : host);

/** A multi-line answer as the message's bytes; undefined when a line was dropped or it is over `maxBytes`. */
function messageOf(lines: Line[], maxBytes: number): Buffer | undefined {
  let size = 0;
  for (const l of lines) {
    if (!Buffer.isBuffer(l)) return undefined;
    size += l.length + 2;
  }
  if (size > maxBytes) return undefined;
  const out: Buffer[] = [];
  for (const l of lines) out.push(l as Buffer, CRLF);
  return Buffer.concat(out, size);
}
