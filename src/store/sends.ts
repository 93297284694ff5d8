// Sends (migration 0009): the messages a sender reports sent, keyed by tenant and Message-ID, and the uploads of
// counts, keyed by batch id. Each write adds what it newly records to the hourly rollups' `sent`, in the same
// statement: a retried upload adds nothing twice.
import { sql, type Kysely } from "kysely";
import type { RollupIncrement } from "../core/rollup.js";
import { JsonRows } from "./json-rows.js";
import { addToRollups } from "./rollups.js";
import type { Database } from "./schema.js";

export interface SendRow {
  messageId: string;
  stream: string;
  campaign: string;
  sendingIp: string;
  recipientDomain: string;
  provider: string;
  sentAt: Date;
}

const SEND_ROWS = new JsonRows([
  ["tenant", "text"],
  ["message_id", "text"],
  ["stream", "text"],
  ["campaign", "text"],
  ["sending_ip", "text"],
  ["recipient_domain", "text"],
  ["provider", "text"],
  ["sent_at", "timestamptz"],
]);

/**
 * Records the sends not yet known (by tenant and Message-ID) and counts them into the rollups, in one statement.
 * Returns how many were new.
 */
export async function insertSends(db: Kysely<Database>, tenant: string, rows: SendRow[]): Promise<number> {
  if (!rows.length) return 0;
  const json = rows.map((r) => ({
    tenant,
    message_id: r.messageId,
    stream: r.stream,
    campaign: r.campaign,
    sending_ip: r.sendingIp,
    recipient_domain: r.recipientDomain,
    provider: r.provider,
    sent_at: r.sentAt.toISOString(),
  }));
  // The rollup rows in key order (the same order every writer locks them in).
  const { rows: out } = await sql<{ n: string }>`
    with ins as (
      insert into sends (${SEND_ROWS.names})
      select ${SEND_ROWS.names} from ${SEND_ROWS.from("s", json)} order by ord
      on conflict (tenant, message_id) do nothing
      returning tenant, stream, campaign, sending_ip, provider,
                date_trunc('hour', sent_at at time zone 'UTC') at time zone 'UTC' as hour
    ), up as (
      insert into rollups (tenant, hour, stream, provider, campaign, sending_ip, sent)
      select tenant, hour, stream, provider, campaign, sending_ip, count(*)
        from ins
       group by tenant, hour, stream, provider, campaign, sending_ip
       order by tenant, hour, stream, provider, campaign, sending_ip
      on conflict (tenant, hour, stream, provider, campaign, sending_ip)
      do update set sent = rollups.sent + excluded.sent
      returning 1
    )
    select count(*)::text as n from ins`.execute(db);
  return Number(out[0]?.n ?? 0);
}

/**
 * Records an upload of counts under its batch id and adds them to the rollups, in one transaction; false (and
 * nothing added) when the batch id was recorded before.
 */
export async function insertSendCounts(
  db: Kysely<Database>,
  tenant: string,
  batchId: string,
  increments: RollupIncrement[],
  records: number,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const made = await trx
      .insertInto("send_batches")
      .values({ tenant, batch_id: batchId, records })
      .onConflict((oc) => oc.columns(["tenant", "batch_id"]).doNothing())
      .returning("batch_id")
      .executeTakeFirst();
    if (!made) return false;
    await addToRollups(trx, increments);
    return true;
  });
}

/** Whether a batch id was recorded. */
export async function sendBatchExists(
  db: Kysely<Database>,
  tenant: string,
  batchId: string,
): Promise<boolean> {
  const row = await db
    .selectFrom("send_batches")
    .select("batch_id")
    .where("tenant", "=", tenant)
    .where("batch_id", "=", batchId)
    .executeTakeFirst();
  return !!row;
}

export interface SentMessage {
  campaign: string;
  sendingIp: string;
  provider: string;
  sentAt: Date;
}

/** The sends of (tenant, Message-ID) pairs, keyed by JSON.stringify([tenant, messageId]). */
export async function sendsByMessageId(
  db: Kysely<Database>,
  keys: { tenant: string; messageId: string }[],
): Promise<Map<string, SentMessage>> {
  if (!keys.length) return new Map();
  const { rows } = await sql<{
    tenant: string;
    message_id: string;
    campaign: string;
    sending_ip: string;
    provider: string;
    sent_at: Date;
  }>`
    select s.tenant, s.message_id, s.campaign, s.sending_ip, s.provider, s.sent_at
      from unnest(${keys.map((k) => k.tenant)}::text[], ${keys.map((k) => k.messageId)}::text[]) as k(tenant, message_id)
      join sends s on s.tenant = k.tenant and s.message_id = k.message_id`.execute(db);
  return new Map(
    rows.map((r) => [
      JSON.stringify([r.tenant, r.message_id]),
      {
        campaign: r.campaign,
        sendingIp: r.sending_ip,
        provider: r.provider,
        sentAt: new Date(r.sent_at),
      },
    ]),
  );
}
