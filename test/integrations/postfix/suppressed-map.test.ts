// The lookup role's in-memory table of suppressions in force: answers per tenant and stream, the governing row,
// expiry judged at the lookup, and the open-addressing table kept right through inserts, growth and deletions
// (checked against a plain Map over thousands of random changes, with keys made to collide).
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  keyWords,
  SuppressedMap,
  type MirroredRow,
} from "../../../src/integrations/postfix/suppressed-map.js";

const hashOf = (s: string) => createHash("sha256").update(s).digest("hex");
const T0 = Date.parse("2026-12-01T00:00:00Z");
const row = (stream: string, over: Partial<MirroredRow> = {}): MirroredRow => ({
  stream,
  reason: "userunknown",
  class: "hard",
  since: T0,
  until: Infinity,
  ...over,
});

describe("SuppressedMap answers", () => {
  it("answers per tenant: an address suppressed in one tenant is not in another", () => {
    const m = new SuppressedMap();
    const h = hashOf("a@example.org");
    m.add("acme", h, row("default"));
    expect(m.governing("acme", h, "default", T0)?.reason).toBe("userunknown");
    expect(m.governing("default", h, "default", T0)).toBeUndefined();
    expect(m.governing("nobody", h, "default", T0)).toBeUndefined();
  });

  it("has() says whether a tenant's address has any row, expired or not, and forgets it once removed", () => {
    const m = new SuppressedMap();
    const h = hashOf("has@example.org");
    expect(m.has("acme", h)).toBe(false);
    m.add("acme", h, row("marketing", { until: T0 - 1 })); // past its expiry: still a row (the API asks the database)
    m.add("beta", h, row("default"));
    expect(m.has("acme", h)).toBe(true);
    expect(m.has("beta", h)).toBe(true);
    expect(m.has("gamma", h)).toBe(false);
    expect(m.has("acme", hashOf("other@example.org"))).toBe(false);
    m.remove("acme", h);
    expect(m.has("acme", h)).toBe(false);
    expect(m.has("beta", h)).toBe(true);
  });

  it("applies a stream's own rows and `*`, and any row when `*` is asked", () => {
    const m = new SuppressedMap();
    const h = hashOf("b@example.org");
    m.add("t", h, row("marketing"));
    expect(m.governing("t", h, "marketing", T0)?.stream).toBe("marketing");
    expect(m.governing("t", h, "transactional", T0)).toBeUndefined();
    expect(m.governing("t", h, "*", T0)?.stream).toBe("marketing");
    m.add("t", h, row("*", { reason: "complaint", class: "complaint" }));
    expect(m.governing("t", h, "transactional", T0)?.reason).toBe("complaint");
  });

  it("prefers a permanent row to a temporary one, then the one lasting longest, and names since and until", () => {
    const m = new SuppressedMap();
    const h = hashOf("c@example.org");
    m.add("t", h, row("s", { reason: "mailboxfull", class: "soft", until: T0 + 3_600_000 }));
    m.add("t", h, row("*", { reason: "blocked", class: "soft", until: T0 + 7_200_000 }));
    const g = m.governing("t", h, "s", T0)!;
    expect(g.reason).toBe("blocked");
    expect(g.until?.toISOString()).toBe("2026-12-01T02:00:00.000Z");
    expect(g.since.toISOString()).toBe("2026-12-01T00:00:00.000Z");
    m.add("t", h, row("s", { reason: "userunknown", since: T0 + 5 }));
    const p = m.governing("t", h, "s", T0)!;
    expect(p.reason).toBe("userunknown");
    expect(p.until).toBeNull();
  });

  it("counts a row whose expiry has passed as absent, at the lookup's clock", () => {
    const m = new SuppressedMap();
    const h = hashOf("d@example.org");
    m.add("t", h, row("s", { reason: "mailboxfull", class: "soft", until: T0 + 1000.5 }));
    expect(m.governing("t", h, "s", T0 + 1000)?.reason).toBe("mailboxfull");
    expect(m.governing("t", h, "s", T0 + 1000.5)).toBeUndefined();
    m.add("t", h, row("s", { reason: "other", class: "soft", until: T0 + 5000 }));
    expect(m.governing("t", h, "s", T0 + 2000)?.reason).toBe("other");
  });

  it("replace puts a tenant's rows of an address in place of what it held, and none removes them", () => {
    const m = new SuppressedMap();
    const h = hashOf("e@example.org");
    m.add("t", h, row("a"));
    m.add("t", h, row("b"));
    m.add("u", h, row("a"));
    expect(m.rows).toBe(3);
    m.replace("t", h, [row("c")]);
    expect(m.governing("t", h, "a", T0)).toBeUndefined();
    expect(m.governing("t", h, "c", T0)?.stream).toBe("c");
    expect(m.governing("u", h, "a", T0)?.stream).toBe("a");
    m.replace("t", h, []);
    expect(m.governing("t", h, "*", T0)).toBeUndefined();
    expect(m.governing("u", h, "*", T0)?.stream).toBe("a");
    m.replace("u", h, []);
    expect([m.rows, m.addresses]).toEqual([0, 0]);
  });

  it("replaceFrom puts in the rows another map holds for a tenant's address, as replace would, ties included", () => {
    // Rows as a feed reads them (several tenants, streams, an address of one tenant only, equal expiries that
    // tie for "governing": the order replace gives them decides which one names the refusal).
    const tenants = ["acme", "beta"];
    const streams = ["default", "marketing", "*"];
    const viaReplace = new SuppressedMap(4);
    const viaFrom = new SuppressedMap(4);
    const staged = new SuppressedMap(4);
    const changed: [string, string, MirroredRow[]][] = [];
    for (let i = 0; i < 300; i++) {
      // Each (tenant, address) once, as in a poll; the same addresses in both tenants.
      const tenant = tenants[i < 150 ? 0 : 1]!;
      const h = hashOf(`rf${i % 150}@example.org`);
      // What both held before: another row, to be replaced.
      for (const m of [viaReplace, viaFrom]) m.add(tenant, h, row("old", { reason: "before" }));
      const rows = Array.from({ length: i % 4 }, (_, k) =>
        row(streams[(i + k) % 3]!, {
          reason: `r${k}`,
          class: k % 2 ? "soft" : "hard",
          since: T0 + k,
          until: k === 3 ? T0 + 1000 : Infinity,
        }),
      );
      for (const r of rows) staged.add(tenant, h, r);
      changed.push([tenant, h, rows]);
    }
    for (const [tenant, h, rows] of changed) {
      viaReplace.replace(tenant, h, rows);
      viaFrom.replaceFrom(staged, tenant, h);
    }
    expect([viaFrom.rows, viaFrom.addresses]).toEqual([viaReplace.rows, viaReplace.addresses]);
    for (const [tenant, h] of changed)
      for (const stream of [...streams, "old", "other"])
        expect(viaFrom.governing(tenant, h, stream, T0)).toEqual(viaReplace.governing(tenant, h, stream, T0));
    // An address the other map does not hold: its rows removed.
    const gone = hashOf("gone@example.org");
    viaFrom.add("acme", gone, row("default"));
    viaFrom.replaceFrom(staged, "acme", gone);
    expect(viaFrom.has("acme", gone)).toBe(false);
  });

  it("keys a hash that is not hex too (folded), distinct from others", () => {
    const m = new SuppressedMap();
    m.add("t", "not-a-hex-hash", row("s"));
    expect(m.governing("t", "not-a-hex-hash", "s", T0)?.stream).toBe("s");
    expect(m.governing("t", "not-a-hex-hasi", "s", T0)).toBeUndefined();
    const w = new Uint32Array(3);
    keyWords("00000001ffffffff12345678" + "0".repeat(40), w);
    expect([...w]).toEqual([1, 0xffffffff, 0x12345678]);
  });
});

describe("SuppressedMap's table", () => {
  it("reserve makes room in steps, answering from the old arrays between them, so that adds then grow nothing", async () => {
    const m = new SuppressedMap(16);
    const hashes = Array.from({ length: 200_000 }, (_, i) => hashOf(`r${i}@example.org`));
    for (let i = 0; i < 1000; i++) m.add("t", hashes[i]!, row("s", { since: T0 + i }));
    const before = m.bytes;
    let pauses = 0;
    await m.reserve(199_000, async () => {
      pauses++;
      expect(m.governing("t", hashes[pauses % 1000]!, "s", T0)?.since.getTime()).toBe(T0 + (pauses % 1000));
      expect(m.governing("t", hashes[5000]!, "s", T0)).toBeUndefined();
    });
    expect(pauses).toBeGreaterThan(1);
    const reserved = m.bytes;
    expect(reserved).toBeGreaterThan(before);
    for (let i = 1000; i < 200_000; i++) m.add("t", hashes[i]!, row("s", { since: T0 + i }));
    expect(m.bytes).toBe(reserved);
    for (const i of [0, 999, 1000, 123_456, 199_999])
      expect(m.governing("t", hashes[i]!, "s", T0)?.since.getTime()).toBe(T0 + i);
  });

  it("agrees with a plain Map over 20,000 random adds, replaces and removes, with colliding slots", () => {
    // Hashes whose first word takes few values: long probe runs, wrapping around, shifted back on deletion.
    let seed = 12345;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const hashes = Array.from({ length: 3000 }, (_, i) => {
      const first = (Math.floor(rand() * 40) * 0x01000001) >>> 0; // spread over the table, many the same
      return first.toString(16).padStart(8, "0") + hashOf(String(i)).slice(8);
    });
    const tenants = ["t1", "t2", "t3"];
    const streams = ["a", "b", "*"];
    const model = new Map<string, MirroredRow[]>();
    const m = new SuppressedMap(16);
    for (let step = 0; step < 20_000; step++) {
      const h = hashes[Math.floor(rand() * hashes.length)]!;
      const t = tenants[Math.floor(rand() * tenants.length)]!;
      const k = `${t} ${h}`;
      const r = rand();
      if (r < 0.5) {
        const rows = streams
          .filter(() => rand() < 0.5)
          .map((s) => row(s, { reason: `r${step}`, until: rand() < 0.5 ? Infinity : T0 + step }));
        m.replace(t, h, rows);
        if (rows.length) model.set(k, rows);
        else model.delete(k);
      } else if (r < 0.8) {
        m.remove(t, h);
        model.delete(k);
      } else {
        const want = pick(model.get(k), "a", T0);
        expect(m.governing(t, h, "a", T0)?.reason).toBe(want?.reason);
      }
    }
    for (const h of hashes)
      for (const t of tenants)
        for (const s of ["a", "b", "*"])
          expect(m.governing(t, h, s, T0)?.reason).toBe(pick(model.get(`${t} ${h}`), s, T0)?.reason);
    expect(m.rows).toBe([...model.values()].reduce((n, l) => n + l.length, 0));
  });
});

/** The model's answer: as SuppressedMap.governing. */
function pick(rows: MirroredRow[] | undefined, stream: string, now: number): MirroredRow | undefined {
  let best: MirroredRow | undefined;
  for (const r of rows ?? []) {
    if (stream !== "*" && r.stream !== stream && r.stream !== "*") continue;
    if (r.until <= now) continue;
    if (!best || r.until > best.until) best = r;
  }
  return best;
}
