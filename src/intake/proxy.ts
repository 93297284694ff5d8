// PROXY protocol (a load balancer in front of the MX says who the client is) trusted only from the proxies'
// networks, REBOUND_SMTP_PROXY_FROM. A connection from anywhere else is an SMTP client like any other: its own
// address counts, and a PROXY line it sends is just a bad command.
//
// smtp-server's `useProxy` takes single addresses, not networks. It asks `_expectsProxyHeader(socket)` of each
// accepted socket (before and while reading the header): this answers from the networks instead. That method is
// smtp-server's own (typed in its declarations, underscored), so smtp-server is pinned to the exact version
// this was written against (package.json), and test/intake/server.test.ts checks both sides of the rule.
import type { Socket } from "node:net";
import type { SMTPServer } from "smtp-server";
import { networkMatcher } from "../webhooks/egress.js";

/** Make `server` read a PROXY header from peers in `networks` only (none: never). */
export function trustProxyFrom(server: SMTPServer, networks: readonly string[]): void {
  const trusted = networkMatcher(networks);
  server._expectsProxyHeader = (socket: Socket) => networks.length > 0 && trusted(socket.remoteAddress ?? "");
}
