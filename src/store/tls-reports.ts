// SMTP TLS reports (migration 0020): one row per report, its policies' results as JSON; written by the worker once
// per tenant, organisation and report id; read by GET /v1/tls-reports and its CSV export.
import { sql, type Kysely } from "kysely";
import type { TlsPolicyResult, TlsReport } from "../core/tlsrpt.js";
import { insertOnce, receivedColumns, receivedFields, type ReceivedReport } from "./received-reports.js";
import type { Database } from "./schema.js";

type Db = Kysely<Database>;

export interface SaveTls extends ReceivedReport {
  report?: TlsReport;
}

/** Store a report (or its refusal); null when the organisation's report id is already stored for the tenant. */
export async function saveTlsReport(db: Db, s: SaveTls): Promise<string | null> {
  const r = s.report;
  return insertOnce(
    db.insertInto("tls_reports").values({
      ...receivedColumns(s, r),
      contact: r?.contact ?? null,
      policies: JSON.stringify(r?.policies ?? []),
      successful: r ? r.policies.reduce((n, p) => n + p.successful, 0) : 0,
      failed: r ? r.policies.reduce((n, p) => n + p.failed, 0) : 0,
    }),
  );
}

/** Forget what a mail stored (before it is re-processed). */
export async function deleteMailTlsReports(db: Db, mailId: string): Promise<void> {
  await db.deleteFrom("tls_reports").where("mail_id", "=", mailId).execute();
}

export interface TlsReportRow {
  id: string;
  mailId: string | null;
  source: string;
  orgName: string | null;
  reportId: string | null;
  contact: string | null;
  dateBegin: Date | null;
  dateEnd: Date | null;
  successful: number;
  failed: number;
  policies: TlsPolicyResult[];
  error: string | null;
  receivedAt: Date;
}

export interface TlsFilter {
  tenant: string;
  /** Reports whose date range ends after `from` and begins before `to` (refused ones: by arrival). */
  from?: Date;
  to?: Date;
  /** A policy domain the report speaks of. */
  domain?: string;
  /** Only reports with failed sessions (`true`), or without (`false`). */
  failed?: boolean;
  limit: number;
  afterId?: string;
}

/** The reports, newest first. */
export async function listTlsReports(db: Db, f: TlsFilter): Promise<TlsReportRow[]> {
  let q = db.selectFrom("tls_reports").selectAll().where("tenant", "=", f.tenant);
  if (f.from) {
    const from = f.from;
    q = q.where((eb) =>
      eb.or([eb("date_end", ">", from), eb.and([eb("date_end", "is", null), eb("received_at", ">=", from)])]),
    );
  }
  if (f.to) {
    const to = f.to;
    q = q.where((eb) =>
      eb.or([eb("date_begin", "<", to), eb.and([eb("date_begin", "is", null), eb("received_at", "<", to)])]),
    );
  }
  if (f.domain) {
    const domain = f.domain.toLowerCase();
    q = q.where(
      sql<boolean>`exists (select 1 from jsonb_array_elements(policies) p where p->>'policyDomain' = ${domain})`,
    );
  }
  if (f.failed === true) q = q.where("failed", ">", "0");
  if (f.failed === false) q = q.where("failed", "=", "0");
  if (f.afterId) q = q.where("id", "<", f.afterId);
  const rows = await q.orderBy("id", "desc").limit(f.limit).execute();
  return rows.map((r) => ({
    ...receivedFields(r),
    contact: r.contact,
    successful: Number(r.successful),
    failed: Number(r.failed),
    policies: r.policies as TlsPolicyResult[],
  }));
}
