// What the alert evaluation reads: rollup sums per rule (src/core/alerts/evaluate.ts figureQueries), the recent
// events the rules look at and quote, and the tenants to evaluate.
import { sql } from "kysely";
import type { FigureQuery, FigureRow, RecentEvent } from "../core/alerts/evaluate.js";
import type { RollupScopeField } from "../core/alerts/types.js";
import type { Db } from "./db.js";

const COLUMN: Record<RollupScopeField, string> = {
  stream: "stream",
  provider: "provider",
  campaign: "campaign",
  sendingIp: "sending_ip",
};
const COUNTERS = [
  ["sent", "sent"],
  ["delivered", "delivered"],
  ["hard", "hard"],
  ["soft", "soft"],
  ["block", "block"],
  ["complaint", "complaint"],
  ["autoReply", "auto_reply"],
  ["unverified", "unverified"],
] as const;

/** One rule's sums: per group of its split fields, the window's and the baseline's counters. */
export async function figureRows(db: Db, tenant: string, q: FigureQuery): Promise<FigureRow[]> {
  const cols = q.groupBy.map((g) => sql.ref(COLUMN[g]));
  const where = [sql`tenant = ${tenant}`, sql`hour >= ${q.from}`];
  for (const [f, v] of Object.entries(q.filters))
    where.push(sql`${sql.ref(COLUMN[f as RollupScopeField])} = ${v}`);
  const sums = COUNTERS.flatMap(([name, col]) => [
    sql`coalesce(sum(${sql.ref(col)}) filter (where hour >= ${q.windowFrom}), 0)::bigint as ${sql.ref(`w_${name}`)}`,
    sql`coalesce(sum(${sql.ref(col)}) filter (where hour < ${q.windowFrom}), 0)::bigint as ${sql.ref(`b_${name}`)}`,
  ]);
  const select = cols.length ? sql`${sql.join(cols)}, ${sql.join(sums)}` : sql.join(sums);
  const groupBy = cols.length ? sql` group by ${sql.join(cols)}` : sql``;
  const { rows } = await sql<Record<string, unknown>>`
    select ${select} from rollups where ${sql.join(where, sql` and `)}${groupBy}`.execute(db);
  return rows
    .map((r) => {
      const counts = (p: string) =>
        Object.fromEntries(
          COUNTERS.map(([name]) => [name, Number(r[`${p}_${name}`] ?? 0)]),
        ) as FigureRow["window"];
      return {
        group: Object.fromEntries(q.groupBy.map((g) => [g, String(r[COLUMN[g]] ?? "")])),
        window: counts("w"),
        baseline: counts("b"),
      };
    })
    .filter(
      (r) => cols.length > 0 || r.window.sent + r.baseline.sent + r.window.block + r.window.complaint > 0,
    );
}

/**
 * The events the rules quote and count since `since`, newest first: up to `limit` blocks (the blocklist and
 * authentication rules count them) and up to `limit` hard bounces and complaints (evidence), so that a flood of
 * one kind does not hide the other.
 */
export async function recentEvents(
  db: Db,
  tenant: string,
  since: Date,
  limit: number,
): Promise<RecentEvent[]> {
  const blocks = await eventsOf(db, tenant, since, ["block"], limit);
  const others = await eventsOf(db, tenant, since, ["hard", "complaint"], limit);
  return [...blocks, ...others].sort((a, b) => b.occurredAt.getTime() - a.occurredAt.getTime());
}

async function eventsOf(
  db: Db,
  tenant: string,
  since: Date,
  classes: string[],
  limit: number,
): Promise<RecentEvent[]> {
  const rows = await db
    .selectFrom("events")
    .select([
      "id",
      "stream",
      "provider",
      "campaign",
      "sending_ip",
      "sending_domain",
      "address",
      "reason",
      "class",
      "rule",
      "status",
      "diagnostic",
      "occurred_at",
    ])
    .where("tenant", "=", tenant)
    .where("occurred_at", ">=", since)
    .where("class", "in", classes)
    .where("verified", "=", true)
    .orderBy("occurred_at", "desc")
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: String(r.id),
    stream: r.stream,
    provider: r.provider,
    campaign: r.campaign || null,
    sendingIp: r.sending_ip || null,
    sendingDomain: r.sending_domain || null,
    recipient: r.address,
    reason: r.reason,
    class: r.class,
    rule: r.rule,
    status: r.status,
    diagnostic: r.diagnostic,
    occurredAt: new Date(r.occurred_at),
  }));
}

/**
 * Tenants that may have figures: those of the rollups (each found by one index probe: a loose index scan over
 * the primary key, not a scan of the table), those with API keys, and `extra` (the default tenant); those with
 * incidents in force; and, with `reportsSince` (a valid time), those that received DMARC aggregate or
 * authentication failure reports since then (a tenant of REBOUND_DOMAIN_TENANTS may have nothing else).
 */
export async function tenantsToEvaluate(
  db: Db,
  extra: readonly string[],
  reportsSince?: Date,
): Promise<string[]> {
  const reports =
    reportsSince && !Number.isNaN(reportsSince.getTime())
      ? sql`
    union
    select tenant from ${recentTenants("dmarc_reports", "received_at", reportsSince)}
    union
    select tenant from ${recentTenants("auth_failure_reports", "occurred_at", reportsSince)}`
      : sql``;
  const { rows } = await sql<{ tenant: string }>`
    with recursive t (tenant) as (
      select min(tenant) from rollups
      union all
      select (select min(r.tenant) from rollups r where r.tenant > t.tenant) from t where t.tenant is not null
    )
    select tenant from t where tenant is not null
    union
    select distinct tenant from api_keys where revoked_at is null
    union
    select distinct tenant from incidents where status <> 'resolved'${reports}`.execute(db);
  return [...new Set([...rows.map((r) => r.tenant), ...extra])].sort();
}

/**
 * The tenants of a report table with a row at or after `since`: a loose index scan of its (tenant, time) index, one
 * probe per tenant and one for its latest row, not a scan of the table.
 */
function recentTenants(table: "dmarc_reports" | "auth_failure_reports", column: string, since: Date) {
  const t = sql.table(table);
  const at = sql.ref(`r.${column}`);
  return sql`(
    with recursive k (tenant) as (
      select min(tenant) from ${t}
      union all
      select (select min(r.tenant) from ${t} r where r.tenant > k.tenant) from k where k.tenant is not null
    )
    select k.tenant from k
    where k.tenant is not null and exists (select 1 from ${t} r where r.tenant = k.tenant and ${at} >= ${since})
  ) as ${sql.id(`recent_${table}`)}`;
}

/**
 * The streams the tenant has rollups for (sent in, or got events for), each found by one probe of the
 * (tenant, stream) index: a loose index scan, not a scan of the tenant's rows.
 */
export async function streamsSeen(db: Db, tenant: string): Promise<string[]> {
  const { rows } = await sql<{ stream: string }>`
    with recursive s (stream) as (
      select min(stream) from rollups where tenant = ${tenant}
      union all
      select (select min(r.stream) from rollups r where r.tenant = ${tenant} and r.stream > s.stream)
        from s where s.stream is not null
    )
    select stream from s where stream is not null`.execute(db);
  return rows.map((r) => r.stream);
}
