// An HTTP receiver on loopback for the alert routes' channels (webhook, Slack-style, PagerDuty), received for real:
// it records each request (path, headers, body) into `into` and answers with the status `statusOf` gives its path.
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Receiver {
  /** `http://127.0.0.1:PORT`, to which the routes' paths are added. */
  url: string;
  close(): Promise<void>;
}

export async function startReceiver(
  into: Received[],
  statusOf: (path: string) => number = () => 202,
): Promise<Receiver> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      const path = req.url ?? "";
      into.push({ path, headers: req.headers, body });
      res.writeHead(statusOf(path)).end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
