// When the greeting goes out. smtp-server waits a fixed 100 ms after accepting a connection, to catch clients
// that talk before the greeting ("421 You talk too soon"), with no option to change it. Every session then
// costs 100 ms of waiting, so a server that takes one mail per connection (as the world's MTAs send bounces)
// needs twice the connections in flight for the same rate. Postfix's smtpd greets at once (its pregreet test
// lives in postscreen, off by default); Rebound does the same unless REBOUND_SMTP_GREETING_DELAY_MS asks for
// the early-talker test.
//
// smtp-server creates its connections in SMTPServer#connect (public in its types); this replaces that method
// on one server with the same five steps, using a connection whose init() waits `delayMs` (0: not at all)
// and is otherwise smtp-server's own. It relies on smtp-server's underscored internals (_setListeners, _server,
// _onError, _onClientConnect), which no public option replaces: smtp-server is pinned to the exact version this
// was written against (package.json; SMTP_SERVER_VERSION below), and test/intake/server.test.ts checks that the
// installed one is that version and that the greeting behaves, so an upgrade is a deliberate, tested step.
import { SMTPConnection, type SMTPConnectionOptions } from "smtp-server/lib/smtp-connection.js";
import type { SMTPServer } from "smtp-server";

/** The smtp-server release this file (and proxy.ts) was written against; package.json pins it exactly. */
export const SMTP_SERVER_VERSION = "3.21.6";

class Connection extends SMTPConnection {
  constructor(
    server: SMTPServer,
    socket: ConstructorParameters<typeof SMTPConnection>[1],
    options: SMTPConnectionOptions | null | undefined,
    private readonly greetingDelayMs: number,
  ) {
    super(server, socket, options);
  }

  override init(): void {
    this._setListeners(() => {
      const max = this._server.options.maxClients;
      if (max && this._server.connections.size > max) {
        this.send(421, `${this.name} Too many connected clients, try again in a moment`, false);
        return;
      }
      if (this.greetingDelayMs <= 0) {
        this.connectionReady();
        return;
      }
      setTimeout(() => this.connectionReady(), this.greetingDelayMs).unref();
    });
  }
}

/** Make `server` greet each connection after `delayMs` instead of smtp-server's fixed 100 ms. */
export function greetAfter(server: SMTPServer, delayMs: number): void {
  server.connect = (socket, socketOptions) => {
    const connection = new Connection(server, socket, socketOptions, delayMs);
    server.connections.add(connection);
    connection.on("error", (err: Error) => server._onError(err));
    connection.on("connect", (data) => server._onClientConnect(data));
    connection.init();
  };
}
