// The hourly rollups (migration 0010): increments added in one statement, in key order.
import { sql, type Kysely } from "kysely";
import { mergeIncrements, type Counter, type RollupIncrement } from "../core/rollup.js";
import { JsonRows } from "./json-rows.js";
import type { Database } from "./schema.js";

const ROWS = new JsonRows([
  ["tenant", "text"],
  ["hour", "timestamptz"],
  ["stream", "text"],
  ["provider", "text"],
  ["campaign", "text"],
  ["sending_ip", "text"],
  ["sent", "bigint"],
  ["delivered", "bigint"],
  ["hard", "bigint"],
  ["soft", "bigint"],
  ["block", "bigint"],
  ["complaint", "bigint"],
  ["auto_reply", "bigint"],
  ["unverified", "bigint"],
]);

/** Adds the increments (summed per key first) to the rollups: one statement, rows locked in key order. */
export async function addToRollups(db: Kysely<Database>, increments: RollupIncrement[]): Promise<void> {
  const merged = mergeIncrements(increments);
  if (!merged.length) return;
  const rows = merged.map((i) => ({
    tenant: i.tenant,
    hour: i.hour.toISOString(),
    stream: i.stream,
    provider: i.provider,
    campaign: i.campaign,
    sending_ip: i.sendingIp,
    sent: i.counts.sent ?? 0,
    delivered: i.counts.delivered ?? 0,
    hard: i.counts.hard ?? 0,
    soft: i.counts.soft ?? 0,
    block: i.counts.block ?? 0,
    complaint: i.counts.complaint ?? 0,
    auto_reply: i.counts.autoReply ?? 0,
    unverified: i.counts.unverified ?? 0,
  }));
  await sql`
    insert into rollups (${ROWS.names})
    select ${ROWS.names} from ${ROWS.from("r", rows)} order by ord
    on conflict (tenant, hour, stream, provider, campaign, sending_ip) do update set
      sent = rollups.sent + excluded.sent,
      delivered = rollups.delivered + excluded.delivered,
      hard = rollups.hard + excluded.hard,
      soft = rollups.soft + excluded.soft,
      block = rollups.block + excluded.block,
      complaint = rollups.complaint + excluded.complaint,
      auto_reply = rollups.auto_reply + excluded.auto_reply,
      unverified = rollups.unverified + excluded.unverified`.execute(db);
}

export const GROUP_BY = ["stream", "provider", "campaign", "sendingIp"] as const;
export type GroupBy = (typeof GROUP_BY)[number];
const COLUMN: Record<GroupBy, string> = {
  stream: "stream",
  provider: "provider",
  campaign: "campaign",
  sendingIp: "sending_ip",
};

export interface RollupQuery {
  tenant: string;
  from: Date;
  to: Date;
  granularity: "hour" | "day";
  groupBy: readonly GroupBy[];
  filters: Partial<Record<GroupBy, string>>;
}

export interface RollupBucket {
  /** The group's values, in groupBy's order. */
  group: string[];
  /** The start of the bucket (UTC). */
  at: Date;
  counts: Record<Counter, number>;
}

/**
 * The rollups in [from, to), summed per group and bucket (hour or UTC day), in no order: sorting the rows before
 * grouping them (text keys, in the database's collation) cost more than the grouping (statsOf orders them).
 */
export async function rollupBuckets(db: Kysely<Database>, q: RollupQuery): Promise<RollupBucket[]> {
  const cols = q.groupBy.map((g) => sql.ref(COLUMN[g]));
  const bucket =
    q.granularity === "hour" ? sql`hour` : sql`date_trunc('day', hour at time zone 'UTC') at time zone 'UTC'`;
  const where = [sql`tenant = ${q.tenant}`, sql`hour >= ${q.from}`, sql`hour < ${q.to}`];
  for (const g of GROUP_BY) {
    const v = q.filters[g];
    if (v !== undefined) where.push(sql`${sql.ref(COLUMN[g])} = ${v}`);
  }
  const groupCols = cols.length ? sql`${sql.join(cols)}, ` : sql``;
  const { rows } = await sql<Record<string, unknown>>`
    select ${groupCols}${bucket} as at,
           sum(sent)::bigint as sent, sum(delivered)::bigint as delivered, sum(hard)::bigint as hard,
           sum(soft)::bigint as soft, sum(block)::bigint as block, sum(complaint)::bigint as complaint,
           sum(auto_reply)::bigint as auto_reply, sum(unverified)::bigint as unverified
      from rollups
     where ${sql.join(where, sql` and `)}
     group by ${groupCols}at`.execute(db);
  return rows.map((r) => ({
    group: q.groupBy.map((g) => String(r[COLUMN[g]])),
    at: new Date(r.at as string | Date),
    counts: {
      sent: Number(r.sent),
      delivered: Number(r.delivered),
      hard: Number(r.hard),
      soft: Number(r.soft),
      block: Number(r.block),
      complaint: Number(r.complaint),
      autoReply: Number(r.auto_reply),
      unverified: Number(r.unverified),
    },
  }));
}
