// The authentication signal (migration 0020): RFC 6591 authentication failure reports (ARF auth-failure, DMARC
// failure reports), stored per sending domain and source IP, and, with the DMARC aggregate rows whose DKIM and
// SPF both failed alignment, counted per domain and IP for GET /v1/authentication; and the alert rules' report
// counts (authReportRows: the dmarc rule's aggregate rows, the authentication rule's failure reports).
import { sql, type Kysely } from "kysely";
import { REPORTS_QUOTED, type ReportQuery, type ReportRow } from "../core/alerts/evaluate.js";
import type { Database } from "./schema.js";

type Db = Kysely<Database>;

export interface SaveAuthFailure {
  tenant: string;
  mailId: string | null;
  occurredAt: Date;
  /** The sending domain the report is about (Reported-Domain, else DKIM-Domain, else the original's From). */
  domain: string;
  sourceIp: string | null;
  /** RFC 6591 Auth-Failure: dkim, spf, dmarc, bodyhash, revoked, signature, adsp. */
  failure: string | null;
  /** RFC 5965 Incidents (default 1). */
  incidents: number;
  /** Who reported it (the report mail's From). */
  reporter: string | null;
  /** The report's RFC 6591 fields, lower-cased names. */
  details: Record<string, string>;
}

export async function saveAuthFailureReport(db: Db, s: SaveAuthFailure): Promise<void> {
  await db
    .insertInto("auth_failure_reports")
    .values({
      tenant: s.tenant,
      mail_id: s.mailId,
      occurred_at: s.occurredAt,
      domain: s.domain,
      source_ip: s.sourceIp,
      failure: s.failure,
      incidents: s.incidents,
      reporter: s.reporter,
      details: JSON.stringify(s.details),
    })
    .execute();
}

/** Forget what a mail stored (before it is re-processed). */
export async function deleteMailAuthFailures(db: Db, mailId: string): Promise<void> {
  await db.deleteFrom("auth_failure_reports").where("mail_id", "=", mailId).execute();
}

/** Authentication failures of one sending domain from one source IP, over a period. */
export interface AuthFailureCount {
  /** DMARC: the header-from domain; ARF: the reported sending domain ('' when the report names none). */
  domain: string;
  /** The sending IP (null when an ARF report gives none). */
  sourceIp: string | null;
  /** dmarcMessages + arfReports. */
  total: number;
  /** Messages in DMARC aggregate rows whose DKIM and SPF both failed alignment. */
  dmarcMessages: number;
  /** RFC 6591 authentication failure reports (counting their Incidents field). */
  arfReports: number;
  /** What receivers did with the DMARC-failing messages. */
  dispositions: { none: number; quarantine: number; reject: number };
  /** ARF Auth-Failure values and how many reports gave each (`dkim`, `spf`, `dmarc`, `bodyhash`, ...). */
  failures: Record<string, number>;
  /** The DMARC reporting organisations and ARF reporters (at most 10). */
  reporters: string[];
  /** The earliest and latest time covered (a DMARC report's date range, an ARF report's arrival). */
  firstSeen: Date;
  lastSeen: Date;
}

export interface AuthFailureQuery {
  tenantId: string;
  /** DMARC rows of reports whose range ends after `from` and begins before `to`; ARF reports that arrived in [from, to). */
  from: Date;
  to: Date;
  domain?: string;
  sourceIp?: string;
  /** Most groups returned (largest totals first); default 1000. */
  limit?: number;
}

/** Authentication failures per sending domain and source IP over a period, largest totals first. */
export async function authFailureCounts(db: Db, q: AuthFailureQuery): Promise<AuthFailureCount[]> {
  const domain = q.domain?.toLowerCase();
  const ip = q.sourceIp?.toLowerCase();
  const dmarc = await sql<{
    domain: string;
    source_ip: string;
    messages: string;
    none: string;
    quarantine: string;
    reject: string;
    orgs: string[];
    first: Date;
    last: Date;
  }>`
    select header_from as domain, source_ip, sum(count) as messages,
      coalesce(sum(count) filter (where coalesce(disposition, 'none') not in ('quarantine', 'reject')), 0) as none,
      coalesce(sum(count) filter (where disposition = 'quarantine'), 0) as quarantine,
      coalesce(sum(count) filter (where disposition = 'reject'), 0) as reject,
      (array_agg(distinct org_name))[1:10] as orgs, min(date_begin) as first, max(date_end) as last
    from dmarc_records
    where tenant = ${q.tenantId} and dkim = 'fail' and spf = 'fail'
      and date_end > ${q.from} and date_begin < ${q.to}
      ${domain ? sql`and header_from = ${domain}` : sql``}
      ${ip ? sql`and source_ip = ${ip}` : sql``}
    group by header_from, source_ip`.execute(db);
  const arf = await sql<{
    domain: string;
    source_ip: string | null;
    failure: string | null;
    reports: string;
    reporters: string[];
    first: Date;
    last: Date;
  }>`
    select domain, source_ip, failure, sum(incidents) as reports,
      (array_agg(distinct reporter) filter (where reporter is not null))[1:10] as reporters,
      min(occurred_at) as first, max(occurred_at) as last
    from auth_failure_reports
    where tenant = ${q.tenantId} and occurred_at >= ${q.from} and occurred_at < ${q.to}
      ${domain ? sql`and domain = ${domain}` : sql``}
      ${ip ? sql`and source_ip = ${ip}` : sql``}
    group by domain, source_ip, failure`.execute(db);

  const out = new Map<string, AuthFailureCount>();
  const entry = (d: string, sourceIp: string | null, first: Date, last: Date): AuthFailureCount => {
    const key = JSON.stringify([d, sourceIp]);
    let e = out.get(key);
    if (!e) {
      e = {
        domain: d,
        sourceIp,
        total: 0,
        dmarcMessages: 0,
        arfReports: 0,
        dispositions: { none: 0, quarantine: 0, reject: 0 },
        failures: {},
        reporters: [],
        firstSeen: first,
        lastSeen: last,
      };
      out.set(key, e);
    }
    if (first < e.firstSeen) e.firstSeen = first;
    if (last > e.lastSeen) e.lastSeen = last;
    return e;
  };
  const addReporters = (e: AuthFailureCount, names: string[] | null) => {
    for (const n of names ?? []) if (e.reporters.length < 10 && !e.reporters.includes(n)) e.reporters.push(n);
  };
  for (const r of dmarc.rows) {
    const e = entry(r.domain, r.source_ip, new Date(r.first), new Date(r.last));
    e.dmarcMessages += Number(r.messages);
    e.dispositions.none += Number(r.none);
    e.dispositions.quarantine += Number(r.quarantine);
    e.dispositions.reject += Number(r.reject);
    addReporters(e, r.orgs);
  }
  for (const r of arf.rows) {
    const e = entry(r.domain, r.source_ip, new Date(r.first), new Date(r.last));
    const n = Number(r.reports);
    e.arfReports += n;
    const failure = r.failure ?? "unspecified";
    e.failures[failure] = (e.failures[failure] ?? 0) + n;
    addReporters(e, r.reporters);
  }
  const all = [...out.values()];
  for (const e of all) e.total = e.dmarcMessages + e.arfReports;
  all.sort(
    (a, b) =>
      b.total - a.total ||
      (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0) ||
      String(a.sourceIp).localeCompare(String(b.sourceIp)),
  );
  return all.slice(0, q.limit ?? 1000);
}

/**
 * The alert rules' report counts (src/core/alerts/evaluate.ts reportQueries): per sending domain (and source IP
 * when the query groups by it), `dmarc`: the messages of the aggregate rows whose report's date range overlaps
 * [from, to) and those failing DKIM and SPF alignment, with the reports and failing source IPs behind them;
 * `arf`: the authentication failure reports that arrived in [from, to], counting their Incidents.
 */
export async function authReportRows(db: Db, tenant: string, q: ReportQuery): Promise<ReportRow[]> {
  return q.source === "dmarc" ? dmarcReportRows(db, tenant, q) : arfReportRows(db, tenant, q);
}

const iso = (d: Date | string) => new Date(d).toISOString();

async function dmarcReportRows(db: Db, tenant: string, q: ReportQuery): Promise<ReportRow[]> {
  const byIp = q.groupBy.includes("sendingIp");
  const byDomain = q.groupBy.includes("sendingDomain");
  const where = sql.join(
    [
      sql`d.tenant = ${tenant}`,
      sql`d.date_end > ${q.from}`,
      sql`d.date_begin < ${q.to}`,
      ...(q.filters.sendingDomain ? [sql`d.header_from = ${q.filters.sendingDomain.toLowerCase()}`] : []),
      ...(q.filters.sendingIp ? [sql`d.source_ip = ${q.filters.sendingIp.toLowerCase()}`] : []),
    ],
    sql` and `,
  );
  const domainCol = byDomain ? sql`d.header_from` : sql`''`;
  const ipCol = byIp ? sql`d.source_ip` : sql`''`;
  const failing = sql`d.dkim = 'fail' and d.spf = 'fail'`;
  const perReport = await sql<{
    domain: string;
    ip: string;
    org: string | null;
    report_id: string | null;
    begin: Date;
    end: Date;
    messages: string;
    failed: string;
  }>`
    select ${domainCol} as domain, ${ipCol} as ip, r.org_name as org, r.report_id,
      min(d.date_begin) as begin, max(d.date_end) as end, sum(d.count) as messages,
      coalesce(sum(d.count) filter (where ${failing}), 0) as failed
    from dmarc_records d join dmarc_reports r on r.id = d.report
    where ${where}
    group by 1, 2, d.report, r.org_name, r.report_id`.execute(db);
  const ips = await sql<{ domain: string; ip: string; source_ip: string; failed: string }>`
    select domain, ip, source_ip, failed from (
      select ${domainCol} as domain, ${ipCol} as ip, d.source_ip, sum(d.count) as failed,
        row_number() over (partition by ${domainCol}, ${ipCol} order by sum(d.count) desc, d.source_ip) as n
      from dmarc_records d
      where ${where} and ${failing}
      group by 1, 2, d.source_ip
    ) t where n <= ${REPORTS_QUOTED}`.execute(db);

  const groups = new Map<string, ReportRow>();
  const groupOf = (domain: string, ip: string): ReportRow => {
    const key = JSON.stringify([domain, ip]);
    let g = groups.get(key);
    if (!g) {
      const group: ReportRow["group"] = {};
      if (byDomain) group.sendingDomain = domain;
      if (byIp) group.sendingIp = ip;
      g = { group, messages: 0, failed: 0, reports: 0, quoted: [], failingIps: [] };
      groups.set(key, g);
    }
    return g;
  };
  for (const r of perReport.rows) {
    const g = groupOf(r.domain, r.ip);
    const messages = Number(r.messages);
    const failed = Number(r.failed);
    g.messages += messages;
    g.failed += failed;
    g.reports++;
    g.quoted.push({
      reporter: r.org,
      reportId: r.report_id,
      begin: iso(r.begin),
      end: iso(r.end),
      messages,
      failed,
      failure: null,
      sourceIp: null,
    });
  }
  for (const r of ips.rows)
    groups
      .get(JSON.stringify([r.domain, r.ip]))
      ?.failingIps.push({ ip: r.source_ip, failed: Number(r.failed) });
  for (const g of groups.values()) {
    g.quoted.sort((a, b) => b.failed - a.failed || b.messages - a.messages || a.begin.localeCompare(b.begin));
    g.quoted = g.quoted.slice(0, REPORTS_QUOTED);
    g.failingIps.sort((a, b) => b.failed - a.failed || a.ip.localeCompare(b.ip));
  }
  return [...groups.values()];
}

async function arfReportRows(db: Db, tenant: string, q: ReportQuery): Promise<ReportRow[]> {
  const byIp = q.groupBy.includes("sendingIp");
  const byDomain = q.groupBy.includes("sendingDomain");
  const domainCol = byDomain ? sql`domain` : sql`''`;
  const ipCol = byIp ? sql`coalesce(source_ip, '')` : sql`''`;
  const { rows } = await sql<{
    domain: string;
    ip: string;
    mail_id: string | null;
    reporter: string | null;
    failure: string | null;
    source_ip: string | null;
    incidents: number;
    occurred_at: Date;
    failed: string;
    reports: string;
  }>`
    select domain, ip, mail_id, reporter, failure, source_ip, incidents, occurred_at, failed, reports from (
      select ${domainCol} as domain, ${ipCol} as ip, mail_id, reporter, failure, source_ip, incidents,
        occurred_at, sum(incidents) over w as failed, count(*) over w as reports,
        row_number() over (w order by incidents desc, occurred_at desc, id desc) as n
      from auth_failure_reports
      where tenant = ${tenant} and occurred_at >= ${q.from} and occurred_at <= ${q.to}
        ${q.filters.sendingDomain ? sql`and domain = ${q.filters.sendingDomain.toLowerCase()}` : sql``}
        ${q.filters.sendingIp ? sql`and source_ip = ${q.filters.sendingIp.toLowerCase()}` : sql``}
      window w as (partition by ${domainCol}, ${ipCol})
    ) t where n <= ${REPORTS_QUOTED}`.execute(db);
  const groups = new Map<string, ReportRow>();
  for (const r of rows) {
    const key = JSON.stringify([r.domain, r.ip]);
    let g = groups.get(key);
    if (!g) {
      const group: ReportRow["group"] = {};
      if (byDomain) group.sendingDomain = r.domain;
      if (byIp) group.sendingIp = r.ip;
      g = {
        group,
        messages: Number(r.failed),
        failed: Number(r.failed),
        reports: Number(r.reports),
        quoted: [],
        failingIps: [],
      };
      groups.set(key, g);
    }
    g.quoted.push({
      reporter: r.reporter,
      reportId: r.mail_id === null ? null : String(r.mail_id),
      begin: iso(r.occurred_at),
      end: iso(r.occurred_at),
      messages: r.incidents,
      failed: r.incidents,
      failure: r.failure,
      sourceIp: r.source_ip,
    });
  }
  return [...groups.values()];
}
