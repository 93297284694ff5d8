// POST /v1/deliveries: a mailer reports successful deliveries. Each is recorded as a `delivered` event (source
// `api`) and, under the policy, resets the address's soft-bounce counts in its stream.
import type { FastifyInstance } from "fastify";
import { hashAddress, normalizeAddress } from "../../core/address.js";
import { decide, type Decision } from "../../core/policy.js";
import type { Policy } from "../../core/policy-config.js";
import { VERP_NAME } from "../../core/verp.js";
import { loadPolicy } from "../../policy-file.js";
import { lockHistory, saveAddressState } from "../../store/address-state.js";
import type { Db } from "../../store/db.js";
import { insertEvent } from "../../store/events.js";
import { requireScope } from "../auth.js";
import type { ApiDeps } from "../deps.js";
import { ApiError } from "../errors.js";

export const MAX_DELIVERIES_PER_REQUEST = 10_000;
/** Rows written per transaction. */
const CHUNK = 200;
/** A delivery reported from the future (clock skew aside) is refused. */
const MAX_SKEW_MS = 5 * 60_000;

interface DeliveryInput {
  address: string;
  stream?: string;
  occurred_at?: string;
}

interface Body extends Partial<DeliveryInput> {
  deliveries?: DeliveryInput[];
}

interface Valid {
  index: number;
  address: string;
  original: string;
  hash: string;
  domain: string;
  stream: string;
  occurredAt: Date;
}

type RowError = {
  index: number;
  ok: false;
  error: { code: "invalid_address" | "validation_failed"; message: string };
};
type RowDone = { index: number; ok: true; address: string; stream: string; event_id: string; action: string };

const itemProperties = {
  address: { type: "string", maxLength: 400 },
  stream: {
    type: "string",
    maxLength: 100,
    description: "The sender's stream (default: the deployment's default stream)",
  },
  occurred_at: {
    type: "string",
    format: "date-time",
    description: "When the delivery happened (default: now)",
  },
} as const;

export default async function deliveries(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const now = deps.now ?? (() => new Date());
  let policy: Policy | undefined;
  const getPolicy = () => (policy ??= loadPolicy(deps.config));

  function validate(item: DeliveryInput, index: number, at: Date): Valid | RowError {
    const n = normalizeAddress(item.address ?? "", {
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
    if (item.occurred_at !== undefined) {
      occurredAt = new Date(item.occurred_at);
      if (Number.isNaN(occurredAt.getTime()))
        return {
          index,
          ok: false,
          error: { code: "validation_failed", message: "occurred_at is not a date-time" },
        };
      if (occurredAt.getTime() > at.getTime() + MAX_SKEW_MS)
        return {
          index,
          ok: false,
          error: { code: "validation_failed", message: "occurred_at is in the future" },
        };
    }
    return {
      index,
      address: n.address,
      original: item.address.trim(),
      hash: hashAddress(n.address),
      domain: n.domain,
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
          "Either one delivery (`address`, `stream`, `occurred_at`) or a batch in `deliveries` (up to 10,000). " +
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
                required: ["address"],
                additionalProperties: false,
                properties: itemProperties,
              },
            },
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              accepted: { type: "integer" },
              rejected: { type: "integer" },
              results: {
                type: "array",
                items: {
                  type: "object",
                  properties: {
                    index: { type: "integer" },
                    ok: { type: "boolean" },
                    address: { type: "string" },
                    stream: { type: "string" },
                    event_id: { type: "string" },
                    action: {
                      type: "string",
                      description: "`reset` (counts reset) or `record` (recorded only: an older delivery)",
                    },
                    error: {
                      type: "object",
                      properties: { code: { type: "string" }, message: { type: "string" } },
                    },
                  },
                },
              },
            },
          },
          400: { $ref: "Error#" },
          401: { $ref: "Error#" },
          403: { $ref: "Error#" },
        },
      },
    },
    async (request) => {
      const body = request.body ?? {};
      const single =
        body.address !== undefined || body.stream !== undefined || body.occurred_at !== undefined;
      if (single === (body.deliveries !== undefined))
        throw new ApiError(
          400,
          "validation_failed",
          "send either `address` (one delivery) or `deliveries` (a batch)",
        );
      if (single && body.address === undefined)
        throw new ApiError(400, "validation_failed", "`address` is required");
      const items: DeliveryInput[] = single ? [body as DeliveryInput] : body.deliveries!;
      const at = now();
      const checked = items.map((item, i) => validate(item, i, at));
      if (single) {
        const only = checked[0]!;
        if ("ok" in only) throw new ApiError(400, only.error.code, only.error.message);
      }
      const valid = checked.filter((c): c is Valid => !("ok" in c));
      const done = await record(deps.db, request.auth.tenant, valid, getPolicy(), at);
      const results = checked.map((c) => ("ok" in c ? c : done.get(c.index)!));
      return { accepted: valid.length, rejected: checked.length - valid.length, results };
    },
  );
}

/** Write the deliveries, `CHUNK` per transaction, in (stream, address) order so concurrent batches never deadlock. */
async function record(
  db: Db,
  tenant: string,
  rows: Valid[],
  policy: Policy,
  at: Date,
): Promise<Map<number, RowDone>> {
  const done = new Map<number, RowDone>();
  const sorted = [...rows].sort((a, b) =>
    a.stream === b.stream ? cmp(a.hash, b.hash) : cmp(a.stream, b.stream),
  );
  for (let i = 0; i < sorted.length; i += CHUNK) {
    await db.transaction().execute(async (trx) => {
      for (const r of sorted.slice(i, i + CHUNK)) {
        const key = { tenant, stream: r.stream, addressHash: r.hash };
        const history = await lockHistory(trx, key, r.occurredAt, 0);
        let decision: Decision = decide(
          {
            class: "delivered",
            reason: "delivered",
            stream: r.stream,
            verification: "verified",
            recipientDomain: r.domain,
            occurredAt: r.occurredAt,
          },
          history,
          policy,
          at,
        );
        // A delivery older than the last reset (or than a later soft bounce's escalation) changes nothing.
        const stale =
          (history.softResetAt && history.softResetAt > r.occurredAt) ||
          (history.lastDeliveryAt && history.lastDeliveryAt >= r.occurredAt);
        if (stale)
          decision = {
            action: "record",
            rule: "api.delivery.stale",
            why: "an earlier delivery than the state already knows: recorded only",
          };
        else if (decision.state) await saveAddressState(trx, key, decision.state, at);
        const eventId = await insertEvent(trx, {
          mailId: null,
          source: "api",
          tenant,
          stream: r.stream,
          address: r.address,
          addressHash: r.hash,
          addressOriginal: r.original,
          recipientDomain: r.domain,
          kind: "delivery",
          reason: "delivered",
          class: "delivered",
          rule: "api.delivery",
          verified: true,
          decision: { action: decision.action, rule: decision.rule, why: decision.why },
          occurredAt: r.occurredAt,
        });
        done.set(r.index, {
          index: r.index,
          ok: true,
          address: r.address,
          stream: r.stream,
          event_id: String(eventId),
          action: decision.action,
        });
      }
    });
  }
  return done;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
