// Minimal clients of the lookup role's two protocols, as Postfix speaks them: one kept-open connection each.
import { connect, type Socket } from "node:net";
import { encodeNetstring, NetstringReader } from "../../../src/integrations/postfix/netstring.js";

export class SocketmapClient {
  private reader = new NetstringReader(100_000);
  private waiting: ((s: string) => void)[] = [];
  private constructor(readonly socket: Socket) {
    socket.on("data", (c: Buffer) => {
      for (const s of this.reader.push(c)) this.waiting.shift()?.(s);
    });
  }

  static async open(port: number): Promise<SocketmapClient> {
    const socket = connect(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    return new SocketmapClient(socket);
  }

  /** Sends every request at once (pipelined) and resolves with the replies in arrival order. */
  ask(...requests: string[]): Promise<string[]> {
    const replies = requests.map((r) => {
      const p = new Promise<string>((resolve) => this.waiting.push(resolve));
      this.socket.write(encodeNetstring(r));
      return p;
    });
    return Promise.all(replies);
  }

  close(): void {
    this.socket.destroy();
  }
}

export class PolicyClient {
  private buffered = "";
  private waiting: ((s: string) => void)[] = [];
  private constructor(readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (c: string) => {
      this.buffered += c;
      for (let end = this.buffered.indexOf("\n\n"); end >= 0; end = this.buffered.indexOf("\n\n")) {
        const reply = this.buffered.slice(0, end);
        this.buffered = this.buffered.slice(end + 2);
        this.waiting.shift()?.(reply);
      }
    });
  }

  static async open(port: number): Promise<PolicyClient> {
    const socket = connect(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    return new PolicyClient(socket);
  }

  /** One request (attributes as Postfix sends them at RCPT); resolves with the reply's lines. */
  ask(attrs: Record<string, string>): Promise<string> {
    const p = new Promise<string>((resolve) => this.waiting.push(resolve));
    const lines = Object.entries({ request: "smtpd_access_policy", protocol_state: "RCPT", ...attrs })
      .map(([k, v]) => `${k}=${v}\n`)
      .join("");
    this.socket.write(lines + "\n");
    return p;
  }

  close(): void {
    this.socket.destroy();
  }
}
