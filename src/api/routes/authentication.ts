// GET /v1/authentication: the authentication signal, per sending domain and source IP: messages that failed
// DMARC (aggregate rows with DKIM and SPF both failing alignment) and RFC 6591 authentication failure reports
// (src/store/authentication.ts, which the alert engine reads too).
import type { FastifyInstance } from "fastify";
import { authFailureCounts } from "../../store/authentication.js";
import { requireScope } from "../auth.js";
import type { ApiDeps } from "../deps.js";
import { everyField } from "../json-schema.js";
import { ApiError } from "../errors.js";
import { dateParam, DOMAIN_PARAM, IP_PARAM } from "../report-params.js";

const DAY = 86_400_000;
/** The longest window asked at once. */
const MAX_RANGE_DAYS = 400;

interface Query {
  from?: string;
  to?: string;
  domain?: string;
  sourceIp?: string;
  limit: number;
}

const int = { type: "integer" } as const;

export default async function authentication(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const now = deps.now ?? (() => new Date());
  app.get<{ Querystring: Query }>(
    "/authentication",
    {
      preHandler: requireScope("read"),
      schema: {
        tags: ["reports"],
        summary:
          "Authentication failures per sending domain and source IP (DMARC reports and ARF auth-failure)",
        description:
          "Over [from, to) (default: the last 7 days): `dmarcMessages`, the messages of DMARC aggregate rows whose " +
          "DKIM and SPF both failed alignment (reports whose date range overlaps the period), and `arfReports`, " +
          "the RFC 6591 authentication failure reports that arrived (their Incidents). Largest `total` first. " +
          "These reports never suppress a recipient.",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            from: { type: "string", format: "date-time" },
            to: { type: "string", format: "date-time" },
            domain: DOMAIN_PARAM,
            sourceIp: IP_PARAM,
            limit: { type: "integer", minimum: 1, maximum: 10000, default: 1000 },
          },
        },
        response: {
          200: {
            type: "object",
            required: ["from", "to", "data"],
            additionalProperties: false,
            properties: {
              from: { type: "string", format: "date-time" },
              to: { type: "string", format: "date-time" },
              data: {
                type: "array",
                items: everyField({
                  type: "object",
                  additionalProperties: false,
                  properties: {
                    domain: { type: "string" },
                    sourceIp: { type: ["string", "null"] },
                    total: int,
                    dmarcMessages: int,
                    arfReports: int,
                    dispositions: everyField({
                      type: "object",
                      additionalProperties: false,
                      properties: { none: int, quarantine: int, reject: int },
                    }),
                    failures: { type: "object", additionalProperties: int },
                    reporters: { type: "array", items: { type: "string" } },
                    firstSeen: { type: "string", format: "date-time" },
                    lastSeen: { type: "string", format: "date-time" },
                  },
                }),
              },
            },
          },
        },
      },
    },
    async (request) => {
      const q = request.query;
      const to = dateParam("to", q.to) ?? now();
      const from = dateParam("from", q.from) ?? new Date(to.getTime() - 7 * DAY);
      if (from >= to) throw new ApiError(400, "validation_failed", "from must be before to");
      if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY)
        throw new ApiError(400, "validation_failed", `the period may be at most ${MAX_RANGE_DAYS} days`);
      const rows = await authFailureCounts(deps.db, {
        tenantId: request.auth.tenant,
        from,
        to,
        domain: q.domain,
        sourceIp: q.sourceIp,
        limit: q.limit,
      });
      return {
        from: from.toISOString(),
        to: to.toISOString(),
        data: rows.map((r) => ({
          ...r,
          firstSeen: r.firstSeen.toISOString(),
          lastSeen: r.lastSeen.toISOString(),
        })),
      };
    },
  );
}
