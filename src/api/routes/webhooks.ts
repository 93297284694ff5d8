// /v1/webhooks: register endpoints (the secret is shown once), list, delete, the delivery log, redeliver.
import type { FastifyInstance } from "fastify";
import {
  deleteWebhook,
  getWebhook,
  insertWebhook,
  listDeliveries,
  listWebhooks,
  newWebhookId,
  resetDelivery,
  type DeliveryRow,
  type WebhookRow,
} from "../../store/webhooks.js";
import { createEgressPolicy, refusedHost, type EgressPolicy } from "../../webhooks/egress.js";
import { DELIVERY_STATUSES, WEBHOOK_EVENTS, type DeliveryStatus } from "../../webhooks/events.js";
import { generateSecret } from "../../webhooks/sign.js";
import { requireScope } from "../auth.js";
import type { ApiDeps } from "../deps.js";
import { ApiError } from "../errors.js";
import { everyField } from "../json-schema.js";
import { decodeCursor, encodeCursor } from "../cursor.js";

const MAX_WEBHOOKS_PER_TENANT = 50;

/** Where a page of endpoints ends (they are listed oldest first): the last one's creation time (ms) and id. */
const WEBHOOK_POSITION = /^(\d{1,15})\.(wh_[A-Za-z0-9_-]{1,40})$/;

function webhookPosition(position: string): { createdAt: Date; id: string } {
  const m = WEBHOOK_POSITION.exec(position)!;
  return { createdAt: new Date(Number(m[1])), id: m[2]! };
}

const webhookSchema = {
  type: "object",
  required: ["id", "url", "events", "description", "createdAt", "disabledAt"],
  additionalProperties: false,
  properties: {
    id: { type: "string" },
    url: { type: "string" },
    events: { type: "array", items: { type: "string", enum: [...WEBHOOK_EVENTS] } },
    description: { type: ["string", "null"] },
    createdAt: { type: "string", format: "date-time" },
    disabledAt: { type: ["string", "null"], format: "date-time" },
  },
} as const;

const deliverySchema = everyField({
  type: "object",
  additionalProperties: false,
  properties: {
    id: { type: "string" },
    webhookId: { type: "string" },
    eventId: {
      type: "string",
      description: "Stable across tries and endpoints: the `id` of the body sent.",
    },
    eventType: { type: "string", enum: [...WEBHOOK_EVENTS] },
    status: {
      type: "string",
      enum: [...DELIVERY_STATUSES],
      description:
        "`pending` (not tried yet), `failed` (will be tried again at `nextAttemptAt`), `delivered`, `dead` (gave up)",
    },
    attempts: { type: "integer" },
    lastStatusCode: { type: ["integer", "null"] },
    lastError: { type: ["string", "null"] },
    nextAttemptAt: { type: ["string", "null"], format: "date-time" },
    createdAt: { type: "string", format: "date-time" },
    deliveredAt: { type: ["string", "null"], format: "date-time" },
    payload: { type: "object", additionalProperties: true, description: "The event's `data`" },
  },
} as const);

const idParams = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "string", minLength: 1, maxLength: 64 } },
} as const;

function publicWebhook(w: WebhookRow) {
  return {
    id: w.id,
    url: w.url,
    events: w.events,
    description: w.description,
    createdAt: w.created_at,
    disabledAt: w.disabled_at,
  };
}

function publicDelivery(d: DeliveryRow) {
  return {
    id: String(d.id),
    webhookId: d.webhook_id,
    eventId: `evt_${d.outbox_id}`,
    eventType: d.event_type,
    status: d.status,
    attempts: d.attempts,
    lastStatusCode: d.last_status_code,
    lastError: d.last_error,
    nextAttemptAt: d.next_attempt_at,
    createdAt: d.created_at,
    deliveredAt: d.delivered_at,
    payload: d.payload,
  };
}

function checkUrl(raw: string, egress: EgressPolicy): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ApiError(400, "validation_failed", `url "${raw}" is not an absolute URL`);
  }
  if (u.protocol !== "https:" && u.protocol !== "http:")
    throw new ApiError(400, "validation_failed", "url must be http or https");
  if (u.username || u.password)
    throw new ApiError(
      400,
      "validation_failed",
      "url must not carry credentials: verify the signature instead",
    );
  // An address we would refuse to send to is refused now, where the tenant sees it. Names are checked at each
  // delivery, on the address connected to: what they resolve to may change.
  const refused = refusedHost(egress, u.hostname);
  if (refused) throw new ApiError(400, "validation_failed", `url refused: ${refused}`);
  return u.toString();
}

export default async function webhooks(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const now = deps.now ?? (() => new Date());
  const egress = createEgressPolicy(deps.config.webhookAllowedNetworks);

  async function owned(tenant: string, id: string): Promise<WebhookRow> {
    const w = await getWebhook(deps.db, tenant, id);
    if (!w) throw new ApiError(404, "not_found", `no webhook ${id}`);
    return w;
  }

  app.post<{ Body: { url: string; events?: string[]; description?: string } }>(
    "/webhooks",
    {
      preHandler: requireScope("admin"),
      schema: {
        tags: ["webhooks"],
        summary: "Register an endpoint",
        description:
          "Events are POSTed as JSON, signed in the `Rebound-Signature` header (see docs/webhooks.md). The `secret` " +
          "that verifies them is in this answer only: keep it. The URL must lead to a public address: loopback, private, " +
          "link-local and other internal destinations are refused (400) unless the operator allows their network " +
          "(REBOUND_WEBHOOK_ALLOWED_NETWORKS).",
        body: {
          type: "object",
          required: ["url"],
          additionalProperties: false,
          properties: {
            url: { type: "string", minLength: 1, maxLength: 2048 },
            events: {
              type: "array",
              minItems: 1,
              uniqueItems: true,
              items: { type: "string", enum: [...WEBHOOK_EVENTS] },
              description: "The events to receive; all of them when omitted.",
            },
            description: { type: "string", maxLength: 500 },
          },
        },
        response: {
          201: {
            ...webhookSchema,
            required: [...webhookSchema.required, "secret"],
            properties: { ...webhookSchema.properties, secret: { type: "string" } },
          },
        },
      },
    },
    async (request, reply) => {
      const url = checkUrl(request.body.url, egress);
      const tenant = request.auth.tenant;
      const existing = await listWebhooks(deps.db, tenant);
      if (existing.length >= MAX_WEBHOOKS_PER_TENANT)
        throw new ApiError(
          409,
          "conflict",
          `a tenant may register at most ${MAX_WEBHOOKS_PER_TENANT} webhooks`,
        );
      const secret = generateSecret();
      const w = await insertWebhook(deps.db, {
        id: newWebhookId(),
        tenant,
        url,
        secret,
        events: request.body.events ?? [...WEBHOOK_EVENTS],
        description: request.body.description ?? null,
        now: now(),
      });
      return reply.code(201).send({ ...publicWebhook(w), secret });
    },
  );

  app.get<{ Querystring: { limit: number; cursor?: string } }>(
    "/webhooks",
    {
      preHandler: requireScope("read"),
      schema: {
        tags: ["webhooks"],
        summary: "The tenant's endpoints, oldest first (secrets are never shown again)",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            limit: { type: "integer", minimum: 1, maximum: 100, default: MAX_WEBHOOKS_PER_TENANT },
            cursor: { type: "string", maxLength: 512, description: "`nextCursor` of the previous page" },
          },
        },
        response: {
          200: everyField({
            type: "object",
            additionalProperties: false,
            properties: {
              data: { type: "array", items: webhookSchema },
              nextCursor: { type: ["string", "null"] },
            },
          }),
        },
      },
    },
    async (request) => {
      const { tenant, secret } = request.auth;
      const { limit, cursor } = request.query;
      const filters = { listing: "webhooks" };
      const after = cursor
        ? webhookPosition(decodeCursor(secret, cursor, filters, WEBHOOK_POSITION))
        : undefined;
      const rows = await listWebhooks(deps.db, tenant, { limit: limit + 1, after });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        data: page.map(publicWebhook),
        nextCursor:
          rows.length > limit && last
            ? encodeCursor(secret, `${last.created_at.getTime()}.${last.id}`, filters)
            : null,
      };
    },
  );

  app.get<{ Params: { id: string } }>(
    "/webhooks/:id",
    {
      preHandler: requireScope("read"),
      schema: {
        tags: ["webhooks"],
        summary: "One endpoint",
        params: idParams,
        response: { 200: webhookSchema },
      },
    },
    async (request) => publicWebhook(await owned(request.auth.tenant, request.params.id)),
  );

  app.delete<{ Params: { id: string } }>(
    "/webhooks/:id",
    {
      preHandler: requireScope("admin"),
      schema: {
        tags: ["webhooks"],
        summary: "Delete an endpoint and its delivery log",
        params: idParams,
        response: { 204: { type: "null" } },
      },
    },
    async (request, reply) => {
      if (!(await deleteWebhook(deps.db, request.auth.tenant, request.params.id)))
        throw new ApiError(404, "not_found", `no webhook ${request.params.id}`);
      return reply.code(204).send();
    },
  );

  app.get<{
    Params: { id: string };
    Querystring: { limit: number; cursor?: string; status?: DeliveryStatus };
  }>(
    "/webhooks/:id/deliveries",
    {
      preHandler: requireScope("read"),
      schema: {
        tags: ["webhooks"],
        summary: "The delivery log of an endpoint, newest first",
        params: idParams,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            limit: { type: "integer", minimum: 1, maximum: 500, default: 50 },
            cursor: { type: "string", maxLength: 512, description: "`nextCursor` of the previous page" },
            status: { type: "string", enum: [...DELIVERY_STATUSES] },
          },
        },
        response: {
          200: {
            type: "object",
            required: ["data", "nextCursor"],
            additionalProperties: false,
            properties: {
              data: { type: "array", items: deliverySchema },
              nextCursor: { type: ["string", "null"] },
            },
          },
        },
      },
    },
    async (request) => {
      const { tenant, secret } = request.auth;
      const w = await owned(tenant, request.params.id);
      const { limit, status } = request.query;
      const filters = { listing: "webhook_deliveries", webhook: w.id, status };
      const beforeId = request.query.cursor ? decodeCursor(secret, request.query.cursor, filters) : undefined;
      const rows = await listDeliveries(deps.db, tenant, w.id, { limit: limit + 1, beforeId, status });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        data: page.map(publicDelivery),
        nextCursor: rows.length > limit && last ? encodeCursor(secret, String(last.id), filters) : null,
      };
    },
  );

  app.post<{ Params: { id: string; deliveryId: string } }>(
    "/webhooks/:id/deliveries/:deliveryId/redeliver",
    {
      preHandler: requireScope("write"),
      schema: {
        tags: ["webhooks"],
        summary: "Send a delivery again (a dead one included), with a fresh budget of tries",
        params: {
          type: "object",
          required: ["id", "deliveryId"],
          properties: {
            id: { type: "string", minLength: 1, maxLength: 64 },
            deliveryId: { type: "string", pattern: "^[0-9]{1,18}$" },
          },
        },
        response: { 202: deliverySchema },
      },
    },
    async (request, reply) => {
      const { tenant } = request.auth;
      const w = await owned(tenant, request.params.id);
      const d = await resetDelivery(deps.db, tenant, w.id, request.params.deliveryId, now());
      if (!d)
        throw new ApiError(404, "not_found", `no delivery ${request.params.deliveryId} for webhook ${w.id}`);
      // The worker's poll would find it too; the queue makes it prompt.
      await deps.queue
        ?.add(
          "deliver-webhook",
          { deliveryId: String(d.id) },
          { jobId: `whd-${d.id}-redeliver-${Date.now()}` },
        )
        .catch((err: unknown) =>
          request.log.warn({ err }, "could not enqueue a redelivery; the poll will send it"),
        );
      return reply.code(202).send(publicDelivery(d));
    },
  );
}
