// GET /v1/events: the history behind an address (or the tenant's recent events), newest first, paginated.
import type { FastifyInstance } from "fastify";
import { PROVIDERS } from "../../core/provider.js";
import { CLASSES, KINDS, REASONS } from "../../core/report.js";
import { eventHistory } from "../../store/event-history.js";
import type { EventRow } from "../../store/events.js";
import { addressOrThrow } from "../address.js";
import { requireScope } from "../auth.js";
import { decodeCursor, encodeCursor } from "../cursor.js";
import type { ApiDeps } from "../deps.js";
import { ApiError } from "../errors.js";
import { everyField } from "../json-schema.js";

const eventSchema = everyField({
  type: "object",
  additionalProperties: false,
  properties: {
    id: { type: "string" },
    mailId: {
      type: ["string", "null"],
      description: "The inbound mail it came from (null for `source: api`)",
    },
    source: {
      type: "string",
      description:
        "`mail` (a processed bounce or complaint), `api` (a reported delivery), `postfix-log` or `esp` (an ESP's event webhook)",
    },
    stream: { type: "string" },
    recipient: { type: "string", description: "The recipient of the mail the event is about (normalised)" },
    recipientOriginal: { type: "string", description: "The recipient as the report wrote it" },
    recipientDomain: { type: "string" },
    kind: { type: "string", enum: [...KINDS] },
    reason: { type: "string", enum: [...REASONS] },
    class: { type: "string", enum: [...CLASSES] },
    permanent: {
      type: ["boolean", "null"],
      description:
        "Whether the failure is permanent (true), transient (false) or unknown (null; also for what is no failure)",
    },
    status: { type: ["string", "null"] },
    smtpCode: { type: ["integer", "null"] },
    action: { type: ["string", "null"] },
    diagnostic: { type: ["string", "null"] },
    remoteMta: { type: ["string", "null"] },
    reportingMta: { type: ["string", "null"] },
    feedbackType: { type: ["string", "null"] },
    parser: { type: ["string", "null"] },
    rule: { type: ["string", "null"], description: "The classifier rule that decided the reason" },
    verified: { type: "boolean", description: "The recipient was identified by a valid signed return path" },
    verpKeyId: { type: ["string", "null"] },
    classifierVersion: { type: ["string", "null"] },
    decision: {
      type: ["object", "null"],
      additionalProperties: true,
      description: "The policy's decision and its rule",
    },
    provider: {
      type: ["string", "null"],
      description: "The recipient's mailbox provider (null on events recorded before providers were kept)",
    },
    campaign: {
      type: ["string", "null"],
      description: "The campaign of its send (null when not tied to one)",
    },
    sendingIp: { type: ["string", "null"], description: "The sending IP of its send (null when not tied)" },
    sentAt: {
      type: ["string", "null"],
      format: "date-time",
      description: "When its send went out (null when not tied to a send: docs/monitoring.md)",
    },
    occurredAt: { type: "string", format: "date-time" },
    createdAt: { type: "string", format: "date-time" },
  },
} as const);

interface Query {
  address?: string;
  stream?: string;
  class?: string;
  reason?: string;
  provider?: string;
  campaign?: string;
  since?: string;
  until?: string;
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
}

function publicEvent(e: EventRow) {
  return {
    id: String(e.id),
    mailId: e.mail_id === null ? null : String(e.mail_id),
    source: e.source,
    stream: e.stream,
    recipient: e.address,
    recipientOriginal: e.address_original,
    recipientDomain: e.recipient_domain,
    kind: e.kind,
    reason: e.reason,
    class: e.class,
    permanent: e.permanent,
    status: e.status,
    smtpCode: e.smtp_code,
    action: e.action,
    diagnostic: e.diagnostic,
    remoteMta: e.remote_mta,
    reportingMta: e.reporting_mta,
    feedbackType: e.feedback_type,
    parser: e.parser,
    rule: e.rule,
    verified: e.verified,
    verpKeyId: e.verp_key_id,
    classifierVersion: e.classifier_version,
    decision: e.decision,
    provider: e.provider,
    campaign: e.campaign,
    sendingIp: e.sending_ip,
    sentAt: e.sent_at,
    occurredAt: e.occurred_at,
    createdAt: e.created_at,
  };
}

function dateParam(name: string, v: string | undefined): Date | undefined {
  if (v === undefined) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime()))
    throw new ApiError(400, "validation_failed", `${name} is not a date-time: ${v}`);
  return d;
}

const latest = (a?: Date, b?: Date) => (a && b ? (a > b ? a : b) : (a ?? b));
const earliest = (a?: Date, b?: Date) => (a && b ? (a < b ? a : b) : (a ?? b));

export default async function events(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get<{ Querystring: Query }>(
    "/events",
    {
      preHandler: requireScope("read"),
      schema: {
        tags: ["events"],
        summary: "The events behind an address (or all the tenant's), most recent occurrence first",
        description:
          "Every bounce, complaint, auto-reply and reported delivery recorded for the address, with the classifier's " +
          "evidence and the policy's decision. Without `address`, the tenant's events.",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            address: {
              type: "string",
              minLength: 1,
              maxLength: 320,
              description: "The address whose history to show (the events of which it is the recipient)",
            },
            stream: { type: "string", minLength: 1, maxLength: 100 },
            class: { type: "string", enum: [...CLASSES] },
            reason: { type: "string", enum: [...REASONS] },
            provider: { type: "string", enum: [...PROVIDERS] },
            campaign: {
              type: "string",
              maxLength: 200,
              description: "The campaign of the events' sends (events tied to a send: docs/monitoring.md)",
            },
            since: { type: "string", format: "date-time", description: "occurred at or after" },
            until: { type: "string", format: "date-time", description: "occurred before" },
            from: { type: "string", format: "date-time", description: "occurred at or after (as `since`)" },
            to: { type: "string", format: "date-time", description: "occurred before (as `until`)" },
            limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
            cursor: { type: "string", maxLength: 512, description: "`nextCursor` of the previous page" },
          },
        },
        response: {
          200: {
            type: "object",
            required: ["data", "nextCursor"],
            additionalProperties: false,
            properties: {
              data: { type: "array", items: eventSchema },
              nextCursor: { type: ["string", "null"] },
            },
          },
        },
      },
    },
    async (request) => {
      const { tenant, secret } = request.auth;
      const q = request.query;
      const addressHash = q.address !== undefined ? addressOrThrow(q.address, deps).hash : undefined;
      // `from`/`to` are the names GET /v1/stats uses; given with `since`/`until`, the narrower bound holds.
      const since = latest(dateParam("since", q.since), dateParam("from", q.from));
      const until = earliest(dateParam("until", q.until), dateParam("to", q.to));
      const stream = q.stream;
      const filters = {
        listing: "events",
        addressHash,
        stream,
        class: q.class,
        reason: q.reason,
        provider: q.provider,
        campaign: q.campaign,
        since,
        until,
      };
      const afterId = q.cursor ? decodeCursor(secret, q.cursor, filters) : undefined;
      const rows = await eventHistory(deps.db, { tenant, ...filters, limit: q.limit + 1 }, afterId);
      if (!rows)
        throw new ApiError(
          400,
          "invalid_cursor",
          "the cursor is invalid: the event it continues after no longer exists",
        );
      const page = rows.slice(0, q.limit);
      const last = page[page.length - 1];
      return {
        data: page.map(publicEvent),
        nextCursor: rows.length > q.limit && last ? encodeCursor(secret, String(last.id), filters) : null,
      };
    },
  );
}
