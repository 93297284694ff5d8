// Streams and their pauses: a rule's pause level (the hard-bounce rate at 10%, by default) or a person pauses a
// stream, for one provider or all; lookups then answer `paused` (and the Postfix servers a 4xx), so that senders
// stop a burning campaign without a person in the loop. Resumed by hand, or when the incident resolves
// (`resumeOnResolve` in the alerts file).
import type { FastifyInstance } from "fastify";
import type { Transaction } from "kysely";
import { pausePayload } from "../../alerts/effects.js";
import { presentStream } from "../../alerts/present.js";
import { ACTORS } from "../../core/alerts/types.js";
import { PROVIDERS } from "../../core/provider.js";
import { streamsSeen } from "../../store/alert-figures.js";
import { emitOutbox } from "../../store/outbox.js";
import type { Database } from "../../store/schema.js";
import { activePauses, pauseStream, resumePauses } from "../../store/stream-pauses.js";
import { requireScope } from "../auth.js";
import type { ApiDeps } from "../deps.js";
import { NOTE_MAX_CHARS } from "../limits.js";
import { ApiError, emptyBody } from "../errors.js";
import { everyField } from "../json-schema.js";

const STREAM = { type: "string", minLength: 1, maxLength: 100, pattern: "^[A-Za-z0-9._:-]+$" } as const;
const PARAMS = { type: "object", required: ["stream"], properties: { stream: STREAM } } as const;
/** The body of a pause or resume by hand. */
type ChangeBody = { provider?: string; note?: string };

const errors = {
  400: { $ref: "Error#" },
  401: { $ref: "Error#" },
  403: { $ref: "Error#" },
  404: { $ref: "Error#" },
  429: { $ref: "Error#" },
};

const streamSchema = everyField({
  $id: "Stream",
  type: "object",
  properties: {
    stream: { type: "string" },
    paused: { type: "boolean", description: "Paused for every provider" },
    pauses: {
      type: "array",
      items: everyField({
        type: "object",
        properties: {
          provider: { type: ["string", "null"], description: "null: every provider" },
          since: { type: "string", format: "date-time" },
          reason: { type: "string" },
          incidentId: { type: ["string", "null"] },
          by: { type: "string", enum: [...ACTORS] },
          note: { type: ["string", "null"] },
        },
      }),
    },
  },
} as const);

const NOTE = { type: "string", maxLength: NOTE_MAX_CHARS } as const;
const PROVIDER = { type: "string", enum: [...PROVIDERS] } as const;

/**
 * Pause and resume take the same two fields, each used by both (docs/api.md): `provider` says which pause to make
 * or to lift, `note` is kept on the pause, or sent with `stream.resumed`. What each means differs, so each route
 * has its own body (and its own descriptions in the OpenAPI document).
 */
const pauseBody = {
  type: "object",
  additionalProperties: false,
  properties: {
    provider: { ...PROVIDER, description: "Only mail to this provider; absent: every provider" },
    note: { ...NOTE, description: "Kept on the pause (shown with it) and sent with `stream.paused`" },
  },
} as const;

const resumeBody = {
  type: "object",
  additionalProperties: false,
  properties: {
    provider: {
      ...PROVIDER,
      description: "Lift this provider's pause alone; absent: every pause of the stream (all providers' too)",
    },
    note: { ...NOTE, description: "Why: sent with `stream.resumed` (a resumed pause is no longer shown)" },
  },
} as const;

export default async function streams(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const now = deps.now ?? (() => new Date());
  app.addSchema(streamSchema);

  async function known(tenant: string): Promise<string[]> {
    const seen = await streamsSeen(deps.db, tenant);
    return [...new Set([...deps.config.streams, deps.config.defaultStream, ...seen])];
  }

  app.get(
    "/streams",
    {
      preHandler: requireScope("read"),
      schema: {
        tags: ["streams"],
        summary: "The streams (configured, and seen in sends and events) with their pauses",
        response: {
          200: everyField({
            type: "object",
            properties: { streams: { type: "array", items: { $ref: "Stream#" } } },
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const tenant = request.auth.tenant;
      const pauses = await activePauses(deps.db, tenant);
      const names = [...new Set([...(await known(tenant)), ...pauses.map((p) => p.stream)])].sort();
      return { streams: names.map((s) => presentStream(s, pauses)) };
    },
  );

  app.get<{ Params: { stream: string } }>(
    "/streams/:stream",
    {
      preHandler: requireScope("read"),
      schema: {
        tags: ["streams"],
        summary: "One stream: whether it is paused, for which providers, why and since when",
        params: PARAMS,
        response: { 200: { $ref: "Stream#" }, ...errors },
      },
    },
    async (request) => {
      const tenant = request.auth.tenant;
      const { stream } = request.params;
      const pauses = await activePauses(deps.db, tenant);
      if (!pauses.some((p) => p.stream === stream) && !(await known(tenant)).includes(stream))
        throw new ApiError(
          404,
          "not_found",
          `no stream ${stream}: not configured (REBOUND_STREAMS) nor seen`,
        );
      return presentStream(stream, pauses);
    },
  );

  type Change = { tenant: string; keyId: string; stream: string; at: Date; body: ChangeBody | undefined };

  /**
   * POST /streams/:stream/<action>, by hand with a write key: `change` runs in one transaction (with what it
   * writes to the outbox); the answer is the stream as it then is.
   */
  const byHand = (
    action: "pause" | "resume",
    summary: string,
    body: object,
    change: (trx: Transaction<Database>, c: Change) => Promise<void>,
  ) =>
    app.post<{ Params: { stream: string }; Body: ChangeBody | undefined }>(
      `/streams/:stream/${action}`,
      {
        preHandler: requireScope("write"),
        preValidation: emptyBody,
        schema: {
          tags: ["streams"],
          summary,
          params: PARAMS,
          body,
          response: { 200: { $ref: "Stream#" }, ...errors },
        },
      },
      async (request) => {
        const { tenant, keyId } = request.auth;
        const { stream } = request.params;
        const at = now();
        await deps.db
          .transaction()
          .execute((trx) => change(trx, { tenant, keyId, stream, at, body: request.body }));
        app.pauseCache.invalidate(tenant);
        return presentStream(stream, await activePauses(deps.db, tenant));
      },
    );

  byHand(
    "pause",
    "Pause a stream by hand (for one provider, or all): lookups answer paused, Postfix defers",
    pauseBody,
    async (trx, { tenant, keyId, stream, at, body }) => {
      const p = await pauseStream(trx, {
        tenant,
        stream,
        provider: body?.provider ?? null,
        reason: `paused by hand (key ${keyId})`,
        incidentId: null,
        by: "hand",
        note: body?.note ?? null,
        now: at,
      });
      if (p) await emitOutbox(trx, { tenant, type: "stream.paused", payload: pausePayload(p) });
    },
  );

  byHand(
    "resume",
    "Resume a stream by hand: every pause of it, or the one for `provider`",
    resumeBody,
    async (trx, { tenant, keyId, stream, at, body }) => {
      const resumed = await resumePauses(trx, {
        tenant,
        stream,
        provider: body?.provider,
        by: `key:${keyId}`,
        now: at,
      });
      for (const p of resumed)
        await emitOutbox(trx, {
          tenant,
          type: "stream.resumed",
          payload: { ...pausePayload(p), resumedBy: "hand", note: body?.note ?? null },
        });
    },
  );
}
