// The SMTP relay everything Rebound mails goes through (REBOUND_MAIL_RELAY_URL: scheduled reports, the alerts'
// e-mail routes), as nodemailer transport options with deadlines.

/** `smtp://user:pass@host:port` or `smtps://...` to transport options; each step bounded by `timeoutMs`. */
export function smtpRelayOptions(smtpUrl: string, timeoutMs: number) {
  const u = new URL(smtpUrl);
  const secure = u.protocol === "smtps:";
  return {
    host: u.hostname,
    port: Number(u.port) || (secure ? 465 : 587),
    secure,
    auth: u.username
      ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) }
      : undefined,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  };
}
