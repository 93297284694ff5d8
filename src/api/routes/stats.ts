// GET /v1/stats: what was sent and what came back, per group (stream, provider, campaign, sending IP) and hour
// or day, with rates and the previous period beside each figure. Read from the smallest rollup table that
// answers (src/store/rollups.ts); how events are counted in them: docs/monitoring.md. GET /v1/stats/suppressions:
// suppressions added and removed per hour or day, from the suppression log.
import type { FastifyInstance } from "fastify";
import { PROVIDERS } from "../../core/provider.js";
import { COUNTERS } from "../../core/rollup.js";
import { STATS_FORMATS, StatsGroupsWriter, writeStatsGroups, type StatsFormat } from "../../core/stats.js";
import { GROUP_BY, packedBuckets, streamBuckets, type GroupBy } from "../../store/rollups.js";
import { suppressionCounts } from "../../store/suppression-stats.js";
import { ascii, JsonBytes } from "../../util/json-bytes.js";
import { requireScope } from "../auth.js";
import type { ApiDeps } from "../deps.js";
import { ApiError } from "../errors.js";
import { everyField } from "../json-schema.js";

interface StatsQuery {
  from?: string;
  to?: string;
  granularity: "hour" | "day";
  groupBy?: string;
  stream?: string;
  provider?: string;
  campaign?: string;
  sendingIp?: string;
  format: StatsFormat;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The longest window asked at once. */
export const MAX_RANGE_DAYS = 400;
/** The most points (groups x buckets) one answer holds. */
export const MAX_POINTS = 50_000;

/** A rate: to 6 significant digits, rounded half up on the exact quotient (docs/monitoring.md, section 4). */
const rate = { type: "number", nullable: true } as const;
const figures = everyField({
  type: "object",
  additionalProperties: false,
  properties: {
    ...(Object.fromEntries(COUNTERS.map((c) => [c, { type: "integer" }])) as Record<
      (typeof COUNTERS)[number],
      { type: "integer" }
    >),
    hardRate: { ...rate, description: "hard / sent, to 6 significant digits (null without sends)" },
    complaintRate: { ...rate, description: "complaint / sent, to 6 significant digits" },
    complaintRateDelivered: { ...rate, description: "complaint / delivered, to 6 significant digits" },
    blockRate: { ...rate, description: "block / sent, to 6 significant digits" },
  },
} as const);

const key = {
  type: "object",
  additionalProperties: false,
  properties: Object.fromEntries(GROUP_BY.map((g) => [g, { type: "string" }])),
} as const;
const answerHead = {
  from: { type: "string", format: "date-time" },
  to: { type: "string", format: "date-time" },
  granularity: { type: "string", enum: ["hour", "day"] },
  groupBy: { type: "array", items: { type: "string", enum: [...GROUP_BY] } },
  previousFrom: {
    type: "string",
    format: "date-time",
    description: "The previous period: [previousFrom, from)",
  },
} as const;
/** `format=points` (the default): an object per point. */
const pointsAnswer = {
  type: "object",
  title: "StatsPoints",
  additionalProperties: false,
  required: ["from", "to", "granularity", "groupBy", "previousFrom", "groups"],
  properties: {
    ...answerHead,
    groups: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["key", "total", "previous", "points"],
        properties: {
          key,
          total: figures,
          previous: figures,
          points: {
            type: "array",
            items: {
              type: "object",
              additionalProperties: false,
              required: ["at", ...figures.required],
              properties: {
                at: { type: "string", format: "date-time" },
                ...figures.properties,
                previous: figures,
              },
            },
          },
        },
      },
    },
  },
} as const;
/** Columns of a series: one array per figure, a point's value at its place. */
const columns = {
  type: "object",
  additionalProperties: false,
  required: Object.keys(figures.properties),
  properties: Object.fromEntries(
    Object.entries(figures.properties).map(([name, f]) => [name, { type: "array", items: f }]),
  ),
} as const;
/** `format=columnar`: a group's points as one array per figure, the previous period's beside them. */
const columnarAnswer = {
  type: "object",
  title: "StatsColumnar",
  additionalProperties: false,
  required: ["from", "to", "granularity", "groupBy", "previousFrom", "format", "groups"],
  properties: {
    ...answerHead,
    format: { type: "string", enum: ["columnar"] },
    groups: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["key", "total", "previous", "series"],
        properties: {
          key,
          total: figures,
          previous: figures,
          series: {
            type: "object",
            additionalProperties: false,
            required: ["at", ...Object.keys(figures.properties), "previous"],
            description:
              "The group's points in columns: `at[i]` is point i's bucket, `sent[i]` its sends, ...; `previous` the " +
              "same figures of the bucket one period earlier",
            properties: {
              at: { type: "array", items: { type: "string", format: "date-time" } },
              ...columns.properties,
              previous: columns,
            },
          },
        },
      },
    },
  },
} as const;

/** A date-time parameter that the schema's format let through but Date cannot read (a leap second): 400. */
function dateParam(name: string, v: string): Date {
  const d = new Date(v);
  if (Number.isNaN(d.getTime()))
    throw new ApiError(400, "validation_failed", `${name} is not a date-time: ${v}`);
  return d;
}

export default async function stats(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const now = deps.now ?? (() => new Date());

  app.get<{ Querystring: StatsQuery }>(
    "/stats",
    {
      preHandler: requireScope("read"),
      schema: {
        tags: ["monitoring"],
        summary:
          "Sends, bounces and complaints with rates, per group and hour or day, beside the previous period",
        description: `From the rollups (hourly, daily and per-dimension tables). \`from\` and \`to\` are rounded out to whole buckets (hours, or UTC days);
default: the last 24 hours. The previous period is the as long one just before \`from\`; each point has the point one
period earlier beside it. \`groupBy\`: a comma-separated list of ${GROUP_BY.join(", ")} (default: none, one group).
Bounces tied to their send (the returned original's Message-ID against \`POST /v1/sends\`) count in the hour of the
send, others in the hour they arrived; unverified bounces count only as \`unverified\` (docs/monitoring.md).
Hourly rows are kept REBOUND_ROLLUP_HOURLY_RETENTION_DAYS, daily ones longer: ask by day for older windows.
\`format=columnar\` gives each group's points as one array per figure (\`series\`) instead of an object per point
(\`points\`): the same figures, about a third of the bytes to send and to parse.`,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            from: { type: "string", format: "date-time" },
            to: { type: "string", format: "date-time" },
            granularity: { type: "string", enum: ["hour", "day"], default: "hour" },
            format: {
              type: "string",
              enum: [...STATS_FORMATS],
              default: "points",
              description:
                "`points`: each group's `points`, an object per bucket. `columnar`: each group's `series` instead, one " +
                "array per figure (`series.sent[i]` is `points[i].sent`, `series.previous.sent[i]` " +
                "`points[i].previous.sent`): the same figures in about a third of the bytes, for large answers",
            },
            groupBy: {
              type: "string",
              pattern: `^(${GROUP_BY.join("|")})(,(${GROUP_BY.join("|")}))*$`,
              description: `Comma-separated: ${GROUP_BY.join(", ")}`,
            },
            stream: { type: "string", maxLength: 20 },
            provider: { type: "string", enum: [...PROVIDERS] },
            campaign: { type: "string", maxLength: 200 },
            sendingIp: { type: "string", maxLength: 45 },
          },
        },
        response: {
          200: { oneOf: [pointsAnswer, columnarAnswer] },
          400: { $ref: "Error#" },
          401: { $ref: "Error#" },
          403: { $ref: "Error#" },
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const unit = q.granularity === "day" ? DAY : HOUR;
      const down = (d: Date) => new Date(Math.floor(d.getTime() / unit) * unit);
      const up = (d: Date) => new Date(Math.ceil(d.getTime() / unit) * unit);
      const to = up(q.to ? dateParam("to", q.to) : now());
      const from = down(q.from ? dateParam("from", q.from) : new Date(to.getTime() - DAY));
      if (from >= to) throw new ApiError(400, "validation_failed", "`from` must be before `to`");
      if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY)
        throw new ApiError(400, "validation_failed", `at most ${MAX_RANGE_DAYS} days at once`);
      const groupBy = q.groupBy ? ([...new Set(q.groupBy.split(","))] as GroupBy[]) : [];
      const previousFrom = new Date(from.getTime() - (to.getTime() - from.getTime()));
      const rollupQuery = {
        tenant: request.auth.tenant,
        from: previousFrom,
        to,
        granularity: q.granularity,
        groupBy,
        filters: {
          stream: q.stream?.toLowerCase(),
          provider: q.provider,
          campaign: q.campaign,
          sendingIp: q.sendingIp,
        },
      };
      const tooLarge = () =>
        new ApiError(
          400,
          "validation_failed",
          `the answer would hold more than ${MAX_POINTS} points: ask for a shorter window, days, fewer groups or a filter`,
        );
      // Written as JSON here rather than by the response schema's serialiser: an answer of 14,400 points made
      // as objects and serialised took most of its time (docs/performance.md). The schema still documents it;
      // test/api/stats.test.ts checks answers against it.
      const out = new JsonBytes(4096);
      out.raw(
        ascii(
          `{"from":"${from.toISOString()}","to":"${to.toISOString()}","granularity":"${q.granularity}",` +
            `"groupBy":${JSON.stringify(groupBy)},"previousFrom":"${previousFrom.toISOString()}",` +
            `${q.format === "columnar" ? '"format":"columnar",' : ""}"groups":`,
        ),
      );
      const writeOptions = { groupBy, names: GROUP_BY, from, to, format: q.format };
      // The buckets' rows read as PostgreSQL sends them, grouped, then each group written (streamBuckets); one
      // more bucket than allowed is asked, to know the answer is too large without reading all of it.
      const head = out.length;
      const writer = new StatsGroupsWriter(out, { ...writeOptions, origin: previousFrom.getTime() });
      let refused = false;
      const streamed = await streamBuckets(
        deps.db,
        rollupQuery,
        MAX_POINTS + 1,
        (values, numbers, index, first, count) => {
          if (!refused) writer.group(values, numbers, first, count, index);
        },
        // Room for the answer at once, without copies: about 250 bytes per bucket as points, 110 as columns
        // (a point holds one or two; the buffer grows if it must).
        (buckets) => {
          refused = buckets > MAX_POINTS;
          if (!refused) out.reserve(buckets * (q.format === "columnar" ? 110 : 260));
        },
      );
      if (streamed === undefined) {
        // The embedded PGlite: the buckets in one row (packedBuckets).
        const buckets = await packedBuckets(deps.db, rollupQuery, MAX_POINTS + 1);
        if (buckets.length > MAX_POINTS) throw tooLarge();
        out.truncate(head);
        writeStatsGroups(out, buckets, writeOptions);
      } else {
        if (streamed > MAX_POINTS) throw tooLarge();
        writer.end();
      }
      out.raw(ascii("}"));
      return reply.type("application/json; charset=utf-8").send(out.bytes());
    },
  );
  app.get<{ Querystring: { from?: string; to?: string; granularity: "hour" | "day" } }>(
    "/stats/suppressions",
    {
      preHandler: requireScope("read"),
      schema: {
        tags: ["monitoring"],
        summary: "Suppressions added and removed per hour or day",
        description: `From the suppression log. \`from\` and \`to\` are rounded out to whole buckets (hours, or UTC
days); default: the last 24 hours (hours) or 30 days (days), at most ${MAX_RANGE_DAYS} days. One point per bucket,
zeros included. \`removed\` counts removals by hand or API, expiries and erasures.`,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            from: { type: "string", format: "date-time" },
            to: { type: "string", format: "date-time" },
            granularity: { type: "string", enum: ["hour", "day"], default: "day" },
          },
        },
        response: {
          200: {
            type: "object",
            additionalProperties: false,
            required: ["points"],
            properties: {
              points: {
                type: "array",
                items: {
                  type: "object",
                  additionalProperties: false,
                  required: ["t", "added", "removed"],
                  properties: {
                    t: { type: "string", format: "date-time", description: "The start of the bucket" },
                    added: { type: "integer" },
                    removed: { type: "integer" },
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
      const q = request.query;
      const unit = q.granularity === "hour" ? HOUR : DAY;
      const to = new Date(Math.ceil((q.to ? dateParam("to", q.to) : now()).getTime() / unit) * unit);
      const fromAsked = q.from
        ? dateParam("from", q.from)
        : new Date(to.getTime() - (unit === DAY ? 30 : 1) * DAY);
      const from = new Date(Math.floor(fromAsked.getTime() / unit) * unit);
      if (from >= to) throw new ApiError(400, "validation_failed", "`from` must be before `to`");
      if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY)
        throw new ApiError(400, "validation_failed", `at most ${MAX_RANGE_DAYS} days at once`);
      const counts = await suppressionCounts(deps.db, {
        tenant: request.auth.tenant,
        from,
        to,
        granularity: q.granularity,
      });
      const byTime = new Map(counts.map((c) => [c.at.getTime(), c]));
      const points = [];
      for (let t = from.getTime(); t < to.getTime(); t += unit) {
        const c = byTime.get(t);
        points.push({ t: new Date(t).toISOString(), added: c?.added ?? 0, removed: c?.removed ?? 0 });
      }
      return { points };
    },
  );
}
