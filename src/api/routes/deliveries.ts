// POST /v1/deliveries: a mailer reports successful deliveries. Each is recorded as a `delivered` event (source
// `api`) and, under the policy, resets the address's soft-bounce counts in its stream.
import type { FastifyInstance } from "fastify";
import { countRollups } from "../../metrics.js";
import { normalizeAddress } from "../../core/address.js";
import type { Policy } from "../../core/policy-config.js";
import { ACTIONS } from "../../core/policy.js";
import { VERP_NAME } from "../../core/verp.js";
import { loadPolicy } from "../../policy-file.js";
import { recordDelivery } from "../../worker/record-delivery.js";
import { requireScope } from "../auth.js";
import type { ApiDeps } from "../deps.js";
import { ApiError } from "../errors.js";
import { everyField } from "../json-schema.js";

export const MAX_DELIVERIES_PER_REQUEST = 1_000;
/** Deliveries written at once (one transaction each; each locks one address's state row only). */
const CONCURRENCY = 4;
/** A delivery reported from the future (clock skew aside) is refused. */
const MAX_SKEW_MS = 5 * 60_000;

interface DeliveryInput {
  recipient: string;
  stream?: string;
  occurredAt?: string;
}

interface Body extends Partial<DeliveryInput> {
  deliveries?: DeliveryInput[];
}

interface Valid {
  index: number;
  address: string;
  original: string;
  stream: string;
  occurredAt: Date;
}

type RowError = {
  index: number;
  ok: false;
  error: { code: "invalid_address" | "validation_failed"; message: string };
};
type RowDone = {
  index: number;
  ok: true;
  recipient: string;
  stream: string;
  eventId: string;
  action: string;
};

const itemProperties = {
  recipient: { type: "string", minLength: 1, maxLength: 320, description: "The recipient the mail reached" },
  stream: {
    type: "string",
    minLength: 1,
    maxLength: 100,
    description: "The sender's stream (default: the deployment's default stream)",
  },
  occurredAt: {
    type: "string",
    format: "date-time",
    description: "When the delivery happened (default: now)",
  },
} as const;

/** A delivery recorded (`ok: true`). */
const rowDoneSchema = everyField({
  type: "object",
  additionalProperties: false,
  properties: {
    index: { type: "integer" },
    ok: { type: "boolean", enum: [true] },
    recipient: { type: "string" },
    stream: { type: "string" },
    eventId: { type: "string" },
    action: {
      type: "string",
      enum: [...ACTIONS],
      description: "What the policy did: `reset` (soft-bounce counts reset)",
    },
  },
});

/** A delivery refused (`ok: false`); the other rows are kept. */
const rowErrorSchema = everyField({
  type: "object",
  additionalProperties: false,
  properties: {
    index: { type: "integer" },
    ok: { type: "boolean", enum: [false] },
    error: everyField({
      type: "object",
      additionalProperties: false,
      properties: {
        code: { type: "string", enum: ["invalid_address", "validation_failed"] },
        message: { type: "string" },
      },
    }),
  },
});

export default async function deliveries(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const now = deps.now ?? (() => new Date());
  let policy: Policy | undefined;
  const getPolicy = () => (policy ??= loadPolicy(deps.config));

  function validate(item: DeliveryInput, index: number, at: Date): Valid | RowError {
    const n = normalizeAddress(item.recipient ?? "", {
      caseSensitiveLocalPart: deps.config.caseSensitiveLocalPart,
    });
    if (!n.ok)
      return {
        index,
        ok: false,
        error: { code: "invalid_address", message: `invalid address: ${n.message}` },
      };
    const stream = (item.stream ?? deps.config.defaultStream).trim().toLowerCase();
    if (!VERP_NAME.test(stream))
      return {
        index,
        ok: false,
        error: {
          code: "validation_failed",
          message: `stream "${item.stream}" must be 1-20 letters, digits, "_" or "-"`,
        },
      };
    let occurredAt = at;
    if (item.occurredAt !== undefined) {
      occurredAt = new Date(item.occurredAt);
      if (Number.isNaN(occurredAt.getTime()))
        return {
          index,
          ok: false,
          error: { code: "validation_failed", message: "occurredAt is not a date-time" },
        };
      if (occurredAt.getTime() > at.getTime() + MAX_SKEW_MS)
        return {
          index,
          ok: false,
          error: { code: "validation_failed", message: "occurredAt is in the future" },
        };
    }
    return {
      index,
      address: n.address,
      original: item.recipient.trim(),
      stream,
      occurredAt,
    };
  }

  app.post<{ Body: Body }>(
    "/deliveries",
    {
      preHandler: requireScope("write"),
      schema: {
        tags: ["deliveries"],
        summary: "Report successful deliveries (resets soft-bounce counts)",
        description:
          "Either one delivery (`recipient`, `stream`, `occurredAt`) or a batch in `deliveries` (up to 1,000). " +
          "In a batch an invalid row is reported in `results` and the valid rows are kept.",
        body: {
          type: "object",
          additionalProperties: false,
          properties: {
            ...itemProperties,
            deliveries: {
              type: "array",
              minItems: 1,
              maxItems: MAX_DELIVERIES_PER_REQUEST,
              items: {
                type: "object",
                required: ["recipient"],
                additionalProperties: false,
                properties: itemProperties,
              },
            },
          },
        },
        response: {
          200: everyField({
            type: "object",
            additionalProperties: false,
            properties: {
              accepted: { type: "integer" },
              rejected: { type: "integer" },
              results: {
                type: "array",
                description: "One per delivery, in order: the recorded event, or the row's error",
                items: { anyOf: [rowDoneSchema, rowErrorSchema] },
              },
            },
          }),
        },
      },
    },
    async (request) => {
      const body = request.body ?? {};
      const single =
        body.recipient !== undefined || body.stream !== undefined || body.occurredAt !== undefined;
      if (single === (body.deliveries !== undefined))
        throw new ApiError(
          400,
          "validation_failed",
          "send either `recipient` (one delivery) or `deliveries` (a batch)",
        );
      if (single && body.recipient === undefined)
        throw new ApiError(400, "validation_failed", "`recipient` is required");
      const items: DeliveryInput[] = single ? [body as DeliveryInput] : body.deliveries!;
      const at = now();
      const checked = items.map((item, i) => validate(item, i, at));
      if (single) {
        const only = checked[0]!;
        if ("ok" in only) throw new ApiError(400, only.error.code, only.error.message);
      }
      const valid = checked.filter((c): c is Valid => !("ok" in c));
      const done = await record(
        {
          db: deps.db,
          policy: getPolicy(),
          hashAddress: deps.hashAddress,
          now: () => at,
          counted: deps.metrics ? (incs) => countRollups(deps.metrics!, incs) : undefined,
        },
        request.auth.tenant,
        valid,
        deps.config.caseSensitiveLocalPart,
      );
      const results = checked.map((c) => ("ok" in c ? c : done.get(c.index)!));
      return { accepted: valid.length, rejected: checked.length - valid.length, results };
    },
  );
}

/** Record each delivery (one transaction each, through the worker's own event path), a few at a time. */
async function record(
  deps: Parameters<typeof recordDelivery>[0],
  tenant: string,
  rows: Valid[],
  caseSensitiveLocalPart: boolean,
): Promise<Map<number, RowDone>> {
  const done = new Map<number, RowDone>();
  let next = 0;
  const lane = async () => {
    while (next < rows.length) {
      const r = rows[next++]!;
      const { eventId, decision } = await recordDelivery(deps, {
        tenant,
        stream: r.stream,
        address: r.original,
        occurredAt: r.occurredAt,
        source: "api",
        caseSensitiveLocalPart,
      });
      done.set(r.index, {
        index: r.index,
        ok: true,
        recipient: r.address,
        stream: r.stream,
        eventId: String(eventId),
        action: decision.action,
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, rows.length) }, lane));
  return done;
}
