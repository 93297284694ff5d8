// A POP3 proxy on loopback in front of a real server, for what no server setting gives: it hides capabilities
// from the CAPA answers it relays (Dovecot always announces PIPELINING), and notes every command the client sends
// before the server has answered the one before (pipelining). Plain connections only.
import { connect, createServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export interface Pop3Proxy {
  port: number;
  /** The client's commands in order (PASS's argument masked). */
  commands: string[];
  /** The commands sent while the one before was still unanswered. */
  pipelined: string[];
  close(): Promise<void>;
}

export async function startPop3Proxy(upstreamPort: number, hide: readonly string[]): Promise<Pop3Proxy> {
  const hidden = new Set(hide.map((c) => c.toUpperCase()));
  const commands: string[] = [];
  const pipelined: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(upstreamPort, "127.0.0.1");
    sockets.add(client).add(upstream);
    let awaiting = false;
    let inCapa = false;
    let fromClient = "";
    let fromServer = "";
    client.on("data", (chunk: Buffer) => {
      fromClient += chunk.toString("latin1");
      for (let nl = fromClient.indexOf("\n"); nl >= 0; nl = fromClient.indexOf("\n")) {
        const line = fromClient.slice(0, nl).replace(/\r$/, "");
        fromClient = fromClient.slice(nl + 1);
        const shown = /^PASS /i.test(line) ? "PASS ***" : line;
        commands.push(shown);
        if (awaiting) pipelined.push(shown);
        awaiting = true;
        if (/^CAPA$/i.test(line)) inCapa = true;
        upstream.write(`${line}\r\n`, "latin1");
      }
    });
    upstream.on("data", (chunk: Buffer) => {
      awaiting = false;
      fromServer += chunk.toString("latin1");
      let out = "";
      for (let nl = fromServer.indexOf("\n"); nl >= 0; nl = fromServer.indexOf("\n")) {
        const line = fromServer.slice(0, nl + 1);
        fromServer = fromServer.slice(nl + 1);
        const text = line.trim();
        if (inCapa && text === ".") inCapa = false;
        else if (inCapa && hidden.has(text.split(" ")[0]!.toUpperCase())) continue;
        out += line;
      }
      if (out) client.write(out, "latin1");
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    commands,
    pipelined,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
