// Sends (migration 0009): the messages a sender reports sent, keyed by tenant and Message-ID, and the uploads of
// counts, keyed by batch id. Each write adds what it newly records to the hourly rollups' `sent`, in the same
// statement: a retried upload adds nothing twice.
import { once } from "node:events";
import { finished } from "node:stream/promises";
import { sql, type Kysely } from "kysely";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { RollupIncrement } from "../core/rollup.js";
import { JsonRows } from "./json-rows.js";
import { addToRollups, rollupWrites } from "./rollups.js";
import type { Database } from "./schema.js";

export interface SendRow {
  messageId: string;
  stream: string;
  campaign: string;
  sendingIp: string;
  recipientDomain: string;
  provider: string;
  sentAt: Date;
  /** The domain it was sent from; "" or absent: not given. */
  sendingDomain?: string;
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
  ["sending_domain", "text"],
]);

/** Sends newly recorded, per stream and provider (metrics). */
export interface SentCount {
  stream: string;
  provider: string;
  n: number;
}

export const totalSent = (counts: SentCount[]) => counts.reduce((n, c) => n + c.n, 0);

/** The statement's answer: what rollup_src counted, per stream and provider. */
const SENT_COUNTS = sql`select stream, provider, sum(sent)::text as n from rollup_src group by stream, provider`;
const sentCounts = (rows: { stream: string; provider: string; n: string }[]): SentCount[] =>
  rows.map((r) => ({ stream: r.stream, provider: r.provider, n: Number(r.n) }));

/**
 * Records the sends not yet known (by tenant and Message-ID) and counts them into the rollups, in one statement.
 * Returns what was new, per stream and provider.
 */
export async function insertSends(
  db: Kysely<Database>,
  tenant: string,
  rows: SendRow[],
): Promise<SentCount[]> {
  if (!rows.length) return [];
  const json = rows.map((r) => ({
    tenant,
    message_id: r.messageId,
    stream: r.stream,
    campaign: r.campaign,
    sending_ip: r.sendingIp,
    recipient_domain: r.recipientDomain,
    provider: r.provider,
    sent_at: r.sentAt.toISOString(),
    sending_domain: r.sendingDomain || null,
  }));
  const { rows: out } = await sql<{ stream: string; provider: string; n: string }>`
    with ins as (
      insert into sends (${SEND_ROWS.names})
      select ${SEND_ROWS.names} from ${SEND_ROWS.from("s", json)} order by ord
      on conflict (tenant, message_id) do nothing
      returning ${NEW_SENDS}
    ), ${sentRollups("ins")}
    ${SENT_COUNTS}`.execute(db);
  return sentCounts(out);
}

/** What an INSERT INTO sends returns for sentRollups. */
const NEW_SENDS = sql.raw(
  `tenant, stream, campaign, sending_ip, provider, date_trunc('hour', sent_at at time zone 'UTC') at time zone 'UTC' as hour`,
);

/** The CTEs that count the sends returned by CTE `ins` (NEW_SENDS) as `sent` into every rollup table. */
function sentRollups(ins: string) {
  return sql`rollup_src as (
      select tenant, hour, stream, provider, campaign, sending_ip, count(*) as sent,
             0::bigint as delivered, 0::bigint as hard, 0::bigint as soft, 0::bigint as block,
             0::bigint as complaint, 0::bigint as auto_reply, 0::bigint as unverified
        from ${sql.raw(ins)} group by tenant, hour, stream, provider, campaign, sending_ip
    ), ${rollupWrites("rollup_src")}`;
}

/** Sends staged by COPY on one connection (PostgreSQL), recorded and counted by one statement at the end. */
export interface SendsStage {
  add(rows: SendRow[]): Promise<void>;
  /** Records the staged sends not yet known (by tenant and Message-ID), counts them: what was new. */
  finish(): Promise<SentCount[]>;
  /** Gives up: nothing staged is recorded. */
  abort(): Promise<void>;
}

/** A COPY text-format field: backslash, tab, newline and carriage return escaped. */
const copyField = (v: string) =>
  v.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"));

/**
 * Stages sends on a connection of the pool (a temporary table filled by COPY as they come, in one transaction),
 * so that a large upload costs PostgreSQL a stream of text lines and one INSERT ... SELECT into `sends` and the
 * rollups, rather than a statement per chunk. The transaction runs without the pool's statement_timeout (it lasts
 * as long as the upload). Duplicates (known before, or twice in the upload) are left out by the INSERT's
 * ON CONFLICT; its rows are taken in Message-ID order, so that concurrent uploads never deadlock.
 */
export async function stageSends(db: Kysely<Database>, pool: pg.Pool, tenant: string): Promise<SendsStage> {
  const client = await pool.connect();
  let copy: ReturnType<typeof copyFrom>;
  let failure: Error | undefined;
  try {
    await client.query("begin");
    await client.query("set local statement_timeout = 0");
    await client.query(`create temporary table rebound_sends_stage (
      message_id text, stream text, campaign text, sending_ip text, recipient_domain text, provider text,
      sent_at timestamptz, sending_domain text) on commit drop`);
    copy = client.query(copyFrom("copy rebound_sends_stage from stdin"));
    copy.on("error", (err: Error) => (failure ??= err));
  } catch (err) {
    client.release(err as Error);
    throw err;
  }
  let done = false;
  const end = async (err?: Error) => {
    if (done) return;
    done = true;
    if (err) {
      // The connection is in the middle of the COPY or of a failed transaction: closed, not reused.
      client.release(err);
      return;
    }
    client.release();
  };
  return {
    async add(rows) {
      if (failure) throw failure;
      let text = "";
      for (const r of rows)
        text += `${copyField(r.messageId)}\t${r.stream}\t${copyField(r.campaign)}\t${r.sendingIp}\t${copyField(r.recipientDomain)}\t${r.provider}\t${r.sentAt.toISOString()}\t${r.sendingDomain ? copyField(r.sendingDomain) : "\\N"}\n`;
      if (!copy.write(text)) await Promise.race([once(copy, "drain"), once(copy, "error")]);
      if (failure) throw failure;
    },
    async finish() {
      try {
        copy.end();
        await finished(copy);
        if (failure) throw failure;
        const q = sql<{ stream: string; provider: string; n: string }>`
          with ins as (
            insert into sends (tenant, message_id, stream, campaign, sending_ip, recipient_domain, provider, sent_at,
                               sending_domain)
            select ${tenant}, message_id, stream, campaign, sending_ip, recipient_domain, provider, sent_at,
                   sending_domain
              from rebound_sends_stage order by message_id collate "C"
            on conflict (tenant, message_id) do nothing
            returning ${NEW_SENDS}
          ), ${sentRollups("ins")}
          ${SENT_COUNTS}`.compile(db);
        const res = await client.query<{ stream: string; provider: string; n: string }>(
          q.sql,
          q.parameters as unknown[],
        );
        await client.query("commit");
        await end();
        return sentCounts(res.rows);
      } catch (err) {
        await end(err as Error);
        throw err;
      }
    },
    async abort() {
      if (done) return;
      copy.destroy();
      await end(new Error("the sends upload was given up"));
    },
  };
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
  sendingDomain: string | null;
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
    sending_domain: string | null;
  }>`
    select s.tenant, s.message_id, s.campaign, s.sending_ip, s.provider, s.sent_at, s.sending_domain
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
        sendingDomain: r.sending_domain,
      },
    ]),
  );
}
