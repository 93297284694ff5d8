// What the DMARC and TLS report tables share (migration 0020): a report is stored once per tenant, reporting
// organisation and report id, with the mail it came in, the rule that found it, its date range and its refusal.
import type { InsertQueryBuilder, InsertResult, Selectable } from "kysely";
import type { Database } from "./schema.js";

type ReportTable = "dmarc_reports" | "tls_reports";

export interface ReceivedReport {
  tenant: string;
  mailId: string | null;
  /** The rule that recognised the attachment. */
  source: string;
  receivedAt: Date;
  /** Why the report was refused. */
  error?: string;
}

/** The shared columns of a report row: from `s`, and from its report `r` when it could be read. */
export function receivedColumns(
  s: ReceivedReport,
  r: { orgName: string; reportId: string; begin: string; end: string } | undefined,
) {
  return {
    tenant: s.tenant,
    mail_id: s.mailId,
    source: s.source,
    org_name: r?.orgName ?? null,
    report_id: r?.reportId ?? null,
    date_begin: r?.begin ?? null,
    date_end: r?.end ?? null,
    error: s.error ?? null,
    received_at: s.receivedAt,
  };
}

/** Runs the insert of a report once: its id, or null when the tenant's organisation's report id is stored. */
export async function insertOnce<T extends ReportTable>(
  insert: InsertQueryBuilder<Database, T, InsertResult>,
): Promise<string | null> {
  // Either table's builder, seen as one of both: the conflict's columns and `id` are the same in each.
  const row = await (insert as unknown as InsertQueryBuilder<Database, ReportTable, InsertResult>)
    .onConflict((oc) => oc.columns(["tenant", "org_name", "report_id"]).doNothing())
    .returning("id")
    .executeTakeFirst();
  return row ? row.id : null;
}

/** The shared fields of a listed report. */
export function receivedFields(r: Selectable<Database[ReportTable]>) {
  return {
    id: String(r.id),
    mailId: r.mail_id,
    source: r.source,
    orgName: r.org_name,
    reportId: r.report_id,
    dateBegin: r.date_begin,
    dateEnd: r.date_end,
    error: r.error,
    receivedAt: r.received_at,
  };
}
