// A small raw SMTP client over loopback for tests: one command at a time, replies parsed whole.
import { connect, type Socket } from "node:net";

export interface Reply {
  code: number;
  /** All lines joined by \n, codes included. */
  text: string;
}

export class SmtpClient {
  private buf = "";
  private waiting: ((r: Reply) => void)[] = [];
  private replies: Reply[] = [];
  private closedErr: Error | undefined;
  private closeWaiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => this.onData(d));
    socket.on("error", (e) => (this.closedErr = e));
    socket.on("close", () => {
      this.closed = true;
      for (const w of this.closeWaiters) w();
      for (const w of this.waiting.splice(0))
        w({ code: 0, text: `connection closed${this.closedErr ? `: ${this.closedErr.message}` : ""}` });
    });
  }

  /** Connects and reads the greeting. `preface` is written first (a PROXY header). */
  static async connect(
    port: number,
    opts: { host?: string; preface?: string } = {},
  ): Promise<{ client: SmtpClient; greeting: Reply }> {
    const socket = connect({ port, host: opts.host ?? "127.0.0.1" });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const client = new SmtpClient(socket);
    if (opts.preface) socket.write(opts.preface);
    const greeting = await client.read();
    return { client, greeting };
  }

  private onData(d: string) {
    this.buf += d;
    let lines: string[] = [];
    for (;;) {
      const i = this.buf.indexOf("\r\n");
      if (i < 0) break;
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      lines.push(line);
      if (/^\d{3}(?: |$)/.test(line)) {
        const r = { code: Number(line.slice(0, 3)), text: lines.join("\n") };
        lines = [];
        const w = this.waiting.shift();
        if (w) w(r);
        else this.replies.push(r);
      }
    }
    if (lines.length) this.buf = lines.map((l) => l + "\r\n").join("") + this.buf;
  }

  read(): Promise<Reply> {
    const r = this.replies.shift();
    if (r) return Promise.resolve(r);
    if (this.closed) return Promise.resolve({ code: 0, text: "connection closed" });
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  command(line: string): Promise<Reply> {
    this.socket.write(line + "\r\n");
    return this.read();
  }

  /** MAIL, RCPT each, DATA, body; stops at the first refusal (all recipients refused: no DATA). */
  async send(m: {
    from: string;
    to: string[];
    data: string | Buffer;
  }): Promise<{ final: Reply; rcpt: Reply[] }> {
    const mail = await this.command(`MAIL FROM:<${m.from}>`);
    if (mail.code !== 250) return { final: mail, rcpt: [] };
    const rcpt: Reply[] = [];
    for (const to of m.to) rcpt.push(await this.command(`RCPT TO:<${to}>`));
    if (!rcpt.some((r) => r.code === 250)) {
      await this.command("RSET");
      return { final: rcpt[rcpt.length - 1]!, rcpt };
    }
    const data = await this.command("DATA");
    if (data.code !== 354) return { final: data, rcpt };
    this.socket.write(dotStuff(m.data));
    return { final: await this.read(), rcpt };
  }

  /** One recipient, PIPELINING: MAIL, RCPT and DATA in one write, then the body; resolves with the final reply. */
  async sendPipelined(m: { from: string; to: string; data: string | Buffer }): Promise<Reply> {
    this.socket.write(`MAIL FROM:<${m.from}>\r\nRCPT TO:<${m.to}>\r\nDATA\r\n`);
    const mail = await this.read();
    const rcpt = await this.read();
    const data = await this.read();
    if (data.code !== 354) return mail.code !== 250 ? mail : rcpt.code !== 250 ? rcpt : data;
    this.socket.write(dotStuff(m.data));
    return this.read();
  }

  async quit(): Promise<void> {
    if (!this.closed) {
      this.socket.write("QUIT\r\n");
      await this.waitClosed();
    }
  }

  waitClosed(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((r) => this.closeWaiters.push(r));
  }

  destroy() {
    this.socket.destroy();
  }
}

/** The DATA body as sent on the wire: CRLF lines, leading dots doubled, ending with CRLF.CRLF. */
export function dotStuff(data: string | Buffer): Buffer {
  const s = (Buffer.isBuffer(data) ? data : Buffer.from(data, "utf8"))
    .toString("latin1")
    .replace(/\r?\n/g, "\r\n");
  const body = s.replace(/(^|\r\n)\./g, "$1..");
  return Buffer.from(body + (body.endsWith("\r\n") ? "" : "\r\n") + ".\r\n", "latin1");
}

/** Sends one mail on a fresh connection. */
export async function sendOne(
  port: number,
  m: { from: string; to: string[]; data: string | Buffer },
): Promise<Reply> {
  const { client, greeting } = await SmtpClient.connect(port);
  if (greeting.code !== 220) return greeting;
  await client.command("EHLO client.test");
  const { final } = await client.send(m);
  await client.quit();
  return final;
}
