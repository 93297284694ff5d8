// GET /v1/alerts/blocks: the tenant's blocks (sender-side refusals: blocklists, reputation, authentication) per
// stream, receiving provider and reason over a window, each marked `alerting` when it reaches the threshold
// (REBOUND_BLOCK_ALERT_THRESHOLD, or `threshold` in the query). Blocks never suppress the recipient; this is
// where a provider starting to refuse a stream shows.
import type { FastifyInstance } from "fastify";
import { isProvider, PROVIDERS, type Provider } from "../../core/provider.js";
import { REASONS } from "../../core/vocabulary.js";
import { blockCounts } from "../../store/events.js";
import { requireScope } from "../auth.js";
import type { ApiDeps } from "../deps.js";
import { ApiError } from "../errors.js";
import { DEFAULT_ALERTS } from "../../core/alerts/config.js";
import {
  METRICS,
  RULE_KINDS,
  SCOPE_FIELDS,
  SEVERITIES,
  type ScopeField,
  type Severity,
} from "../../core/alerts/types.js";
import { everyField } from "../json-schema.js";

interface Query {
  since?: string;
  threshold?: number;
  stream?: string;
}

/**
 * The receiving provider a block was counted under: one of PROVIDERS (`other`: a provider outside the list), null
 * for blocks counted before the policy kept the provider (as events' `provider`).
 */
const BLOCK_PROVIDER = {
  type: ["string", "null"],
  enum: [...PROVIDERS, null],
  description: "The receiving provider (null: counted before the provider was kept)",
} as const;

/** A stored provider name in the API's vocabulary: a name no longer in the list is `other`. */
const providerName = (p: string | null): Provider | null => (p === null ? null : isProvider(p) ? p : "other");

const countSchema = everyField({
  type: "object",
  properties: {
    stream: { type: "string" },
    provider: BLOCK_PROVIDER,
    reason: { type: "string", enum: [...REASONS] },
    count: { type: "integer" },
    alerting: { type: "boolean" },
  },
} as const);

const ruleSchema = everyField({
  type: "object",
  properties: {
    id: { type: "string" },
    kind: { type: "string", enum: [...RULE_KINDS] },
    metric: { type: ["string", "null"], enum: [...METRICS, null] },
    scope: {
      type: "object",
      properties: Object.fromEntries(SCOPE_FIELDS.map((f) => [f, { type: "string" }])) as Record<
        ScopeField,
        { type: "string" }
      >,
    },
    windowMinutes: { type: "integer" },
    minVolume: { type: "integer" },
    levels: {
      type: "object",
      properties: Object.fromEntries(SEVERITIES.map((l) => [l, { type: "number" }])) as Record<
        Severity,
        { type: "number" }
      >,
    },
    resolveBelow: { type: ["number", "null"] },
    teams: { type: "array", items: { type: "string" } },
    description: { type: "string" },
    source: { type: "string" },
    example: { type: "string" },
    baselineDays: { type: ["integer", "null"] },
    blocklists: { type: ["array", "null"], items: { type: "string" } },
    statuses: { type: ["array", "null"], items: { type: "string" } },
  },
} as const);

export default async function alerts(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const now = deps.now ?? (() => new Date());
  const rules = (deps.alerts ?? DEFAULT_ALERTS).rules;

  app.get(
    "/alerts/rules",
    {
      preHandler: requireScope("read"),
      schema: {
        tags: ["alerts"],
        summary:
          "The alert rules in effect (shipped defaults and the REBOUND_ALERTS file), with their thresholds",
        description:
          "Rates are fractions (0.001 = 0.1%); spike levels are factors of the baseline; blocklist and " +
          "authentication levels are counts of events. Scope: a field `*` is split per value, a value keeps " +
          "only that value, an absent field sums over every value (docs/monitoring.md).",
        response: {
          200: everyField({ type: "object", properties: { rules: { type: "array", items: ruleSchema } } }),
          401: { $ref: "Error#" },
          403: { $ref: "Error#" },
          429: { $ref: "Error#" },
        },
      },
    },
    async () => ({ rules }),
  );
  app.get<{ Querystring: Query }>(
    "/alerts/blocks",
    {
      preHandler: requireScope("read"),
      schema: {
        tags: ["alerts"],
        summary: "Blocks per stream, receiving provider and reason over a window, with alert marks",
        description:
          "Blocks (reputation, blocklists, authentication, content, rate) do not suppress the recipient; they are " +
          "counted per stream and receiving provider. `blocks` has one row per stream, provider and reason; " +
          "`providers` sums the reasons per stream and provider. A row is `alerting` when its count reaches the " +
          "threshold. Default window: the last REBOUND_BLOCK_ALERT_WINDOW_MINUTES.",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            since: { type: "string", format: "date-time", description: "blocks that occurred at or after" },
            threshold: {
              type: "integer",
              minimum: 1,
              maximum: 1_000_000_000,
              description: "overrides the configured threshold",
            },
            stream: { type: "string", minLength: 1, maxLength: 100 },
          },
        },
        response: {
          200: everyField({
            type: "object",
            properties: {
              since: { type: "string", format: "date-time" },
              until: { type: "string", format: "date-time" },
              threshold: { type: "integer" },
              alerting: { type: "boolean", description: "some stream and provider reached the threshold" },
              providers: {
                type: "array",
                items: everyField({
                  type: "object",
                  properties: {
                    stream: { type: "string" },
                    provider: BLOCK_PROVIDER,
                    count: { type: "integer" },
                    alerting: { type: "boolean" },
                  },
                }),
              },
              blocks: { type: "array", items: countSchema },
            },
          }),
        },
      },
    },
    async (request) => {
      const { tenant } = request.auth;
      const until = now();
      const since = request.query.since
        ? new Date(request.query.since)
        : new Date(until.getTime() - deps.config.blockAlertWindowMinutes * 60_000);
      if (Number.isNaN(since.getTime()))
        throw new ApiError(400, "validation_failed", `since is not a date-time: ${request.query.since}`);
      const threshold = request.query.threshold ?? deps.config.blockAlertThreshold;
      const rows = (await blockCounts(deps.db, { tenant, since })).filter(
        (r) => request.query.stream === undefined || r.stream === request.query.stream,
      );
      const blocks = rows
        .map((r) => ({
          stream: r.stream,
          provider: providerName(r.provider),
          reason: r.reason,
          count: r.count,
          alerting: r.count >= threshold,
        }))
        .sort((a, b) => b.count - a.count || cmp(a, b));
      const sums = new Map<string, { stream: string; provider: Provider | null; count: number }>();
      for (const b of blocks) {
        const k = JSON.stringify([b.stream, b.provider]);
        const s = sums.get(k) ?? { stream: b.stream, provider: b.provider, count: 0 };
        s.count += b.count;
        sums.set(k, s);
      }
      const providers = [...sums.values()]
        .map((s) => ({ ...s, alerting: s.count >= threshold }))
        .sort((a, b) => b.count - a.count || cmp(a, b));
      return {
        since: since.toISOString(),
        until: until.toISOString(),
        threshold,
        alerting: providers.some((p) => p.alerting),
        providers,
        blocks,
      };
    },
  );
}

type Keyed = { stream: string; provider: Provider | null };

function cmp(a: Keyed, b: Keyed): number {
  return a.stream.localeCompare(b.stream) || (a.provider ?? "").localeCompare(b.provider ?? "");
}
