// The authentication signal (migration 0020): RFC 6591 authentication failure reports (ARF auth-failure, DMARC
// failure reports), stored per sending domain and source IP, and, with the DMARC aggregate rows whose DKIM and
// SPF both failed alignment, counted per domain and IP for GET /v1/authentication and the alert engine.
import { sql, type Kysely } from "kysely";
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
