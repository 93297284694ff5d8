// Every SMTP reply the intake chooses, in one place: the codes are decided at the edge only.
// The server does not advertise ENHANCEDSTATUSCODES (smtp-server would put its own generic code in front of
// ours), so each text carries its RFC 3463 code itself, as Postfix's replies do.

export interface SmtpReplyError extends Error {
  responseCode: number;
}

function reply(code: number, text: string): SmtpReplyError {
  return Object.assign(new Error(text), { responseCode: code });
}

export const replies = {
  relayDenied: () =>
    reply(550, "5.7.1 Relay access denied: this server only receives mail for its own domains"),
  badRecipient: () => reply(501, "5.1.3 Bad recipient address syntax"),
  /** A local part that is neither a return path that verifies nor one of REBOUND_SMTP_LOCAL_PARTS. */
  unknownUser: () => reply(550, "5.1.1 Recipient address rejected: no such user here"),
  tooManyRefused: () => reply(421, "4.7.0 Too many refused recipients on this connection, closing"),
  tooManyTransactions: (max: number) =>
    reply(421, `4.7.0 Too many mail transactions on one connection (at most ${max}), please reconnect`),
  /** The bytes being received over all sessions are at their bound (REBOUND_SMTP_MAX_RECEIVING_BYTES). */
  overBudget: () => reply(452, "4.3.1 Insufficient system storage, please try again later"),
  tooManyRecipients: (max: number) => reply(452, `4.5.3 Too many recipients (at most ${max} per message)`),
  tooBig: (max: number) =>
    reply(552, `5.3.4 Message size exceeds fixed maximum message size of ${max} bytes`),
  storageUnavailable: () =>
    reply(451, "4.3.0 Temporary local problem: mail not stored, please try again later"),
  /** Too many mails wait for the database already (it is slow or hung): refused at once. */
  storageBusy: () =>
    reply(451, "4.3.2 Temporary local problem: too many mails waiting to be stored, please try again later"),
  tooManyConnections: () => reply(421, "4.7.0 Too many connections, try again later"),
  rateLimited: () => reply(421, "4.7.0 Too many connections from your address, try again later"),
  tooManyConnectionsFromIp: () =>
    reply(421, "4.7.0 Too many concurrent connections from your address, try again later"),
  /** The text after 250 once the mail is committed. */
  accepted: (mailId: string) => `2.0.0 Ok: queued as ${mailId}`,
} as const;
