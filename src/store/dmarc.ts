// DMARC aggregate reports and their rows (migration 0020): written by the worker in the transaction that marks
// their mail processed, once per tenant, organisation and report id; read by GET /v1/dmarc and its CSV export.
import { sql, type Kysely } from "kysely";
import type { DmarcAggregate } from "../core/dmarc.js";
import { JsonRows } from "./json-rows.js";
import { insertOnce, receivedColumns, receivedFields, type ReceivedReport } from "./received-reports.js";
import type { Database } from "./schema.js";

type Db = Kysely<Database>;

/** `source`: `dmarc.zip`, ...; `error`: zip bomb, XML too large, ... */
export interface SaveDmarc extends ReceivedReport {
  report?: DmarcAggregate;
}

/** Rows inserted per statement (one JSON parameter each). */
const CHUNK = 2000;

const RECORD_ROWS = new JsonRows([
  ["report", "bigint"],
  ["tenant", "text"],
  ["org_name", "text"],
  ["domain", "text"],
  ["date_begin", "timestamptz"],
  ["date_end", "timestamptz"],
  ["source_ip", "text"],
  ["count", "bigint"],
  ["disposition", "text"],
  ["dkim", "text"],
  ["spf", "text"],
  ["header_from", "text"],
  ["envelope_from", "text"],
  ["envelope_to", "text"],
  ["reasons", "jsonb"],
  ["dkim_results", "jsonb"],
  ["spf_results", "jsonb"],
]);

/**
 * Store a report (or its refusal). Returns its id, or null when the same organisation's report id is already
 * stored for the tenant (a report sent twice, or to two addresses): nothing is written then.
 */
export async function saveDmarcReport(db: Db, s: SaveDmarc): Promise<string | null> {
  const r = s.report;
  const id = await insertOnce(
    db.insertInto("dmarc_reports").values({
      ...receivedColumns(s, r),
      schema: r?.schema ?? null,
      email: r?.email ?? null,
      domain: r?.policy.domain || null,
      policy: JSON.stringify(r?.policy ?? null),
      generator: r?.generator ?? null,
      errors: JSON.stringify(r?.errors ?? []),
      records: r?.records.length ?? 0,
      messages: r ? r.records.reduce((n, x) => n + x.count, 0) : 0,
    }),
  );
  if (id === null || !r) return id;
  for (let at = 0; at < r.records.length; at += CHUNK) {
    const rows = r.records.slice(at, at + CHUNK).map((x) => ({
      report: id,
      tenant: s.tenant,
      org_name: r.orgName,
      domain: r.policy.domain,
      date_begin: r.begin,
      date_end: r.end,
      source_ip: x.sourceIp,
      count: x.count,
      disposition: x.disposition,
      dkim: x.dkim,
      spf: x.spf,
      header_from: x.headerFrom,
      envelope_from: x.envelopeFrom,
      envelope_to: x.envelopeTo,
      reasons: x.reasons,
      dkim_results: x.dkimResults,
      spf_results: x.spfResults,
    }));
    await sql`insert into dmarc_records (${RECORD_ROWS.names})
      select ${RECORD_ROWS.names} from ${RECORD_ROWS.from("r", rows)} order by ord`.execute(db);
  }
  return id;
}

/** Forget what a mail stored (before it is re-processed). */
export async function deleteMailDmarc(db: Db, mailId: string): Promise<void> {
  await db.deleteFrom("dmarc_reports").where("mail_id", "=", mailId).execute();
}

/** `pass`: DMARC passed (DKIM or SPF aligned); `fail`: both failed alignment. */
export const DMARC_RESULT_FILTERS = ["pass", "fail"] as const;
export type DmarcResultFilter = (typeof DMARC_RESULT_FILTERS)[number];

export interface DmarcFilter {
  tenant: string;
  /** Rows of reports whose date range ends after `from` and begins before `to`. */
  from?: Date;
  to?: Date;
  /** The header-from domain, or the policy domain. */
  domain?: string;
  sourceIp?: string;
  org?: string;
  result?: DmarcResultFilter;
}

export interface DmarcRow {
  id: string;
  reportId: string;
  orgName: string;
  domain: string;
  dateBegin: Date;
  dateEnd: Date;
  sourceIp: string;
  count: number;
  disposition: string | null;
  dkim: string | null;
  spf: string | null;
  headerFrom: string;
  envelopeFrom: string | null;
  envelopeTo: string | null;
  reasons: unknown[];
  dkimResults: unknown[];
  spfResults: unknown[];
}

function filtered(db: Db, f: DmarcFilter) {
  let q = db
    .selectFrom("dmarc_records as d")
    .innerJoin("dmarc_reports as r", "r.id", "d.report")
    .where("d.tenant", "=", f.tenant);
  if (f.from) q = q.where("d.date_end", ">", f.from);
  if (f.to) q = q.where("d.date_begin", "<", f.to);
  if (f.domain) {
    const domain = f.domain.toLowerCase();
    q = q.where((eb) => eb.or([eb("d.header_from", "=", domain), eb("d.domain", "=", domain)]));
  }
  if (f.sourceIp) q = q.where("d.source_ip", "=", f.sourceIp.toLowerCase());
  if (f.org) q = q.where("d.org_name", "=", f.org);
  if (f.result === "fail") q = q.where("d.dkim", "=", "fail").where("d.spf", "=", "fail");
  if (f.result === "pass") q = q.where((eb) => eb.or([eb("d.dkim", "=", "pass"), eb("d.spf", "=", "pass")]));
  return q;
}

/** The rows, newest first (by id), after `afterId` when given. */
export async function listDmarcRows(
  db: Db,
  f: DmarcFilter & { limit: number; afterId?: string },
): Promise<DmarcRow[]> {
  let q = filtered(db, f);
  if (f.afterId) q = q.where("d.id", "<", f.afterId);
  const rows = await q
    .select([
      "d.id",
      "r.report_id",
      "d.org_name",
      "d.domain",
      "d.date_begin",
      "d.date_end",
      "d.source_ip",
      "d.count",
      "d.disposition",
      "d.dkim",
      "d.spf",
      "d.header_from",
      "d.envelope_from",
      "d.envelope_to",
      "d.reasons",
      "d.dkim_results",
      "d.spf_results",
    ])
    .orderBy("d.id", "desc")
    .limit(f.limit)
    .execute();
  return rows.map((r) => ({
    id: String(r.id),
    reportId: r.report_id ?? "",
    orgName: r.org_name,
    domain: r.domain,
    dateBegin: r.date_begin,
    dateEnd: r.date_end,
    sourceIp: r.source_ip,
    count: Number(r.count),
    disposition: r.disposition,
    dkim: r.dkim,
    spf: r.spf,
    headerFrom: r.header_from,
    envelopeFrom: r.envelope_from,
    envelopeTo: r.envelope_to,
    reasons: r.reasons,
    dkimResults: r.dkim_results,
    spfResults: r.spf_results,
  }));
}

export const DMARC_GROUPS = ["sourceIp", "org", "domain"] as const;
export type DmarcGroup = (typeof DMARC_GROUPS)[number];
const GROUP_COLUMN = { sourceIp: "d.source_ip", org: "d.org_name", domain: "d.header_from" } as const;

export interface DmarcAggregateRow {
  key: string;
  messages: number;
  /** Messages that passed DMARC (DKIM or SPF aligned). */
  passed: number;
  /** Messages that failed both DKIM and SPF alignment. */
  failed: number;
  quarantined: number;
  rejected: number;
  reports: number;
}

/** Message counts per source IP, reporting organisation or header-from domain; most messages first. */
export async function dmarcAggregates(
  db: Db,
  f: DmarcFilter & { groupBy: DmarcGroup; limit: number },
): Promise<DmarcAggregateRow[]> {
  const col = sql.ref(GROUP_COLUMN[f.groupBy]);
  const rows = await filtered(db, f)
    .select([
      sql<string>`${col}`.as("key"),
      sql<string>`sum(d.count)`.as("messages"),
      sql<string>`coalesce(sum(d.count) filter (where d.dkim = 'pass' or d.spf = 'pass'), 0)`.as("passed"),
      sql<string>`coalesce(sum(d.count) filter (where d.dkim = 'fail' and d.spf = 'fail'), 0)`.as("failed"),
      sql<string>`coalesce(sum(d.count) filter (where d.disposition = 'quarantine'), 0)`.as("quarantined"),
      sql<string>`coalesce(sum(d.count) filter (where d.disposition = 'reject'), 0)`.as("rejected"),
      sql<string>`count(distinct d.report)`.as("reports"),
    ])
    .groupBy(col)
    .orderBy(sql`sum(d.count)`, "desc")
    .orderBy(col)
    .limit(f.limit)
    .execute();
  return rows.map((r) => ({
    key: r.key,
    messages: Number(r.messages),
    passed: Number(r.passed),
    failed: Number(r.failed),
    quarantined: Number(r.quarantined),
    rejected: Number(r.rejected),
    reports: Number(r.reports),
  }));
}

export interface DmarcReportRow {
  id: string;
  mailId: string | null;
  source: string;
  schema: string | null;
  orgName: string | null;
  email: string | null;
  reportId: string | null;
  domain: string | null;
  dateBegin: Date | null;
  dateEnd: Date | null;
  policy: Record<string, unknown> | null;
  records: number;
  messages: number;
  error: string | null;
  receivedAt: Date;
}

/** The reports (refused ones too, with their error), newest first. */
export async function listDmarcReports(
  db: Db,
  f: { tenant: string; from?: Date; to?: Date; refused?: boolean; limit: number; afterId?: string },
): Promise<DmarcReportRow[]> {
  let q = db.selectFrom("dmarc_reports").selectAll().where("tenant", "=", f.tenant);
  if (f.from) q = q.where("received_at", ">=", f.from);
  if (f.to) q = q.where("received_at", "<", f.to);
  if (f.refused === true) q = q.where("error", "is not", null);
  if (f.refused === false) q = q.where("error", "is", null);
  if (f.afterId) q = q.where("id", "<", f.afterId);
  const rows = await q.orderBy("id", "desc").limit(f.limit).execute();
  return rows.map((r) => ({
    ...receivedFields(r),
    schema: r.schema,
    email: r.email,
    domain: r.domain,
    policy: r.policy,
    records: r.records,
    messages: Number(r.messages),
  }));
}
