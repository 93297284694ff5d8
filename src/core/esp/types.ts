// What an ESP's event webhook says, once read: one event per recipient, in Rebound's vocabulary. Pure.
import type { Recipient } from "../report.js";

/** The ESPs whose event webhooks Rebound takes (`POST /v1/ingest/<provider>`). */
export const ESP_PROVIDERS = ["ses", "sendgrid", "mailgun", "postmark"] as const;
export type EspProvider = (typeof ESP_PROVIDERS)[number];

export const isEspProvider = (s: string): s is EspProvider =>
  (ESP_PROVIDERS as readonly string[]).includes(s);

/** What an ESP event becomes in Rebound (the event's `kind`). */
export const ESP_KINDS = ["bounce", "complaint", "delivery", "auto_reply"] as const;
export type EspKind = (typeof ESP_KINDS)[number];

/**
 * The custom field a sender sets on a message to name its stream: SES message tag, SendGrid custom argument,
 * Mailgun user variable (`X-Mailgun-Variables`), Postmark metadata. Absent or not a stream name: the endpoint's.
 */
export const STREAM_FIELD = "rebound_stream";

export interface EspEvent {
  /** The provider's id of this event for this recipient: what makes a retried webhook harmless. */
  eventId: string;
  kind: EspKind;
  /** The recipient's result: reason, class, permanence; `rule` names the mapping entry, `parser` the ESP. */
  recipient: Recipient;
  occurredAt: Date;
  /** The sent message's Message-ID, where the payload gives it (ties the event to its send). */
  messageId?: string;
  /** The stream the message names in its custom field (STREAM_FIELD), unchecked. */
  stream?: string;
  /** The domain of the sent message's From or envelope sender, where the payload gives it. */
  sendingDomain?: string;
}

export interface EspIgnored {
  /** The provider's type of event, as read (`Open`, `click`, `Bounce/Transient/General`, ...). */
  type: string;
  /** The mapping entry that ignores it (`ses.open`, ...), or `<provider>.unknown`. */
  rule: string;
}

/** One item read: an event to record, an event deliberately not recorded, or an item that is not one. */
export type EspItem = { event: EspEvent } | { ignored: EspIgnored } | { invalid: string };

/** A diagnostic or other provider text kept at most this long, control characters replaced. */
export const MAX_TEXT = 2_000;

const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

/** A provider's text as Rebound stores it: bounded, without control characters (PostgreSQL refuses NUL). */
export function cleanText(s: unknown, max = MAX_TEXT): string | undefined {
  if (typeof s !== "string" && typeof s !== "number") return undefined;
  const t = String(s).slice(0, max).replace(CONTROL, " ").trim();
  return t || undefined;
}

// Readers of untyped JSON.
export type Json = Record<string, unknown>;
export const obj = (v: unknown): Json | undefined =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined;
export const str = (v: unknown): string | undefined =>
  typeof v === "string" ? v : typeof v === "number" && Number.isFinite(v) ? String(v) : undefined;

/** A date from ISO text or Unix seconds; undefined when it is neither. */
export function dateOf(v: unknown): Date | undefined {
  const d =
    typeof v === "number"
      ? new Date(v * 1000)
      : typeof v === "string" && /^[0-9]{1,12}(?:\.[0-9]{1,9})?$/.test(v)
        ? new Date(Number(v) * 1000)
        : typeof v === "string" && v.length <= 64
          ? new Date(v)
          : undefined;
  return d && !Number.isNaN(d.getTime()) ? d : undefined;
}

/** An SMTP reply code from a number or text (`550`). */
export function smtpCodeOf(v: unknown): number | undefined {
  const n = typeof v === "number" ? v : typeof v === "string" && /^[2-5][0-9]{2}$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 200 && n < 600 ? n : undefined;
}

/** An enhanced status code (`5.1.1`) from text; undefined otherwise. */
export function statusOf(v: unknown): string | undefined {
  const s = typeof v === "string" ? v.trim() : "";
  return /^[245]\.[0-9]{1,3}\.[0-9]{1,3}$/.test(s) ? s : undefined;
}
