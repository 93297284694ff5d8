// SMTP TLS reports received on the bounce domain (src/store/tls-reports.ts): GET /v1/tls-reports, and a CSV export
// with one line per policy (GET /v1/exports/tls-reports).
import type { FastifyInstance } from "fastify";
import { listTlsReports, type TlsFilter, type TlsReportRow } from "../../store/tls-reports.js";
import { requireScope } from "../auth.js";
import { csvField } from "../csv.js";
import type { ApiDeps } from "../deps.js";
import { everyField } from "../json-schema.js";
import { csvExportRoute, cursorPage, PAGE_PARAMS, pageSchema, presentReport } from "../report-listing.js";
import { dateParam, DOMAIN_PARAM, nullableTime } from "../report-params.js";

interface Query {
  from?: string;
  to?: string;
  domain?: string;
  failed?: boolean;
}

const filterProps = {
  from: { type: "string", format: "date-time", description: "reports whose date range ends after this" },
  to: { type: "string", format: "date-time", description: "reports whose date range begins before this" },
  domain: { ...DOMAIN_PARAM, description: "a policy domain the report speaks of" },
  failed: { type: "boolean", description: "only reports with failed sessions (true), or without (false)" },
} as const;

const str = { type: "string" } as const;
const nstr = { type: ["string", "null"] } as const;
const int = { type: "integer" } as const;

const policySchema = everyField({
  type: "object",
  additionalProperties: false,
  properties: {
    policyType: { ...str, description: "sts, tlsa or no-policy-found" },
    policyDomain: str,
    mxHosts: { type: "array", items: str },
    successful: int,
    failed: int,
    failures: {
      type: "array",
      items: everyField({
        type: "object",
        additionalProperties: false,
        properties: {
          resultType: {
            ...str,
            description: "RFC 8460 result type: certificate-expired, starttls-not-supported, ...",
          },
          sendingMtaIp: nstr,
          receivingMxHostname: nstr,
          receivingIp: nstr,
          failedSessionCount: int,
          failureReasonCode: nstr,
        },
      }),
    },
  },
} as const);

function filterOf(tenant: string, q: Query): Omit<TlsFilter, "limit"> {
  return {
    tenant,
    from: dateParam("from", q.from),
    to: dateParam("to", q.to),
    domain: q.domain,
    failed: q.failed,
  };
}

export const TLS_CSV_COLUMNS = [
  "id",
  "orgName",
  "reportId",
  "dateBegin",
  "dateEnd",
  "policyType",
  "policyDomain",
  "mxHosts",
  "successful",
  "failed",
  "failures",
  "error",
] as const;

function csvLines(r: TlsReportRow): string {
  const p = presentReport(r);
  const line = (cells: (string | null)[]) => cells.map(csvField).join(",") + "\r\n";
  const head = [p.id, p.orgName, p.reportId, p.dateBegin, p.dateEnd];
  if (!p.policies.length) return line([...head, null, null, null, "0", "0", null, p.error]);
  return p.policies
    .map((pol) =>
      line([
        ...head,
        pol.policyType,
        pol.policyDomain,
        pol.mxHosts.join(" "),
        String(pol.successful),
        String(pol.failed),
        pol.failures.map((f) => `${f.resultType}=${f.failedSessionCount}`).join(" "),
        p.error,
      ]),
    )
    .join("");
}

const EXPORT_PAGE = 500;

export default async function tlsReports(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get<{ Querystring: Query & { limit: number; cursor?: string } }>(
    "/tls-reports",
    {
      preHandler: requireScope("read"),
      schema: {
        tags: ["reports"],
        summary: "The SMTP TLS reports (RFC 8460) received, newest first",
        description:
          "What sending MTAs report of their TLS sessions to your MX hosts, per policy (MTA-STS, DANE or none): " +
          "successful and failed sessions, and the failures by type. Reports are mailed to an address of the bounce " +
          "domain (`_smtp._tls` TXT record `rua=mailto:tlsrpt@...`, docs/integrations.md). A refused report " +
          "(an archive that inflates past 16 MiB, not a report) is listed with `error`.",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { ...filterProps, ...PAGE_PARAMS },
        },
        response: {
          200: pageSchema(
            everyField({
              type: "object",
              additionalProperties: false,
              properties: {
                id: str,
                mailId: nstr,
                source: str,
                orgName: nstr,
                reportId: nstr,
                contact: nstr,
                dateBegin: nullableTime,
                dateEnd: nullableTime,
                successful: int,
                failed: int,
                policies: { type: "array", items: policySchema },
                error: nstr,
                receivedAt: { type: "string", format: "date-time" },
              },
            }),
          ),
        },
      },
    },
    async (request) => {
      const { limit, cursor, ...q } = request.query;
      return cursorPage(
        {
          secret: request.auth.secret,
          listing: "tls-reports",
          filter: filterOf(request.auth.tenant, q),
          limit,
          cursor,
          list: (f) => listTlsReports(deps.db, f),
        },
        presentReport,
      );
    },
  );

  csvExportRoute(app, {
    path: "/exports/tls-reports",
    summary:
      "Export the TLS reports as CSV (streamed, a line per policy), with the filters of GET /v1/tls-reports",
    description: `CSV columns: ${TLS_CSV_COLUMNS.join(",")}. \`failures\`: \`resultType=sessions\`, space-separated. A cell that a spreadsheet would run as a formula starts with \`'\`.`,
    filterProps,
    filterOf,
    list: (f) => listTlsReports(deps.db, f),
    filename: "tls-reports.csv",
    columns: TLS_CSV_COLUMNS,
    pageSize: EXPORT_PAGE,
    lines: csvLines,
  });
}
