// writeStatsGroups (the JSON GET /v1/stats sends) against statsOf (the objects it stands for), and JsonBytes's
// numbers and strings against JSON.stringify.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { COUNTERS } from "../../src/core/rollup.js";
import {
  columnarOf,
  PACKED_STRIDE,
  statsOf,
  writeStatsGroups,
  type Bucket,
  type PackedBuckets,
  type PackedGroup,
  type StatsFormat,
} from "../../src/core/stats.js";
import { GROUP_BY } from "../../src/store/rollups.js";
import { JsonBytes, ratioValue } from "../../src/util/json-bytes.js";

const H = 3_600_000;
const FROM = new Date("2026-03-10T00:00:00Z");
const TO = new Date(FROM.getTime() + 24 * H);

/** These buckets packed per group (as packedBuckets returns them), the groups in the order first seen. */
function pack(buckets: Bucket[], dims: number): PackedBuckets {
  const groups = new Map<string, { values: string[]; numbers: number[] }>();
  for (const b of buckets) {
    const values = b.group.slice(0, dims);
    const k = JSON.stringify(values);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { values, numbers: [] }));
    g.numbers.push((b.at.getTime() - FROM.getTime() + 24 * H) / 1000, ...COUNTERS.map((c) => b.counts[c]));
  }
  const numbers: number[] = [];
  const packed: PackedGroup[] = [];
  for (const g of groups.values()) {
    packed.push({
      values: g.values,
      first: numbers.length / PACKED_STRIDE,
      count: g.numbers.length / PACKED_STRIDE,
    });
    numbers.push(...g.numbers);
  }
  return { length: buckets.length, origin: FROM.getTime() - 24 * H, numbers, groups: packed };
}

function written(buckets: Bucket[], groupBy: string[], format: StatsFormat = "points"): string {
  const out = new JsonBytes(16);
  writeStatsGroups(out, pack(buckets, groupBy.length), {
    groupBy,
    names: GROUP_BY,
    from: FROM,
    to: TO,
    format,
  });
  return out.bytes().toString("utf8");
}

const counts = (sent: number, more: Partial<Record<(typeof COUNTERS)[number], number>> = {}) =>
  Object.fromEntries(COUNTERS.map((c) => [c, c === "sent" ? sent : (more[c] ?? 0)])) as Bucket["counts"];

/** Buckets of two groups over this period and the previous one. */
const twoPeriods = (): Bucket[] => [
  { group: ["news", "google"], at: new Date(FROM.getTime() + 3 * H), counts: counts(1000, { hard: 7 }) },
  // The previous period's bucket of the same hour: beside it in one point.
  { group: ["news", "google"], at: new Date(FROM.getTime() - 21 * H), counts: counts(300, { complaint: 1 }) },
  // A previous-period bucket alone makes a point of zeros (rates null).
  { group: ["news", "google"], at: new Date(FROM.getTime() - 2 * H), counts: counts(0, { delivered: 5 }) },
  { group: ["alerts", "yahoo"], at: new Date(FROM.getTime() + 1 * H), counts: counts(3, { block: 1 }) },
];

/** Up to 40 buckets of groups (`text`, x or y) over both periods, small counts and large. */
const anyBuckets = (text: fc.Arbitrary<string>): fc.Arbitrary<Bucket[]> =>
  fc
    .array(
      fc.record({
        group: fc.tuple(text, fc.constantFrom("x", "y")),
        hour: fc.integer({ min: -24, max: 23 }),
        counts: fc.tuple(...COUNTERS.map(() => fc.oneof(fc.nat(20), fc.nat(2 ** 40)))),
      }),
      { maxLength: 40 },
    )
    .map((raw) =>
      raw.map((b) => ({
        group: b.group,
        at: new Date(FROM.getTime() + b.hour * H),
        counts: Object.fromEntries(COUNTERS.map((c, i) => [c, b.counts[i]!])) as Bucket["counts"],
      })),
    );

describe("writeStatsGroups", () => {
  it("writes statsOf's groups with the members in the response schema's order (a point's `at` first)", () => {
    const buckets = twoPeriods();
    const groups = statsOf(buckets, { groupBy: ["stream", "provider"], from: FROM, to: TO });
    const schemaOrder = groups.map((g) => ({ ...g, points: g.points.map(({ at, ...p }) => ({ at, ...p })) }));
    expect(written(buckets, ["stream", "provider"])).toBe(JSON.stringify(schemaOrder));
  });

  it("names the key's members in the schema's order whatever the order grouped by, with the same values", () => {
    const buckets: Bucket[] = [
      { group: ["yahoo", "news"], at: new Date(FROM.getTime() + H), counts: counts(10) },
      { group: ["google", "news"], at: new Date(FROM.getTime() + H), counts: counts(20) },
    ];
    const text = written(buckets, ["provider", "stream"]);
    expect(text.indexOf('"stream"')).toBeLessThan(text.indexOf('"provider"'));
    expect(JSON.parse(text)).toEqual(
      statsOf(buckets, { groupBy: ["provider", "stream"], from: FROM, to: TO }),
    );
  });

  it("gives the same groups as statsOf for any buckets: odd text, large counts, several rows of one bucket", () => {
    const text = fc.oneof(
      fc.constantFrom("", "a", "é", '"', "\\", "\n", "\u2028", "😀", "a\u0001b"),
      fc.string(),
    );
    fc.assert(
      fc.property(anyBuckets(text), (buckets) => {
        const got = JSON.parse(written(buckets, ["campaign", "sendingIp"]));
        expect(got).toEqual(statsOf(buckets, { groupBy: ["campaign", "sendingIp"], from: FROM, to: TO }));
      }),
      { numRuns: 300 },
    );
  });

  it("writes the columnar form (format=columnar) as JSON.stringify writes columnarOf(statsOf(...)), member for member", () => {
    const buckets = twoPeriods();
    const groups = columnarOf(statsOf(buckets, { groupBy: ["stream", "provider"], from: FROM, to: TO }));
    const text = written(buckets, ["stream", "provider"], "columnar");
    expect(text).toBe(JSON.stringify(groups));
    // Point for point the same figures as the points' form.
    const series = groups.find((g) => g.key.stream === "news")!.series;
    expect(series.at).toEqual(["2026-03-10T03:00:00.000Z", "2026-03-10T22:00:00.000Z"]);
    expect(series.sent).toEqual([1000, 0]);
    expect(series.hardRate).toEqual([0.007, null]);
    expect(series.previous.sent).toEqual([300, 0]);
    expect(series.previous.delivered).toEqual([0, 5]);
    // Rates to 6 significant digits (RATIO_DIGITS), as the API answers them.
    expect(series.previous.complaintRate).toEqual([0.00333333, null]);
  });

  it("gives the same columns as columnarOf(statsOf(...)) for any buckets", () => {
    fc.assert(
      fc.property(anyBuckets(fc.string()), (buckets) => {
        // In the schema's order, so that the key's members are in JSON.stringify's.
        const groupBy = ["campaign", "sendingIp"];
        expect(written(buckets, groupBy, "columnar")).toBe(
          JSON.stringify(columnarOf(statsOf(buckets, { groupBy, from: FROM, to: TO }))),
        );
        expect(JSON.parse(written(buckets, groupBy))).toEqual(
          statsOf(buckets, { groupBy, from: FROM, to: TO }),
        );
      }),
      { numRuns: 300 },
    );
  });

  it("gives statsOf's groups for buckets in time order within each period (merged) as for any order", () => {
    const bucket = fc.record({
      group: fc.constantFrom("a", "b"),
      hour: fc.integer({ min: -24, max: 23 }),
      sent: fc.nat(1000),
      hard: fc.nat(10),
    });
    fc.assert(
      fc.property(fc.array(bucket, { maxLength: 60 }), fc.boolean(), (raw, interleave) => {
        // Each period's buckets in time order; the periods one after the other, or interleaved.
        const sorted = [...raw].sort((x, y) => x.hour - y.hour);
        const ordered = interleave
          ? sorted
          : [...sorted.filter((b) => b.hour >= 0), ...sorted.filter((b) => b.hour < 0)];
        const buckets: Bucket[] = ordered.map((b) => ({
          group: [b.group],
          at: new Date(FROM.getTime() + b.hour * H),
          counts: counts(b.sent, { hard: b.hard }),
        }));
        const want = statsOf(buckets, { groupBy: ["stream"], from: FROM, to: TO });
        expect(JSON.parse(written(buckets, ["stream"]))).toEqual(want);
        expect(written(buckets, ["stream"], "columnar")).toBe(JSON.stringify(columnarOf(want)));
      }),
      { numRuns: 300 },
    );
  });

  it("packs a bucket as its start in seconds and its counters", () => {
    expect(PACKED_STRIDE).toBe(1 + COUNTERS.length);
  });
});

describe("JsonBytes", () => {
  it("writes numbers as JSON.stringify does", () => {
    const xs = [
      0,
      1,
      9,
      10,
      99,
      100,
      12345,
      999_999_999,
      1e9,
      2 ** 31,
      2 ** 32 - 1,
      2 ** 32,
      2 ** 53 - 1,
      2 ** 53,
      1e21,
      -1,
      -0,
      0.5,
      0.1 + 0.2,
      1 / 3,
      1e-7,
      0.00001,
      123.456,
      2 / 1000,
      1.5e300,
    ];
    for (const x of xs) {
      const out = new JsonBytes(1);
      out.number(x);
      expect(out.bytes().toString(), String(x)).toBe(JSON.stringify(x));
    }
    const out = new JsonBytes(1);
    out.number(null);
    expect(out.bytes().toString()).toBe("null");
  });

  it("writes any finite number, one after another, as JSON.stringify does, growing as it needs", () => {
    const finite = fc.oneof(
      fc.nat(),
      fc.maxSafeNat(),
      fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
    );
    fc.assert(
      fc.property(fc.array(finite, { maxLength: 20 }), (xs) => {
        const out = new JsonBytes(1);
        for (const x of xs) out.number(x);
        expect(out.bytes().toString()).toBe(xs.map((x) => JSON.stringify(x)).join(""));
      }),
    );
  });

  it("writes strings as JSON.stringify does, in UTF-8, growing as it needs", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary" }), { maxLength: 20 }), (ss) => {
        const out = new JsonBytes(1);
        for (const s of ss) out.string(s);
        expect(out.bytes().toString("utf8")).toBe(ss.map((s) => JSON.stringify(s)).join(""));
      }),
    );
  });
});

describe("rates to 6 significant digits (JsonBytes.ratio, ratioValue)", () => {
  const text = (n: number, d: number) => new JsonBytes(4).ratio(n, d).bytes().toString("latin1");

  it("writes a rate rounded half up to 6 significant digits, as JSON writes that number", () => {
    expect(text(5, 4750)).toBe("0.00105263");
    expect(text(1, 3)).toBe("0.333333");
    expect(text(2, 3)).toBe("0.666667");
    expect(text(7, 1000)).toBe("0.007");
    expect(text(0, 10)).toBe("0");
    expect(text(3, 0)).toBe("null");
    expect(text(1, 1)).toBe("1");
    expect(text(5, 2)).toBe("2.5");
    expect(text(1, 1_000_000)).toBe("0.000001");
    expect(text(1, 10_000_000)).toBe("1e-7");
    expect(text(3, 20_000_000)).toBe("1.5e-7");
    expect(text(1, 3_000_000_000)).toBe("3.33333e-10");
    // Half up on the exact quotient, and rounding up into the next power of ten.
    expect(text(1234565, 10_000_000)).toBe("0.123457");
    expect(text(9999995, 10_000_000)).toBe("1");
    expect(text(99999951, 1_000_000_000)).toBe("0.1");
    // Counts beyond the integer path (over 9e9): the same rounding.
    expect(text(2 ** 40, 3 * 2 ** 40)).toBe("0.333333");
    expect(text(2 ** 40 + 1, 2 ** 41)).toBe("0.5");
  });

  it("is the exact quotient rounded half up to 6 significant digits, for any counts", () => {
    const count = fc.oneof(
      fc.nat(1000),
      fc.nat(2 ** 31),
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    );
    fc.assert(
      fc.property(count, count, (n, d) => {
        const t = text(n, d);
        if (d === 0) {
          expect(t).toBe("null");
          return;
        }
        expect(t).toBe(JSON.stringify(ratioValue(n, d)));
        if (n === 0) {
          expect(t).toBe("0");
          return;
        }
        // t = D * 10^x with D of at most 6 digits; |D * 10^x - n/d| <= half a unit of the 6th digit, ties up:
        // checked in exact integer arithmetic.
        const [mantissa, exp = "0"] = t.split("e");
        const [int, frac = ""] = mantissa!.split(".");
        const D = BigInt(int! + frac);
        const x = Number(exp) - frac.length;
        expect(String(D).replace(/0+$/, "").length).toBeLessThanOrEqual(6);
        const N = BigInt(n);
        const Dd = BigInt(d);
        // Scale: value = D * 10^x; compare 2 * |D * 10^x * d - n| against one unit of the 6th digit.
        const pow = (k: number) => BigInt(10) ** BigInt(k);
        const digits = String(D).length;
        const unitExp = x + digits - 6; // the 6th significant digit's place
        const lo = Math.min(x, unitExp, 0);
        const value = D * pow(x - lo) * Dd;
        const exact = N * pow(-lo);
        const unit = pow(unitExp - lo) * Dd;
        const diff = value - exact;
        // Within half a unit; exactly half only when rounded up.
        expect(2n * (diff < 0n ? -diff : diff) <= unit).toBe(true);
        if (2n * diff === -unit) throw new Error(`rounded down at a tie: ${n}/${d} = ${t}`);
      }),
      { numRuns: 3000 },
    );
  });
});
