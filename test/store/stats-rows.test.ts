// streamBuckets (the buckets' rows by binary COPY, grouped in Node: BucketRows) against rollupBuckets (the same
// SELECT read as row objects), on real PostgreSQL.
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COUNTERS } from "../../src/core/rollup.js";
import { PACKED_STRIDE } from "../../src/core/stats.js";
import { rollupBuckets, streamBuckets, type GroupBy, type RollupQuery } from "../../src/store/rollups.js";
import { createTestDb, type TestDb } from "../helpers/db.js";

const H = 3_600_000;
const TO = new Date("2026-03-10T00:00:00Z");
const FROM = new Date(TO.getTime() - 48 * H);

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
  // 700 stream-provider pairs (more than the first table of groups holds), rows written in an order that is not
  // a cycle of the pairs (so the guess of the next group misses), some counters past 2^31 and 2^32, and hours
  // outside the window.
  await sql`insert into rollups_sp_hourly (tenant, hour, stream, provider, sent, delivered, hard, soft, block,
              complaint, auto_reply, unverified)
            select 'acme', ${TO}::timestamptz - make_interval(hours => h), 's' || (k % 35), 'p' || (k / 35),
                   k * 1000 + h, 3000000000 + h, 5000000000 * (k % 3), k, h, 1, 0, 2
              from generate_series(1, 60) h, generate_series(0, 699) k
             where (h * 7 + k) % 5 <> 0
             order by md5(h::text || k::text)`.execute(t.db);
  // Odd group values: a tab, a newline, a backslash, a quote, non-ASCII and a character past U+FFFF.
  await sql`insert into rollups_sp_hourly (tenant, hour, stream, provider, sent)
            select 'acme', ${TO}::timestamptz - make_interval(hours => h), s, 'google', h
              from generate_series(1, 30) h,
                   unnest(array['tab' || chr(9) || 'new' || chr(10) || 'line', 'back\\slash', 'é "q"', chr(128512),
                                chr(65533), '']) s`.execute(t.db);
  await sql`insert into rollups_sp_hourly (tenant, hour, stream, provider, sent)
            values ('other', ${TO}::timestamptz - interval '1 hour', 's1', 'p1', 5)`.execute(t.db);
});
afterAll(async () => t?.drop());

/** streamBuckets' groups as [values, buckets sorted by start] in the order handed out. */
async function streamed(q: RollupQuery) {
  const groups: [string[], number[][]][] = [];
  let begun = -1;
  const n = await streamBuckets(
    t.db,
    q,
    50_001,
    (values, numbers, index, first, count) => {
      const buckets = Array.from({ length: count }, (_, i) => {
        const at = index[first + i]! * PACKED_STRIDE;
        return numbers.slice(at, at + PACKED_STRIDE);
      });
      groups.push([values, buckets.sort((a, b) => a[0]! - b[0]!)]);
    },
    (buckets) => (begun = buckets),
  );
  return { n, begun, groups };
}

/** rollupBuckets' buckets in the same form, groups by their values' UTF-8 bytes. */
async function expected(q: RollupQuery) {
  const byGroup = new Map<string, [string[], number[][]]>();
  for (const b of await rollupBuckets(t.db, q)) {
    const k = JSON.stringify(b.group);
    if (!byGroup.has(k)) byGroup.set(k, [b.group, []]);
    byGroup
      .get(k)![1]
      .push([(b.at.getTime() - q.from.getTime()) / 1000, ...COUNTERS.map((c) => b.counts[c])]);
  }
  const bytes = (vs: string[]) => vs.map((v) => Buffer.from(v, "utf8"));
  const order = (a: string[], b: string[]) => {
    const [x, y] = [bytes(a), bytes(b)];
    for (let i = 0; i < x.length; i++) if (Buffer.compare(x[i]!, y[i]!)) return Buffer.compare(x[i]!, y[i]!);
    return 0;
  };
  return [...byGroup.values()]
    .map(([v, bs]) => [v, bs.sort((a, b) => a[0]! - b[0]!)] as [string[], number[][]])
    .sort((a, b) => order(a[0], b[0]));
}

const query = (groupBy: GroupBy[], filters: RollupQuery["filters"] = {}): RollupQuery => ({
  tenant: "acme",
  from: FROM,
  to: TO,
  granularity: "hour",
  groupBy,
  filters,
});

describe("streamBuckets", () => {
  it("hands out every group once, in its values' byte order, with the same buckets as rollupBuckets", async () => {
    for (const q of [
      query(["stream", "provider"]),
      query(["provider", "stream"]),
      query(["provider"]),
      query([]),
      query(["stream"], { provider: "google" }),
    ]) {
      const want = await expected(q);
      const got = await streamed(q);
      expect(got.groups, JSON.stringify(q.groupBy)).toEqual(want);
      const buckets = want.reduce((n, [, bs]) => n + bs.length, 0);
      expect(got.n).toBe(buckets);
      expect(got.begun).toBe(buckets);
    }
    // Counters past 2^31 and 2^32 come through exactly.
    const all = (await streamed(query(["stream", "provider"]))).groups.flatMap(([, bs]) => bs);
    expect(all.some((b) => b[2] === 3_000_000_001)).toBe(true);
    expect(all.some((b) => b[3] === 10_000_000_000)).toBe(true);
  });

  it("hands out nothing, and does not call begin, for an empty window; stops at the limit", async () => {
    const empty = await streamed({ ...query(["stream"]), tenant: "nobody" });
    expect(empty).toEqual({ n: 0, begun: -1, groups: [] });
    let seen = 0;
    const n = await streamBuckets(
      t.db,
      query(["stream", "provider"]),
      100,
      (_, __, ___, ____, count) => (seen += count),
    );
    expect(n).toBe(100);
    expect(seen).toBe(100);
  });
});
