// The HTTP client of webhook deliveries: one POST with a deadline, no redirects followed, a little of the answer
// read. Its sockets connect only where the egress policy allows (see egress.ts): node:http with a guarded
// `lookup` on its own agents, because fetch offers no hook on the address it connects to.
import { Agent as HttpAgent, request as httpRequest, type OutgoingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { DestinationRefusedError, guardedLookup, refusedAddress, type EgressPolicy } from "./egress.js";

/** How much of an answer is read (for the delivery log); the rest is not waited for. */
const MAX_ANSWER_BYTES = 4096;

export interface Answer {
  status: number;
  /** The start of the body, for the log. */
  text: string;
}

export class AnswerTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

export interface WebhookClient {
  /** POST `body` to `url`; rejects on a refused destination, a connection error or the deadline. */
  post(url: URL, headers: OutgoingHttpHeaders, body: string, timeoutMs: number): Promise<Answer>;
  /** Close the idle kept-alive connections. */
  close(): void;
}

export function createWebhookClient(policy: EgressPolicy): WebhookClient {
  // Agents of our own: every socket they open goes through the guarded lookup, and no socket opened elsewhere
  // (unchecked) is reused for a webhook.
  const lookup = guardedLookup(policy);
  const http = new HttpAgent({ keepAlive: true, lookup });
  const https = new HttpsAgent({ keepAlive: true, lookup });

  function post(url: URL, headers: OutgoingHttpHeaders, body: string, timeoutMs: number): Promise<Answer> {
    // net.connect does not look IP literals up, so the guarded lookup never sees them: check them here.
    const refused = refusedAddress(policy, url.hostname);
    if (refused) return Promise.reject(new DestinationRefusedError(refused));
    const secure = url.protocol === "https:";
    return new Promise<Answer>((resolve, reject) => {
      let settled = false;
      let ended = false;
      const settle = (err: Error | undefined, answer?: Answer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // A fully read answer leaves its socket to the agent for the next delivery; anything else is closed.
        if (!ended) req.destroy();
        if (err) reject(err);
        else resolve(answer as Answer);
      };
      const req = (secure ? httpsRequest : httpRequest)(
        url,
        { method: "POST", agent: secure ? https : http, headers },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          const done = () =>
            settle(undefined, {
              status: res.statusCode ?? 0,
              text: Buffer.concat(chunks).toString("utf8"),
            });
          res.on("data", (c: Buffer) => {
            chunks.push(c);
            size += c.length;
            if (size >= MAX_ANSWER_BYTES) done();
          });
          res.on("end", () => {
            ended = true;
            done();
          });
          // The status is what counts: an answer cut short still has one.
          res.on("close", done);
          res.on("error", () => done());
        },
      );
      const timer = setTimeout(() => settle(new AnswerTimeoutError(timeoutMs)), timeoutMs);
      req.on("error", (err) => settle(err));
      req.end(body);
    });
  }

  return {
    post,
    close() {
      http.destroy();
      https.destroy();
    },
  };
}
