// A local webhook endpoint on loopback for tests: records each request and answers from a script.
import { verifySignature } from "../../src/webhooks/sign.js";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { until } from "../helpers/until.js";

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Receiver {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/** `answer(n)` gives the status for the n-th request (1-based); `hang` never answers. */
export async function startReceiver(answer: (n: number) => number | "hang"): Promise<Receiver> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      const status = answer(received.length);
      if (status === "hang") return;
      res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : "receiver is down");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Wait until `check` returns a value other than undefined (polling), or fail after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const box = await until(
    async () => {
      const v = await check();
      return v === undefined ? undefined : { v };
    },
    { ms: timeoutMs, what, everyMs: 25 },
  );
  return box.v;
}

/** A loopback URL where nothing listens (a port just freed). */
export async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/nothing-listens-here`;
}

/** Whether a received delivery carries a valid signature by `secret`, checked now as a receiver would. */
export function signedBy(secret: string, r: Received): boolean {
  return verifySignature(
    secret,
    String(r.headers["rebound-signature"]),
    r.body,
    Math.floor(Date.now() / 1000),
  ).ok;
}
