// DMARC aggregate reports received on the bounce domain (src/store/dmarc.ts): their rows (GET /v1/dmarc), message
// counts per source IP, reporting organisation or domain (GET /v1/dmarc/aggregates), the reports themselves with
// the refused ones (GET /v1/dmarc/reports), and a CSV export of the rows (GET /v1/exports/dmarc).
import type { FastifyInstance } from "fastify";
import {
  DMARC_GROUPS,
  DMARC_RESULT_FILTERS,
  dmarcAggregates,
  listDmarcReports,
  listDmarcRows,
  type DmarcFilter,
  type DmarcGroup,
  type DmarcResultFilter,
  type DmarcRow,
} from "../../store/dmarc.js";
import { requireScope } from "../auth.js";
import { csvField } from "../csv.js";
import type { ApiDeps } from "../deps.js";
import { everyField } from "../json-schema.js";
import { csvExportRoute, cursorPage, PAGE_PARAMS, pageSchema, presentReport } from "../report-listing.js";
import { dateParam, DOMAIN_PARAM, IP_PARAM, nullableTime } from "../report-params.js";

interface RowQuery {
  from?: string;
  to?: string;
  domain?: string;
  sourceIp?: string;
  org?: string;
  result?: DmarcResultFilter;
}

const filterProps = {
  from: {
    type: "string",
    format: "date-time",
    description: "rows of reports whose date range ends after this",
  },
  to: {
    type: "string",
    format: "date-time",
    description: "rows of reports whose date range begins before this",
  },
  domain: { ...DOMAIN_PARAM, description: "the header-from domain (or the policy's domain)" },
  sourceIp: IP_PARAM,
  org: {
    type: "string",
    minLength: 1,
    maxLength: 255,
    description: "the reporting organisation (`org_name`)",
  },
  result: {
    type: "string",
    enum: [...DMARC_RESULT_FILTERS],
    description: "`pass`: DKIM or SPF aligned; `fail`: both failed alignment",
  },
} as const;

const str = { type: "string" } as const;
const nstr = { type: ["string", "null"] } as const;
const time = { type: "string", format: "date-time" } as const;

const rowSchema = everyField({
  type: "object",
  additionalProperties: false,
  properties: {
    id: str,
    reportId: str,
    orgName: str,
    domain: { ...str, description: "The domain whose policy the report is about" },
    dateBegin: time,
    dateEnd: time,
    sourceIp: str,
    count: { type: "integer", description: "Messages from this IP with these results" },
    disposition: { ...nstr, description: "What the receiver did: none, quarantine, reject" },
    dkim: { ...nstr, description: "DMARC-aligned DKIM result: pass or fail" },
    spf: { ...nstr, description: "DMARC-aligned SPF result: pass or fail" },
    headerFrom: str,
    envelopeFrom: nstr,
    envelopeTo: nstr,
    reasons: {
      type: "array",
      items: everyField({
        type: "object",
        additionalProperties: false,
        properties: { type: str, comment: nstr },
      }),
    },
    dkimResults: {
      type: "array",
      items: everyField({
        type: "object",
        additionalProperties: false,
        properties: { domain: str, selector: nstr, result: str },
      }),
    },
    spfResults: {
      type: "array",
      items: everyField({
        type: "object",
        additionalProperties: false,
        properties: { domain: str, scope: nstr, result: str },
      }),
    },
  },
} as const);

function filterOf(tenant: string, q: RowQuery): DmarcFilter {
  return {
    tenant,
    from: dateParam("from", q.from),
    to: dateParam("to", q.to),
    domain: q.domain,
    sourceIp: q.sourceIp,
    org: q.org,
    result: q.result,
  };
}

const publicRow = (r: DmarcRow) => ({
  ...r,
  dateBegin: r.dateBegin.toISOString(),
  dateEnd: r.dateEnd.toISOString(),
});

export const DMARC_CSV_COLUMNS = [
  "id",
  "reportId",
  "orgName",
  "domain",
  "dateBegin",
  "dateEnd",
  "sourceIp",
  "count",
  "disposition",
  "dkim",
  "spf",
  "headerFrom",
  "envelopeFrom",
  "envelopeTo",
  "dkimDomains",
  "spfDomains",
] as const;

function csvLine(r: DmarcRow): string {
  const dkimDomains = (r.dkimResults as { domain: string; result: string }[])
    .map((d) => `${d.domain}=${d.result}`)
    .join(" ");
  const spfDomains = (r.spfResults as { domain: string; result: string }[])
    .map((d) => `${d.domain}=${d.result}`)
    .join(" ");
  const p = publicRow(r);
  return (
    [
      p.id,
      p.reportId,
      p.orgName,
      p.domain,
      p.dateBegin,
      p.dateEnd,
      p.sourceIp,
      String(p.count),
      p.disposition,
      p.dkim,
      p.spf,
      p.headerFrom,
      p.envelopeFrom,
      p.envelopeTo,
      dkimDomains,
      spfDomains,
    ]
      .map(csvField)
      .join(",") + "\r\n"
  );
}

/** Rows read per query while an export streams. */
const EXPORT_PAGE = 2000;

export default async function dmarc(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get<{ Querystring: RowQuery & { limit: number; cursor?: string } }>(
    "/dmarc",
    {
      preHandler: requireScope("read"),
      schema: {
        tags: ["reports"],
        summary: "Rows of the DMARC aggregate reports received, newest first",
        description:
          "One row per reporting organisation's record: a source IP, the header-from domain, how many messages, " +
          "the disposition and the DMARC-aligned DKIM and SPF results with the underlying checks. Reports are " +
          "mailed to an address of the bounce domain (`rua=mailto:dmarc@...`, docs/integrations.md).",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { ...filterProps, ...PAGE_PARAMS },
        },
        response: { 200: pageSchema(rowSchema) },
      },
    },
    async (request) => {
      const { limit, cursor, ...q } = request.query;
      return cursorPage(
        {
          secret: request.auth.secret,
          listing: "dmarc",
          filter: filterOf(request.auth.tenant, q),
          limit,
          cursor,
          list: (f) => listDmarcRows(deps.db, f),
        },
        publicRow,
      );
    },
  );

  app.get<{ Querystring: RowQuery & { groupBy: DmarcGroup; limit: number } }>(
    "/dmarc/aggregates",
    {
      preHandler: requireScope("read"),
      schema: {
        tags: ["reports"],
        summary: "DMARC message counts per source IP, reporting organisation or header-from domain",
        description:
          "Sums of the rows that match the filters, most messages first: `passed` (DKIM or SPF aligned), `failed` " +
          "(both failed alignment), `quarantined` and `rejected` (the receivers' dispositions), `reports`.",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            ...filterProps,
            groupBy: { type: "string", enum: [...DMARC_GROUPS], default: "sourceIp" },
            limit: { type: "integer", minimum: 1, maximum: 10000, default: 1000 },
          },
        },
        response: {
          200: {
            type: "object",
            required: ["groupBy", "data"],
            additionalProperties: false,
            properties: {
              groupBy: str,
              data: {
                type: "array",
                items: everyField({
                  type: "object",
                  additionalProperties: false,
                  properties: {
                    key: str,
                    messages: { type: "integer" },
                    passed: { type: "integer" },
                    failed: { type: "integer" },
                    quarantined: { type: "integer" },
                    rejected: { type: "integer" },
                    reports: { type: "integer" },
                  },
                }),
              },
            },
          },
        },
      },
    },
    async (request) => {
      const { groupBy, limit, ...q } = request.query;
      const data = await dmarcAggregates(deps.db, { ...filterOf(request.auth.tenant, q), groupBy, limit });
      return { groupBy, data };
    },
  );

  app.get<{
    Querystring: { from?: string; to?: string; refused?: boolean; limit: number; cursor?: string };
  }>(
    "/dmarc/reports",
    {
      preHandler: requireScope("read"),
      schema: {
        tags: ["reports"],
        summary: "The DMARC aggregate reports received (refused ones with their error), newest first",
        description:
          "A report is stored once per reporting organisation and report id. One that could not be read (an " +
          "archive that inflates past 16 MiB, XML too large or nested too deep, not a report) is listed with " +
          "`error`; its mail is kept (`mailId`) like any other.",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            from: { type: "string", format: "date-time", description: "received at or after" },
            to: { type: "string", format: "date-time", description: "received before" },
            refused: {
              type: "boolean",
              description: "only refused reports (true) or only read ones (false)",
            },
            ...PAGE_PARAMS,
          },
        },
        response: {
          200: pageSchema(
            everyField({
              type: "object",
              additionalProperties: false,
              properties: {
                id: str,
                mailId: nstr,
                source: { ...str, description: "The rule that recognised the attachment" },
                schema: { ...nstr, description: "rfc7489 or rfc9990" },
                orgName: nstr,
                email: nstr,
                reportId: nstr,
                domain: nstr,
                dateBegin: nullableTime,
                dateEnd: nullableTime,
                policy: { type: ["object", "null"], additionalProperties: true },
                records: { type: "integer" },
                messages: { type: "integer" },
                error: nstr,
                receivedAt: time,
              },
            }),
          ),
        },
      },
    },
    async (request) => {
      const { limit, cursor, refused, ...q } = request.query;
      const { tenant, secret } = request.auth;
      return cursorPage(
        {
          secret,
          listing: "dmarc-reports",
          filter: { tenant, from: dateParam("from", q.from), to: dateParam("to", q.to), refused },
          limit,
          cursor,
          list: (f) => listDmarcReports(deps.db, f),
        },
        presentReport,
      );
    },
  );

  csvExportRoute(app, {
    path: "/exports/dmarc",
    summary: "Export the DMARC report rows as CSV (streamed), with the filters of GET /v1/dmarc",
    description: `CSV columns: ${DMARC_CSV_COLUMNS.join(",")}. \`dkimDomains\` and \`spfDomains\`: the checks as \`domain=result\`, space-separated. A cell that a spreadsheet would run as a formula starts with \`'\`.`,
    filterProps,
    filterOf,
    list: (f) => listDmarcRows(deps.db, f),
    filename: "dmarc.csv",
    columns: DMARC_CSV_COLUMNS,
    pageSize: EXPORT_PAGE,
    lines: csvLine,
  });
}
