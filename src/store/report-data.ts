// What a deliverability report reads besides the rollups: the period's reasons, block diagnostics and domains,
// from the events (by tenant and time: events_tenant_time_idx), and sends per domain.
import { sql, type Kysely } from "kysely";
import type { DomainCount, ReasonCount } from "../core/deliverability-report.js";
import type { Database } from "./schema.js";

interface Range {
  tenant: string;
  from: Date;
  to: Date;
}

/** Failure and complaint reasons with the rule that decided, most frequent first. */
export async function reasonCounts(db: Kysely<Database>, r: Range, limit: number): Promise<ReasonCount[]> {
  const rows = await db
    .selectFrom("events")
    .select(["reason", "rule", "class", sql<string>`count(*)`.as("n")])
    .where("tenant", "=", r.tenant)
    .where("occurred_at", ">=", r.from)
    .where("occurred_at", "<", r.to)
    .where("class", "in", ["hard", "soft", "block", "complaint"])
    .groupBy(["reason", "rule", "class"])
    .orderBy("n", "desc")
    .limit(limit)
    .execute();
  return rows.map((x) => ({ reason: x.reason, rule: x.rule, class: x.class, count: Number(x.n) }));
}

/** The diagnostics of the period's blocks, the most frequent first. */
export async function blockDiagnostics(
  db: Kysely<Database>,
  r: Range,
  limit: number,
): Promise<{ diagnostic: string; count: number }[]> {
  const rows = await db
    .selectFrom("events")
    .select(["diagnostic", sql<string>`count(*)`.as("n")])
    .where("tenant", "=", r.tenant)
    .where("occurred_at", ">=", r.from)
    .where("occurred_at", "<", r.to)
    .where("class", "=", "block")
    .where("diagnostic", "is not", null)
    .groupBy("diagnostic")
    .orderBy("n", "desc")
    .limit(limit)
    .execute();
  return rows.map((x) => ({ diagnostic: x.diagnostic!, count: Number(x.n) }));
}

/**
 * The recipient domains with the most hard bounces, blocks and complaints in the period, with the sends to them
 * recorded in it (by Message-ID; counts uploads name no domain).
 */
export async function domainCounts(db: Kysely<Database>, r: Range, limit: number): Promise<DomainCount[]> {
  const { rows } = await sql<{
    domain: string;
    hard: string;
    block: string;
    complaint: string;
    sent: string;
  }>`
    with failing as (
      select recipient_domain as domain,
             count(*) filter (where class = 'hard') as hard,
             count(*) filter (where class = 'block') as block,
             count(*) filter (where class = 'complaint') as complaint
        from events
       where tenant = ${r.tenant} and occurred_at >= ${r.from} and occurred_at < ${r.to}
         and class in ('hard', 'block', 'complaint')
       group by recipient_domain
       order by count(*) desc
       limit ${limit})
    select f.domain, f.hard::text, f.block::text, f.complaint::text,
           (select count(*) from sends s
             where s.tenant = ${r.tenant} and s.recipient_domain = f.domain
               and s.sent_at >= ${r.from} and s.sent_at < ${r.to})::text as sent
      from failing f`.execute(db);
  return rows.map((x) => ({
    domain: x.domain,
    sent: Number(x.sent),
    hard: Number(x.hard),
    block: Number(x.block),
    complaint: Number(x.complaint),
  }));
}
