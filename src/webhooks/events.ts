// The closed vocabulary of webhook event types: what the worker writes to the outbox, what endpoints subscribe to.
export const WEBHOOK_EVENTS = [
  "bounce.hard",
  "bounce.soft",
  "bounce.block",
  "complaint",
  "suppression.added",
  "suppression.removed",
  "incident.opened",
  "incident.escalated",
  "incident.updated",
  "incident.acknowledged",
  "incident.resolved",
  "stream.paused",
  "stream.resumed",
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export function isWebhookEvent(s: string): s is WebhookEvent {
  return (WEBHOOK_EVENTS as readonly string[]).includes(s);
}

export const DELIVERY_STATUSES = ["pending", "failed", "delivered", "dead"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
