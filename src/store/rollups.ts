// The hourly rollups (migration 0010): increments added in one statement, in key order.
import { sql, type Kysely } from "kysely";
import { mergeIncrements, type RollupIncrement } from "../core/rollup.js";
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
