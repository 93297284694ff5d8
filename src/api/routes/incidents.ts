// Incidents: what the alert rules found (docs/monitoring.md), newest first, with their evidence and history;
// acknowledged and resolved by hand. The rules in effect are at GET /v1/alerts/rules.
import type { FastifyInstance } from "fastify";
import { createAlertDispatcher } from "../../alerts/dispatch.js";
import { incidentEffects } from "../../alerts/effects.js";
import { presentIncident } from "../../alerts/present.js";
import { DEFAULT_ALERTS } from "../../core/alerts/config.js";
import { PROVIDERS, type Provider } from "../../core/provider.js";
import {
  CHANNELS,
  HISTORY_TYPES,
  INCIDENT_STATUSES,
  RULE_KINDS,
  SEVERITIES,
  type Severity,
} from "../../core/alerts/types.js";
import {
  acknowledgeIncident,
  getIncident,
  incidentHistory,
  incidentsPage,
  resolveIncidentByHand,
  type StatusFilter,
} from "../../store/incidents.js";
import { requireScope } from "../auth.js";
import { decodeCursor, encodeCursor } from "../cursor.js";
import type { ApiDeps } from "../deps.js";
import { NOTE_MAX_CHARS } from "../limits.js";
import { ApiError, emptyBody } from "../errors.js";
import { everyField } from "../json-schema.js";

const NAME = { type: "string", minLength: 1, maxLength: 200 } as const;
const ID_PARAMS = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "string", minLength: 1, maxLength: 40 } },
} as const;
const errors = {
  400: { $ref: "Error#" },
  401: { $ref: "Error#" },
  403: { $ref: "Error#" },
  404: { $ref: "Error#" },
  429: { $ref: "Error#" },
};
const nullableString = { type: ["string", "null"] } as const;
/** A recipient provider (the closed list of src/core/provider.ts). */
const PROVIDER = { type: "string", enum: [...PROVIDERS] } as const;
const nullableTime = { type: ["string", "null"], format: "date-time" } as const;

export const incidentSchema = everyField({
  $id: "Incident",
  type: "object",
  properties: {
    id: { type: "string" },
    ruleId: { type: "string" },
    kind: { type: "string", enum: [...RULE_KINDS] },
    severity: { type: "string", enum: [...SEVERITIES] },
    status: { type: "string", enum: [...INCIDENT_STATUSES] },
    scope: everyField({
      type: "object",
      properties: {
        stream: nullableString,
        provider: {
          type: ["string", "null"],
          enum: [...PROVIDERS, null],
          description: "The recipients' provider (one of the closed list); null: every provider",
        },
        campaign: nullableString,
        sendingIp: nullableString,
        sendingDomain: nullableString,
      },
    }),
    metric: nullableString,
    value: { type: ["number", "null"] },
    threshold: { type: ["number", "null"] },
    openedAt: { type: "string", format: "date-time" },
    updatedAt: { type: "string", format: "date-time" },
    acknowledgedAt: nullableTime,
    acknowledgedBy: nullableString,
    resolvedAt: nullableTime,
    resolvedBy: { type: ["string", "null"], enum: ["rule", "hand", null] },
    teams: { type: "array", items: { type: "string" } },
    summary: { type: "string" },
    evidence: everyField({
      type: "object",
      properties: {
        figures: { type: "object", additionalProperties: { type: ["number", "null"] } },
        topReasons: {
          type: "array",
          items: everyField({
            type: "object",
            properties: { reason: { type: "string" }, rule: nullableString, count: { type: "integer" } },
          }),
        },
        samples: {
          type: "array",
          items: everyField({
            type: "object",
            properties: {
              eventId: { type: "string" },
              recipient: { type: "string" },
              reason: { type: "string" },
              rule: nullableString,
              diagnostic: nullableString,
              occurredAt: { type: "string", format: "date-time" },
            },
          }),
        },
        blocklists: { type: "array", items: { type: "string" } },
      },
    }),
    history: {
      type: "array",
      items: {
        type: "object",
        required: ["at", "type"],
        properties: {
          at: { type: "string", format: "date-time" },
          type: { type: "string", enum: [...HISTORY_TYPES] },
          severity: { type: "string", enum: [...SEVERITIES] },
          route: { type: "string" },
          channel: { type: "string", enum: [...CHANNELS] },
          note: { type: "string" },
          by: { type: "string" },
          value: { type: "number", description: "the figure at that moment (opened, escalated, updated)" },
        },
      },
    },
  },
} as const);

interface ListQuery {
  status?: StatusFilter;
  severity?: Severity;
  ruleId?: string;
  stream?: string;
  provider?: Provider;
  sendingIp?: string;
  sendingDomain?: string;
  limit: number;
  cursor?: string;
}

export default async function incidents(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const now = deps.now ?? (() => new Date());
  const alerts = deps.alerts ?? DEFAULT_ALERTS;
  app.addSchema(incidentSchema);
  // The notifications of an acknowledgement or a resolution by hand are sent from here as soon as it commits
  // (the worker retries those that fail); the response does not wait for them.
  const dispatcher = createAlertDispatcher({ db: deps.db, alerts, logger: deps.logger, now });
  app.addHook("onClose", async () => dispatcher.close());

  app.get<{ Querystring: ListQuery }>(
    "/incidents",
    {
      preHandler: requireScope("read"),
      schema: {
        tags: ["incidents"],
        summary: "Incidents the alert rules opened, newest first, with filters and cursor pagination",
        description:
          "`status=active`: open or acknowledged. Each has its evidence; its history is at GET /v1/incidents/{id}.",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            status: { type: "string", enum: [...INCIDENT_STATUSES, "active"] },
            severity: { type: "string", enum: [...SEVERITIES] },
            ruleId: NAME,
            stream: NAME,
            provider: { ...PROVIDER, description: "Only incidents of this recipient provider" },
            sendingIp: { ...NAME, maxLength: 64 },
            sendingDomain: { ...NAME, maxLength: 253, description: "the sending domain (lower case)" },
            limit: { type: "integer", minimum: 1, maximum: 500, default: 50 },
            cursor: { type: "string", maxLength: 512, description: "`nextCursor` of the previous page" },
          },
        },
        response: {
          200: {
            type: "object",
            required: ["incidents", "nextCursor"],
            properties: {
              incidents: { type: "array", items: { $ref: "Incident#" } },
              nextCursor: { type: ["string", "null"] },
            },
          },
          ...errors,
        },
      },
    },
    async (request) => {
      const { tenant, secret } = request.auth;
      const q = request.query;
      const filters = {
        listing: "incidents",
        status: q.status,
        severity: q.severity,
        ruleId: q.ruleId,
        stream: q.stream,
        provider: q.provider,
        sendingIp: q.sendingIp,
        sendingDomain: q.sendingDomain,
      };
      const afterId = q.cursor ? decodeCursor(secret, q.cursor, filters) : undefined;
      if (afterId !== undefined && !/^\d{1,18}$/.test(afterId))
        throw new ApiError(400, "invalid_cursor", "the cursor is invalid: not an incident's");
      const rows = await incidentsPage(
        deps.db,
        {
          tenant,
          status: q.status,
          severity: q.severity,
          ruleId: q.ruleId,
          stream: q.stream,
          provider: q.provider,
          sendingIp: q.sendingIp,
          sendingDomain: q.sendingDomain,
        },
        { limit: q.limit + 1, afterId },
      );
      const page = rows.slice(0, q.limit);
      const last = page[page.length - 1];
      return {
        incidents: page.map((r) => presentIncident(r)),
        nextCursor: rows.length > q.limit && last ? encodeCursor(secret, String(last.id), filters) : null,
      };
    },
  );

  app.get<{ Params: { id: string } }>(
    "/incidents/:id",
    {
      preHandler: requireScope("read"),
      schema: {
        tags: ["incidents"],
        summary: "One incident with its evidence (figures, top reasons, sample events) and its history",
        params: ID_PARAMS,
        response: { 200: { $ref: "Incident#" }, ...errors },
      },
    },
    async (request) => {
      const row = await getIncident(deps.db, request.auth.tenant, request.params.id);
      if (!row) throw notFound(request.params.id);
      return presentIncident(row, await incidentHistory(deps.db, String(row.id)));
    },
  );

  const noteBody = {
    type: "object",
    additionalProperties: false,
    properties: { note: { type: "string", maxLength: NOTE_MAX_CHARS } },
  } as const;

  for (const action of ["acknowledge", "resolve"] as const) {
    app.post<{ Params: { id: string }; Body: { note?: string } | undefined }>(
      `/incidents/:id/${action}`,
      {
        preHandler: requireScope("write"),
        preValidation: emptyBody,
        schema: {
          tags: ["incidents"],
          summary:
            action === "acknowledge"
              ? "Acknowledge an open incident: someone is on it (stops its escalation)"
              : "Resolve an incident by hand (its rule does not reopen it for one window)",
          params: ID_PARAMS,
          body: noteBody,
          response: { 200: { $ref: "Incident#" }, 409: { $ref: "Error#" }, ...errors },
        },
      },
      async (request) => {
        const { tenant, keyId } = request.auth;
        const id = request.params.id;
        const at = now();
        const note = request.body?.note ?? null;
        const by = `key:${keyId}`;
        let queued: string[] = [];
        const row = await deps.db.transaction().execute(async (trx) => {
          const changed =
            action === "acknowledge"
              ? await acknowledgeIncident(trx, { tenant, id, by, note, now: at })
              : await resolveIncidentByHand(trx, { tenant, id, by, note, now: at });
          if (changed)
            queued = await incidentEffects(
              trx,
              alerts,
              {
                notice: action === "acknowledge" ? "acknowledged" : "resolved",
                incident: changed,
                by: "hand",
              },
              at,
            );
          return changed;
        });
        dispatcher.deliverSoon(queued);
        if (!row) {
          const existing = await getIncident(deps.db, tenant, id);
          if (!existing) throw notFound(id);
          throw new ApiError(
            409,
            "conflict",
            `incident ${id} is ${existing.status}: it cannot be ${action}d`,
          );
        }
        return presentIncident(row, await incidentHistory(deps.db, String(row.id)));
      },
    );
  }
}

const notFound = (id: string) => new ApiError(404, "not_found", `no incident ${id}`);
