// GET /v1/events: the history behind an address (or the tenant's recent events), newest first, paginated.
import type { FastifyInstance } from "fastify";
import { CLASSES } from "../../core/report.js";
import { eventHistory } from "../../store/event-history.js";
import type { EventRow } from "../../store/events.js";
import { addressOrThrow } from "../address.js";
import { requireScope } from "../auth.js";
import { decodeCursor, encodeCursor } from "../cursor.js";
import type { ApiDeps } from "../deps.js";
import { ApiError } from "../errors.js";

const eventSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    mail_id: {
      type: "string",
      nullable: true,
      description: "The inbound mail it came from (null for `source: api`)",
    },
    source: {
      type: "string",
      description: "`mail` (a processed bounce or complaint) or `api` (a reported delivery)",
    },
    stream: { type: "string" },
    address: { type: "string" },
    address_original: { type: "string" },
    recipient_domain: { type: "string" },
    kind: { type: "string" },
    reason: { type: "string" },
    class: { type: "string", enum: [...CLASSES] },
    permanent: {
      type: "boolean",
      nullable: true,
      description:
        "Whether the failure is permanent (true), transient (false) or unknown (null; also for what is no failure)",
    },
    status: { type: "string", nullable: true },
    smtp_code: { type: "integer", nullable: true },
    action: { type: "string", nullable: true },
    diagnostic: { type: "string", nullable: true },
    remote_mta: { type: "string", nullable: true },
    reporting_mta: { type: "string", nullable: true },
    feedback_type: { type: "string", nullable: true },
    parser: { type: "string", nullable: true },
    rule: { type: "string", nullable: true, description: "The classifier rule that decided the reason" },
    verified: { type: "boolean", description: "The recipient was identified by a valid signed return path" },
    verp_key_id: { type: "string", nullable: true },
    classifier_version: { type: "string", nullable: true },
    decision: {
      type: "object",
      nullable: true,
      additionalProperties: true,
      description: "The policy's decision and its rule",
    },
    occurred_at: { type: "string", format: "date-time" },
    created_at: { type: "string", format: "date-time" },
  },
} as const;

interface Query {
  address?: string;
  stream?: string;
  class?: string;
  since?: string;
  until?: string;
  limit: number;
  cursor?: string;
}

function publicEvent(e: EventRow) {
  const { tenant: _t, address_hash: _h, ...rest } = e;
  return { ...rest, id: String(e.id) };
}

function dateParam(name: string, v: string | undefined): Date | undefined {
  if (v === undefined) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime()))
    throw new ApiError(400, "validation_failed", `${name} is not a date-time: ${v}`);
  return d;
}

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
            address: { type: "string", maxLength: 400 },
            stream: { type: "string", maxLength: 100 },
            class: { type: "string", enum: [...CLASSES] },
            since: { type: "string", format: "date-time", description: "occurred at or after" },
            until: { type: "string", format: "date-time", description: "occurred before" },
            limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
            cursor: { type: "string", maxLength: 512 },
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              data: { type: "array", items: eventSchema },
              next_cursor: { type: "string", nullable: true },
            },
          },
          400: { $ref: "Error#" },
          401: { $ref: "Error#" },
          403: { $ref: "Error#" },
        },
      },
    },
    async (request) => {
      const { tenant, secret } = request.auth;
      const q = request.query;
      const addressHash =
        q.address !== undefined
          ? addressOrThrow(q.address, deps.config.caseSensitiveLocalPart).hash
          : undefined;
      const since = dateParam("since", q.since);
      const until = dateParam("until", q.until);
      const filters = { listing: "events", addressHash, stream: q.stream, class: q.class, since, until };
      const afterId = q.cursor ? decodeCursor(secret, q.cursor, filters) : undefined;
      const rows = await eventHistory(
        deps.db,
        { tenant, addressHash, stream: q.stream, class: q.class, since, until, limit: q.limit + 1 },
        afterId,
      );
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
        next_cursor: rows.length > q.limit && last ? encodeCursor(secret, String(last.id), filters) : null,
      };
    },
  );
}
