// Sending one notification over its route's channel. The routes are the operator's (the REBOUND_ALERTS file),
// not tenants', so they may point inside the network (a PagerDuty proxy, a Mattermost on the LAN).
import nodemailer from "nodemailer";
import type { AlertsConfig, RouteConfig } from "../core/alerts/config.js";
import {
  emailMessage,
  pagerdutyBody,
  PAGERDUTY_EVENTS_URL_DEFAULT,
  slackBody,
  webhookBody,
  type NoticePayload,
} from "../core/alerts/notify.js";
import { smtpRelayOptions } from "../util/smtp-relay.js";
import { SIGNATURE_HEADER, signatureHeader } from "../webhooks/sign.js";

export interface Sender {
  send(route: RouteConfig, payload: NoticePayload, deliveryId: string): Promise<void>;
  close(): void;
}

export function createSender(alerts: AlertsConfig, now: () => Date): Sender {
  const timeoutMs = alerts.delivery.timeoutMs;
  const mailer = alerts.email
    ? nodemailer.createTransport(smtpRelayOptions(alerts.email.smtpUrl, timeoutMs))
    : undefined;

  async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<void> {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "Rebound-Alerts/0.1", ...headers },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = (await res.text().catch(() => "")).slice(0, 200).replace(/\s+/g, " ");
    if (res.status < 200 || res.status >= 300)
      throw new Error(`HTTP ${res.status}${text ? `: ${text}` : ""}`);
  }

  return {
    async send(route, payload, deliveryId) {
      switch (route.channel) {
        case "slack":
          return post(route.url!, slackBody(payload));
        case "pagerduty":
          return post(route.url ?? PAGERDUTY_EVENTS_URL_DEFAULT, pagerdutyBody(payload, route.routingKey!));
        case "webhook": {
          const body = webhookBody(payload, deliveryId);
          return post(route.url!, body, {
            [SIGNATURE_HEADER]: signatureHeader(route.secret!, Math.floor(now().getTime() / 1000), body),
            "Rebound-Event": `incident.${payload.notice}`,
          });
        }
        case "email": {
          if (!mailer || !alerts.email) throw new Error("no SMTP relay configured (REBOUND_MAIL_RELAY_URL)");
          const m = emailMessage(payload);
          await mailer.sendMail({ from: alerts.email.from, to: route.to, subject: m.subject, text: m.text });
          return;
        }
      }
    },
    close() {
      mailer?.close();
    },
  };
}
