// Suppressions: lookups (one address, or up to 10,000 in order), browsing with filters and cursors, and
// corrections by hand (add, remove), recorded with the key that made them and why.
import type { FastifyInstance } from "fastify";
import { ADDRESS_ERRORS, normalizeAddress } from "../../core/address.js";
import { CLASSES, classOf, KINDS, REASONS, type BounceClass, type Reason } from "../../core/report.js";
import {
  eventsByIds,
  SUPPRESSION_STATES,
  suppressionsPage,
  type SuppressionFilter,
  type SuppressionState,
} from "../../store/lookups.js";
import { removeSuppressions, SUPPRESSION_SOURCES, upsertSuppression } from "../../store/suppressions.js";
import { addressOrThrow } from "../address.js";
import { lookupPause, pauseFor, type ActivePause } from "../../core/alerts/pause.js";
import { providerOf } from "../../core/provider.js";
import { requireScope } from "../auth.js";
import { decodeCursor, encodeCursor } from "../cursor.js";
import type { ApiDeps } from "../deps.js";
import { ApiError } from "../errors.js";
import { everyField } from "../json-schema.js";
import { SUPPRESSION_NOTE_MAX_CHARS } from "../limits.js";
import { applying, governing, present, suppressionSchema } from "../present.js";

export const MAX_CHECK = 10_000;
const PAUSE_SCHEMA = everyField({
  type: ["object", "null"],
  description: "The pause that holds the stream (provider null: every provider), or null",
  properties: {
    provider: { type: ["string", "null"] },
    since: { type: "string", format: "date-time" },
    reason: { type: "string" },
    incidentId: { type: ["string", "null"] },
  },
} as const);

/** The provider of an address's domain, from the table alone (no lookup on this path). */
const providerOfAddress = (address: string) => providerOf(address.slice(address.lastIndexOf("@") + 1));
const STREAM = { type: "string", minLength: 1, maxLength: 100, pattern: "^[A-Za-z0-9._:*-]+$" } as const;
/** An address in the path (percent-encoded): 320 characters at most, the longest normalizeAddress takes. */
const ADDRESS_PARAMS = {
  type: "object",
  required: ["address"],
  properties: { address: { type: "string", minLength: 1, maxLength: 320 } },
} as const;
const errors = {
  400: { $ref: "Error#" },
  401: { $ref: "Error#" },
  403: { $ref: "Error#" },
  429: { $ref: "Error#" },
};

export default async function suppressions(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const now = deps.now ?? (() => new Date());
  const cs = deps.config.caseSensitiveLocalPart;
  const index = app.suppressionIndex;
  const pausesCache = app.pauseCache;
  app.addSchema(suppressionSchema);

  app.get<{ Params: { address: string }; Querystring: { stream?: string } }>(
    "/suppressions/:address",
    {
      preHandler: requireScope("read"),
      schema: {
        tags: ["suppressions"],
        summary: "May I mail this address? Its suppressions in force, and the events that caused them",
        params: ADDRESS_PARAMS,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            stream: {
              ...STREAM,
              description: "The sender's stream; suppressions in it and in `*` apply. Absent: any stream",
            },
          },
        },
        response: {
          200: everyField({
            type: "object",
            properties: {
              address: { type: "string" },
              suppressed: { type: "boolean" },
              stream: { type: ["string", "null"] },
              reason: { type: ["string", "null"], enum: [...REASONS, null] },
              class: { type: ["string", "null"], enum: [...CLASSES, null] },
              since: { type: ["string", "null"], format: "date-time" },
              expiresAt: {
                type: ["string", "null"],
                format: "date-time",
                description: "Null: permanent (or not suppressed)",
              },
              paused: {
                type: "boolean",
                description: "The stream is paused (for every provider, or the address's): wait, do not send",
              },
              pause: PAUSE_SCHEMA,
              suppressions: { type: "array", items: { $ref: "Suppression#" } },
              events: {
                type: "array",
                items: everyField({
                  type: "object",
                  properties: {
                    id: { type: "string" },
                    mailId: { type: ["string", "null"] },
                    stream: { type: "string" },
                    kind: { type: "string", enum: [...KINDS] },
                    reason: { type: "string", enum: [...REASONS] },
                    class: { type: "string", enum: [...CLASSES] },
                    status: { type: ["string", "null"] },
                    smtpCode: { type: ["integer", "null"] },
                    diagnostic: { type: ["string", "null"] },
                    rule: { type: ["string", "null"] },
                    verified: { type: "boolean" },
                    occurredAt: { type: "string", format: "date-time" },
                  },
                }),
              },
            },
          }),
          ...errors,
        },
      },
    },
    (request) => {
      const { address, hash } = addressOrThrow(request.params.address, deps);
      const tenant = request.auth.tenant;
      const stream = request.query.stream;
      // Most addresses asked about are not suppressed: the index rules them out without a query, and the
      // answer goes out without waiting on a promise (the pauses too, from memory while fresh).
      const pauses = stream === undefined ? [] : pausesCache.peek(tenant);
      if (pauses === undefined)
        return pausesCache.get(tenant).then((ps) => lookup(tenant, address, hash, stream, ps));
      return lookup(tenant, address, hash, stream, pauses);
    },
  );

  function lookup(
    tenant: string,
    address: string,
    hash: string,
    stream: string | undefined,
    pauses: readonly ActivePause[],
  ) {
    const pause = stream === undefined ? undefined : pauseFor(pauses, stream, providerOfAddress(address));
    if (!index.mightContain(tenant, hash)) return notSuppressed(address, stream, pause);
    return lookupOne(tenant, address, hash, stream, pause);
  }

  async function lookupOne(
    tenant: string,
    address: string,
    hash: string,
    stream: string | undefined,
    pause: ActivePause | undefined,
  ) {
    const found = applying((await index.lookup(tenant, [hash])).get(hash), stream);
    const top = governing(found);
    const eventIds = [...new Set(found.flatMap((r) => r.event_ids.map(String)))];
    const events = await eventsByIds(deps.db, tenant, eventIds);
    return {
      address,
      suppressed: top !== undefined,
      paused: pause !== undefined,
      pause: pause ? lookupPause(pause) : null,
      stream: stream ?? null,
      reason: top?.reason ?? null,
      class: top?.class ?? null,
      since: top?.first_seen ?? null,
      expiresAt: top?.expires_at ?? null,
      suppressions: found.map(present),
      events: events.map((e) => ({
        id: String(e.id),
        mailId: e.mail_id,
        stream: e.stream,
        kind: e.kind,
        reason: e.reason,
        class: e.class,
        status: e.status,
        smtpCode: e.smtp_code,
        diagnostic: e.diagnostic,
        rule: e.rule,
        verified: e.verified,
        occurredAt: e.occurred_at,
      })),
    };
  }

  app.post<{ Body: { addresses: string[]; stream?: string } }>(
    "/suppressions/check",
    {
      preHandler: requireScope("read"),
      bodyLimit: Math.max(deps.config.apiBodyLimitBytes, MAX_CHECK * 400),
      schema: {
        tags: ["suppressions"],
        summary: `Check up to ${MAX_CHECK} addresses at once; answers in the order asked`,
        description: "An invalid address gets `valid: false` and the reason; it does not fail the request.",
        body: {
          type: "object",
          additionalProperties: false,
          required: ["addresses"],
          properties: {
            addresses: {
              type: "array",
              minItems: 1,
              maxItems: MAX_CHECK,
              items: { type: "string", maxLength: 1000 },
            },
            stream: STREAM,
          },
        },
        response: {
          200: {
            type: "object",
            required: ["results"],
            properties: {
              results: {
                type: "array",
                items: {
                  type: "object",
                  description:
                    "`reason`, `class`, `stream` and `expiresAt` when suppressed; `error` when not valid",
                  required: ["address", "valid", "suppressed", "paused", "pause"],
                  properties: {
                    address: { type: "string", description: "Normalised (or as given, when invalid)" },
                    valid: { type: "boolean" },
                    suppressed: { type: "boolean" },
                    paused: {
                      type: "boolean",
                      description: "The stream is paused for this address's provider",
                    },
                    pause: PAUSE_SCHEMA,
                    reason: { type: "string", enum: [...REASONS] },
                    class: { type: "string", enum: [...CLASSES] },
                    stream: { type: "string", description: "The stream of the suppression that applies" },
                    expiresAt: { type: ["string", "null"], format: "date-time" },
                    error: everyField({
                      type: "object",
                      properties: {
                        code: { type: "string", enum: [...ADDRESS_ERRORS] },
                        message: { type: "string" },
                      },
                    }),
                  },
                },
              },
            },
          },
          ...errors,
        },
      },
    },
    async (request) => {
      const tenant = request.auth.tenant;
      const stream = request.body.stream;
      const norm = request.body.addresses.map((a) => normalizeAddress(a, { caseSensitiveLocalPart: cs }));
      const hashes = norm.map((n) => (n.ok ? deps.hashAddress(n.address) : ""));
      const found = await index.lookup(
        tenant,
        hashes.filter((h) => h !== ""),
      );
      const pauses = stream === undefined ? [] : await pausesCache.get(tenant);
      const results = norm.map((n, i) => {
        if (!n.ok)
          return {
            address: request.body.addresses[i]!,
            valid: false,
            suppressed: false,
            paused: false,
            pause: null,
            error: { code: n.error, message: n.message },
          };
        const pause =
          stream === undefined ? undefined : pauseFor(pauses, stream, providerOfAddress(n.address));
        const paused = { paused: pause !== undefined, pause: pause ? lookupPause(pause) : null };
        const top = governing(applying(found.get(hashes[i]!), stream));
        if (!top) return { address: n.address, valid: true, suppressed: false, ...paused };
        return {
          address: n.address,
          valid: true,
          ...paused,
          suppressed: true,
          reason: top.reason,
          class: top.class,
          stream: top.stream,
          expiresAt: top.expires_at,
        };
      });
      return { results };
    },
  );

  interface ListQuery extends FilterQuery {
    limit: number;
    cursor?: string;
  }
  app.get<{ Querystring: ListQuery }>(
    "/suppressions",
    {
      preHandler: requireScope("read"),
      schema: {
        tags: ["suppressions"],
        summary: "Browse suppressions, newest first, with filters and cursor pagination",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            reason: { type: "string", enum: [...REASONS] },
            class: { type: "string", enum: [...CLASSES] },
            stream: STREAM,
            source: { type: "string", enum: [...SUPPRESSION_SOURCES] },
            since: { type: "string", format: "date-time", description: "Suppressed at or after" },
            until: { type: "string", format: "date-time", description: "Suppressed before" },
            state: { type: "string", enum: [...SUPPRESSION_STATES], default: "active" },
            addressHash: {
              type: "string",
              minLength: 64,
              maxLength: 64,
              pattern: "^[0-9a-f]{64}$",
              description:
                "One address's suppressions by its keyed hash (`addressHash` of an answer or an export): how an " +
                "erased address is found",
            },
            limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
            cursor: { type: "string", maxLength: 500, description: "`nextCursor` of the previous page" },
          },
        },
        response: {
          200: everyField({
            type: "object",
            properties: {
              data: { type: "array", items: { $ref: "Suppression#" } },
              nextCursor: { type: ["string", "null"] },
            },
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { cursor, limit, ...rest } = request.query;
      const filter: SuppressionFilter = filterOf(request.auth.tenant, rest);
      const digestOf = { ...rest, state: rest.state ?? "active" };
      const before = cursor ? decodeCursor(request.auth.secret, cursor, digestOf) : undefined;
      const rows = await suppressionsPage(deps.db, filter, now(), before, limit + 1);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        data: page.map(present),
        nextCursor:
          rows.length > limit && last ? encodeCursor(request.auth.secret, String(last.id), digestOf) : null,
      };
    },
  );

  app.put<{
    Params: { address: string };
    Body: { stream?: string; reason?: Reason; class?: BounceClass; expiresAt?: string; note?: string };
  }>(
    "/suppressions/:address",
    {
      preHandler: requireScope("write"),
      schema: {
        tags: ["suppressions"],
        summary: "Suppress an address by hand",
        description:
          "Adds a suppression (source `manual`), or merges into the one in force: a permanent one is kept over a temporary one. 201 when it is new, 200 otherwise.",
        params: ADDRESS_PARAMS,
        body: {
          type: "object",
          additionalProperties: false,
          properties: {
            stream: { ...STREAM, default: "*", description: "Default `*`: every stream" },
            reason: { type: "string", enum: [...REASONS], default: "suppressed" },
            class: { type: "string", enum: [...CLASSES], description: "Default: the class of the reason" },
            expiresAt: { type: "string", format: "date-time", description: "Absent: permanent" },
            note: { type: "string", maxLength: SUPPRESSION_NOTE_MAX_CHARS },
          },
        },
        response: { 200: { $ref: "Suppression#" }, 201: { $ref: "Suppression#" }, ...errors },
      },
    },
    async (request, reply) => {
      const { address, hash } = addressOrThrow(request.params.address, deps);
      const body = request.body ?? {};
      const at = now();
      const expiresAt = body.expiresAt ? new Date(body.expiresAt) : null;
      if (expiresAt && expiresAt.getTime() <= at.getTime())
        throw new ApiError(400, "validation_failed", "expiresAt must be in the future");
      const reason: Reason = body.reason ?? "suppressed";
      const stream = body.stream ?? "*";
      const tenant = request.auth.tenant;
      const { created } = await deps.db.transaction().execute((tx) =>
        upsertSuppression(tx, {
          tenant,
          stream,
          address,
          addressHash: hash,
          addressOriginal: request.params.address,
          reason,
          class: body.class ?? classOf(reason),
          source: "manual",
          expiresAt,
          note: body.note ?? null,
          actor: request.auth.keyId,
          at,
        }),
      );
      const rows = applying((await index.lookupFresh(tenant, [hash])).get(hash), stream).filter(
        (r) => r.stream === stream,
      );
      const row = rows[0];
      if (!row) throw new ApiError(500, "internal_error", "the suppression was not found after writing it");
      return reply.code(created ? 201 : 200).send(present(row));
    },
  );

  app.delete<{ Params: { address: string }; Querystring: { stream?: string; note?: string } }>(
    "/suppressions/:address",
    {
      preHandler: requireScope("write"),
      schema: {
        tags: ["suppressions"],
        summary: "Remove an address's suppression (recorded with the key and the note)",
        description:
          "An address that bounces hard again is suppressed again. 404 when there was nothing to remove.",
        params: ADDRESS_PARAMS,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            stream: { ...STREAM, description: "Absent: every stream of the address (`*` included)" },
            note: { type: "string", maxLength: SUPPRESSION_NOTE_MAX_CHARS, description: "Why" },
          },
        },
        response: {
          200: everyField({
            type: "object",
            additionalProperties: false,
            properties: {
              address: { type: "string" },
              removed: { type: "array", items: { type: "string" }, description: "The streams removed" },
            },
          }),
          404: { $ref: "Error#" },
          ...errors,
        },
      },
    },
    async (request) => {
      const { address, hash } = addressOrThrow(request.params.address, deps);
      const tenant = request.auth.tenant;
      const at = now();
      const removed = await removeSuppressions(deps.db, {
        tenant,
        stream: request.query.stream,
        address,
        addressHash: hash,
        actor: request.auth.keyId,
        note: request.query.note ?? null,
        at,
      });
      if (removed.length === 0)
        throw new ApiError(
          404,
          "not_found",
          `${address} is not suppressed${request.query.stream ? ` in stream ${request.query.stream}` : ""}`,
        );
      return { address, removed };
    },
  );
}

/** The answer of a single lookup for an address with no suppression in force. */
function notSuppressed(address: string, stream: string | undefined, pause: ActivePause | undefined) {
  return {
    address,
    suppressed: false,
    paused: pause !== undefined,
    pause: pause ? lookupPause(pause) : null,
    stream: stream ?? null,
    reason: null,
    class: null,
    since: null,
    expiresAt: null,
    suppressions: [],
    events: [],
  };
}

/** The filter query parameters shared by the list and the export of suppressions. */
export interface FilterQuery {
  reason?: string;
  class?: string;
  stream?: string;
  source?: string;
  since?: string;
  until?: string;
  state?: SuppressionState;
  addressHash?: string;
}

export function filterOf(tenant: string, q: FilterQuery): SuppressionFilter {
  return {
    tenant,
    reason: q.reason,
    class: q.class,
    stream: q.stream,
    source: q.source,
    since: q.since ? new Date(q.since) : undefined,
    until: q.until ? new Date(q.until) : undefined,
    state: q.state ?? "active",
    addressHash: q.addressHash,
  };
}
