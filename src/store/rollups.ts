// The rollups (migrations 0010, 0018): the hourly cube (tenant x hour x stream x provider x campaign x sending IP)
// and the same counters over coarser keys (CUBES), all written by one statement per change, in key order; read
// from the smallest cube that answers the question; aged out by purgeRollups.
import { sql, type Kysely, type RawBuilder } from "kysely";
import { COUNTERS, mergeIncrements, type Counter, type RollupIncrement } from "../core/rollup.js";
import type { PackedBuckets } from "../core/stats.js";
import { copyAllLines, inlineParameters } from "./copy.js";
import { pgPoolOf } from "./db.js";
import { JsonRows } from "./json-rows.js";
import { PREPARED } from "./prepared.js";
import { BucketRows, type BucketGroupSink } from "./stats-rows.js";
import type { Database } from "./schema.js";

export const GROUP_BY = ["stream", "provider", "campaign", "sendingIp"] as const;
export type GroupBy = (typeof GROUP_BY)[number];
const COLUMN: Record<GroupBy, string> = {
  stream: "stream",
  provider: "provider",
  campaign: "campaign",
  sendingIp: "sending_ip",
};
const COUNTER_COLUMNS: Record<Counter, string> = {
  sent: "sent",
  delivered: "delivered",
  hard: "hard",
  soft: "soft",
  block: "block",
  complaint: "complaint",
  autoReply: "auto_reply",
  unverified: "unverified",
};
const COUNTER_LIST = COUNTERS.map((c) => COUNTER_COLUMNS[c]);

/** A table of rollups: its time unit and the dimensions it keeps (those it drops are summed over). */
export interface Cube {
  table: string;
  unit: "hour" | "day";
  dims: readonly GroupBy[];
}

/**
 * Every rollup table, the hourly cube first. Data: a question is answered from the first table (in this order)
 * that has its dimensions and a fine enough unit, so the cheaper tables come before the ones they summarise.
 */
export const CUBES: readonly Cube[] = [
  { table: "rollups_sp_daily", unit: "day", dims: ["stream", "provider"] },
  { table: "rollups_sc_daily", unit: "day", dims: ["stream", "campaign"] },
  { table: "rollups_si_daily", unit: "day", dims: ["stream", "sendingIp"] },
  { table: "rollups_daily", unit: "day", dims: GROUP_BY },
  { table: "rollups_sp_hourly", unit: "hour", dims: ["stream", "provider"] },
  { table: "rollups_sc_hourly", unit: "hour", dims: ["stream", "campaign"] },
  { table: "rollups_si_hourly", unit: "hour", dims: ["stream", "sendingIp"] },
  { table: "rollups", unit: "hour", dims: GROUP_BY },
];
/** Written in this order by every writer (rows in key order within each): no deadlock between writers. */
const WRITE_ORDER = [...CUBES].sort((a, b) => (a.table < b.table ? -1 : 1));

/** The table that answers a question about these dimensions, by hour or by UTC day. */
export function cubeFor(granularity: "hour" | "day", dims: Iterable<GroupBy>): Cube {
  const need = [...dims];
  const cube = CUBES.find(
    (c) => (granularity === "day" || c.unit === "hour") && need.every((d) => c.dims.includes(d)),
  );
  return cube!;
}

const timeColumn = (c: Cube) => c.unit;

/**
 * The statement's data-modifying CTEs that add the rows of `source` (a CTE or FROM item named so, with tenant,
 * hour, the four dimension columns and the counter columns) to every rollup table, each in key order.
 */
export function rollupWrites(source: string): RawBuilder<unknown> {
  const parts = WRITE_ORDER.map((c, i) => {
    const dims = c.dims.map((d) => COLUMN[d]).join(", ");
    const time = c.unit === "hour" ? "hour" : `date_trunc('day', hour at time zone 'UTC') at time zone 'UTC'`;
    const key = `tenant, ${timeColumn(c)}, ${dims}`;
    return `rollup_w${i} as (
      insert into ${c.table} (${key}, ${COUNTER_LIST.join(", ")})
      select tenant, ${time}, ${dims}, ${COUNTER_LIST.map((n) => `sum(${n})`).join(", ")}
        from ${source}
       group by 1, 2, ${c.dims.map((_, n) => n + 3).join(", ")}
       order by 1, 2, ${c.dims.map((_, n) => n + 3).join(", ")}
      on conflict (${key}) do update set
        ${COUNTER_LIST.map((n) => `${n} = ${c.table}.${n} + excluded.${n}`).join(", ")}
      returning 1)`;
  });
  return sql.raw(parts.join(",\n"));
}

const ROWS = new JsonRows([
  ["tenant", "text"],
  ["hour", "timestamptz"],
  ["stream", "text"],
  ["provider", "text"],
  ["campaign", "text"],
  ["sending_ip", "text"],
  ...COUNTER_LIST.map((n) => [n, "bigint"] as const),
]);

/**
 * Adds the increments (summed per key first) to every rollup table: one statement, rows locked in key order.
 * Prepared (its text is the same for every batch, the rows one JSON parameter, and its plan, inserts on the
 * tables' keys, does not depend on their sizes): PostgreSQL parsed and planned its eight inserts for every
 * worker batch, most of what the rollups cost the MX (docs/performance.md).
 */
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
    ...Object.fromEntries(COUNTERS.map((c) => [COUNTER_COLUMNS[c], i.counts[c] ?? 0])),
  }));
  await sql`${PREPARED}
    with rollup_src as (select ${ROWS.names} from ${ROWS.from("r", rows)}),
    ${rollupWrites("rollup_src")}
    select 1`.execute(db);
}

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
 * Read from the smallest table that keeps the dimensions grouped by and filtered on (cubeFor); by day, from a
 * daily table, which outlives the hourly ones (`from` and `to` are then whole UTC days, as the route makes them).
 */
export async function rollupBuckets(db: Kysely<Database>, q: RollupQuery): Promise<RollupBucket[]> {
  const { rows } = await sql<Record<string, unknown>>`${bucketsSelect(q)}`.execute(db);
  return rows.map((r) => bucketOf(q, r));
}

/**
 * The same buckets as rollupBuckets, packed per group, at most `limit` of them (groups and buckets in no order).
 * PostgreSQL groups them by the grouped dimensions and hands over one row: the groups' values (an array per
 * dimension), their buckets' counts, and all the buckets' numbers, group after group, as one text that Node parses
 * at once as JSON. For tens of thousands of buckets, a tenth of the API's CPU that row objects (a text field per
 * counter, each converted) cost, and less of PostgreSQL's than building JSON per row; Node neither reads each
 * bucket's group values nor hashes them to group the buckets; and a few large values rather than a row per group
 * (a text and an array each) leave the young generation's collector little to copy (docs/performance.md).
 */
export async function packedBuckets(
  db: Kysely<Database>,
  q: RollupQuery,
  limit: number,
): Promise<PackedBuckets> {
  const groupCols = q.groupBy.map((g) => sql.ref(`b.${COLUMN[g]}`));
  // Seconds after `from`: small integers, which V8 keeps unboxed (epoch seconds are not).
  const origin = q.from.getTime();
  const numbers = sql`string_agg(concat_ws(',', date_part('epoch', b.at) - ${origin / 1000}, ${sql.join(
    COUNTER_LIST.map((n) => sql.ref(`b.${n}`)),
  )}), ',')`;
  // The outer aggregates read the groups in one order (the same for all of them, as they have no ORDER BY).
  const { rows } = await sql<{ n: number; counts: string; numbers: string | null } & Record<string, string>>`
    select coalesce(sum(g.n), 0)::int as n, array_to_json(array_agg(g.n))::text as counts,
           string_agg(g.numbers, ',') as numbers${sql.join(
             groupCols.map(
               (_, i) => sql`, array_to_json(array_agg(${sql.ref(`g.g${i}`)}))::text as ${sql.ref(`g${i}`)}`,
             ),
             sql``,
           )}
      from (select count(*)::int as n, ${numbers} as numbers${sql.join(
        groupCols.map((g, i) => sql`, ${g} as ${sql.ref(`g${i}`)}`),
        sql``,
      )}
              from (${bucketsSelect(q)} limit ${limit}) b${
                groupCols.length ? sql` group by ${sql.join(groupCols)}` : sql``
              }) g
     where g.n > 0`.execute(db);
  const r = rows[0]!;
  if (!r.n) return { length: 0, origin, numbers: [], groups: [] };
  const counts = JSON.parse(r.counts) as number[];
  const values = q.groupBy.map((_, i) => JSON.parse(r[`g${i}`]!) as string[]);
  let first = 0;
  const groups = counts.map((count, g) => {
    const group = { values: values.map((v) => v[g]!), first, count };
    first += count;
    return group;
  });
  return { length: r.n, origin, numbers: JSON.parse(`[${r.numbers}]`) as number[], groups };
}

/**
 * The same buckets as packedBuckets, handed over group after group: `group(values, numbers, index, first, count)`
 * for each, its `count` buckets at numbers[index[first + i] * PACKED_STRIDE] (PACKED_STRIDE numbers each: start in
 * seconds after `q.from`, then the counters) in the order PostgreSQL read them, after `begin(buckets)` with their
 * number in all groups. The groups
 * come in the order of their values' bytes (PostgreSQL's "C" collation), which differs from JavaScript's only for
 * characters past U+FFFF against U+E000-U+FFFF. The buckets' rows come by a COPY as PostgreSQL reads them, read
 * where they lie in the connection's buffers and grouped by their values' bytes (BucketRows): PostgreSQL does not
 * group them (a quarter less of its CPU than a line per group) and sends its first row at once. At most `limit`
 * buckets. Returns the number of buckets, or undefined on the embedded PGlite (no COPY stream): packedBuckets
 * there.
 */
export async function streamBuckets(
  db: Kysely<Database>,
  q: RollupQuery,
  limit: number,
  group: BucketGroupSink,
  begin: (buckets: number) => void = () => undefined,
): Promise<number | undefined> {
  const pool = pgPoolOf(db);
  if (!pool) return undefined;
  const inner = inlineParameters(sql`${bucketsSelect(q)} limit ${limit}`.compile(db));
  const groupCols = q.groupBy.map((g) => `b.${COLUMN[g]}, `).join("");
  const rows = new BucketRows(q.groupBy.length);
  await copyAllLines(
    pool,
    `copy (select ${groupCols}date_part('epoch', b.at)::int8 - ${q.from.getTime() / 1000},
                  ${COUNTER_LIST.map((n) => `b.${n}`).join(", ")} from (${inner}) b) to stdout`,
    rows,
  );
  return rows.end(group, begin);
}

/** The SELECT of the buckets asked (columns: the groups', `at`, the counters). */
function bucketsSelect(q: RollupQuery): RawBuilder<unknown> {
  const filtered = GROUP_BY.filter((g) => q.filters[g] !== undefined);
  const cube = cubeFor(q.granularity, new Set([...q.groupBy, ...filtered]));
  const time = sql.ref(timeColumn(cube));
  const cols = q.groupBy.map((g) => sql.ref(COLUMN[g]));
  const bucket =
    q.granularity === cube.unit
      ? time
      : sql`date_trunc('day', ${time} at time zone 'UTC') at time zone 'UTC'`;
  const where = [sql`tenant = ${q.tenant}`, sql`${time} >= ${q.from}`, sql`${time} < ${q.to}`];
  for (const g of filtered) where.push(sql`${sql.ref(COLUMN[g])} = ${q.filters[g]}`);
  const groupCols = cols.length ? sql`${sql.join(cols)}, ` : sql``;
  // The table's rows are the buckets already (its key is the groups, the filters and the unit): read as they are.
  const unique =
    q.granularity === cube.unit &&
    cube.dims.length === q.groupBy.length + filtered.filter((f) => !q.groupBy.includes(f)).length;
  if (unique)
    return sql`
      select ${groupCols}${time} as at, sent, delivered, hard, soft, block, complaint, auto_reply, unverified
        from ${sql.table(cube.table)}
       where ${sql.join(where, sql` and `)}`;
  return sql`
    select ${groupCols}${bucket} as at,
           sum(sent)::bigint as sent, sum(delivered)::bigint as delivered, sum(hard)::bigint as hard,
           sum(soft)::bigint as soft, sum(block)::bigint as block, sum(complaint)::bigint as complaint,
           sum(auto_reply)::bigint as auto_reply, sum(unverified)::bigint as unverified
      from ${sql.table(cube.table)}
     where ${sql.join(where, sql` and `)}
     group by ${groupCols}at`;
}

function bucketOf(q: RollupQuery, r: Record<string, unknown>): RollupBucket {
  return {
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
  };
}

const PURGE_BATCH = 5_000;

/**
 * Deletes the hourly rows before `hourlyBefore` and the daily rows before `dailyBefore` (undefined: kept), in
 * batches of rows locked with SKIP LOCKED (several processes share the work). The daily tables go on answering
 * for the days whose hourly rows are gone. Returns how many rows went.
 */
export async function purgeRollups(
  db: Kysely<Database>,
  o: { hourlyBefore?: Date; dailyBefore?: Date },
): Promise<number> {
  let total = 0;
  for (const c of CUBES) {
    const before = c.unit === "hour" ? o.hourlyBefore : o.dailyBefore;
    if (!before) continue;
    const t = sql.table(c.table);
    for (;;) {
      const { rows } = await sql<{ n: string }>`
        with gone as (
          delete from ${t} where ctid in (
            select ctid from ${t} where ${sql.ref(timeColumn(c))} < ${before}
             limit ${PURGE_BATCH} for update skip locked)
          returning 1)
        select count(*)::text as n from gone`.execute(db);
      const n = Number(rows[0]?.n ?? 0);
      total += n;
      if (n < PURGE_BATCH) break;
    }
  }
  return total;
}
