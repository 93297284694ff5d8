// Suppression exports over HTTP: the COPY stream on PostgreSQL gives the very bytes of the paged form (the one
// PGlite uses), for awkward values too, and frees its connection when the reader goes away.
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FilterQuery } from "../../src/api/routes/suppressions.js";
import { filterOf } from "../../src/api/routes/suppressions.js";
import { normalizeAddress } from "../../src/core/address.js";
import type { Db } from "../../src/store/db.js";
import { copyOutLines } from "../../src/store/copy.js";
import { pgPoolOf } from "../../src/store/db.js";
import { exportText, type ExportFormat } from "../../src/store/exports.js";
import { upsertSuppression } from "../../src/store/suppressions.js";
import {
  createEmbeddedTestDb,
  createTestDb,
  TEST_DATABASE_URL,
  testHash as hashAddress,
  testHashSql,
  type TestDb,
  withHash,
} from "../helpers/db.js";
import { cli } from "../cli/run-cli.js";
import { HeapGrowth } from "../../src/util/heap.js";
import { client, startTestApi, type Client, type TestApi } from "./helpers.js";

type Source = Parameters<typeof upsertSuppression>[1]["source"];

let t: TestDb;
let api: TestApi;
let acme: Client;

const address = (input: string) => {
  const n = normalizeAddress(input);
  if (!n.ok) throw new Error(n.message);
  return n.address;
};

// Values that CSV must quote, that JSON must escape, that COPY's text format would mangle (backslashes), and
// the bytes the NDJSON form's COPY uses as its delimiter and quote.
const AWKWARD = [
  { address: address('"quoted, \\back\\slash"@example.com'), note: 'said "no", twice' },
  { address: address('"a\\"b"@example.com'), note: "line one\nline two" },
  { address: address("José@Exämple.com"), note: "crlf\r\nand\ttab" },
  { address: address("slash@example.com"), note: "back\\slash \\n not a newline, \\\\ two" },
  { address: address("blank@example.com"), note: "" },
  { address: address("marker@example.com"), note: "\\." },
  { address: address("controls@example.com"), note: "ctl \u0001 \u0002 \u001f end" },
  { address: address("escapes@example.com"), note: 'bs \b ff \f vt \u000b del \u007f, "q"' },
  { address: address("unicode@example.com"), note: "ünïcödé 😀 中文" },
  // Cells a spreadsheet would run as formulas (OWASP: = + - @, tab, CR at the start).
  { address: address("=1+2@example.com"), note: "@SUM(1+1)" },
  { address: address("+plus@example.com"), note: "-2+3" },
  { address: address("-minus@example.com"), note: "\t=tab" },
  { address: address("@at@example.com"), note: "\r=cr" },
];

/** The same rows in any database: the awkward ones, plus a spread of streams, reasons, sources and times. */
async function seed(db: Db): Promise<void> {
  const at = new Date("2026-01-01T00:00:00Z");
  const add = (
    tenant: string,
    stream: string,
    addr: string,
    more: { reason?: string; cls?: string; source?: Source; rule?: string | null; note?: string } = {},
  ) =>
    upsertSuppression(
      db,
      withHash({
        tenant,
        stream,
        address: addr,
        reason: more.reason ?? "userunknown",
        class: more.cls ?? "hard",
        source: more.source ?? "bounce",
        rule: more.rule === undefined ? "hard.default" : more.rule,
        note: more.note,
        at,
      }),
    );
  await add("acme", "marketing", "hard@example.com");
  await add("acme", "*", "complained@example.com", {
    reason: "feedback",
    cls: "complaint",
    source: "complaint",
  });
  await add("acme", "transactional", "tx@example.com", { rule: null });
  await add("acme", "a.b:c-d", "empty.rule@example.com", { rule: "" });
  await add("acme", "marketing", "ruled@example.com", { rule: "x,y" });
  for (const a of AWKWARD) await add("acme", "notes", a.address, { note: a.note, source: "manual" });
  await add("acme", "marketing", "full@example.com", { reason: "mailboxfull", cls: "soft" });
  await add("acme", "marketing", "expired@example.com", { reason: "mailboxfull", cls: "soft" });
  await add("other", "marketing", "theirs@example.com");
  // Microseconds, a later first_seen, an expiry in the future and one in the past.
  await sql`update suppressions set last_seen = '2026-01-02 03:04:05.123456+00', count = 7
            where address = 'hard@example.com'`.execute(db);
  await sql`update suppressions set first_seen = '2026-03-01 12:00:00.5+00', last_seen = '2026-03-01 12:00:00.5+00'
            where address = 'tx@example.com'`.execute(db);
  await sql`update suppressions set expires_at = '2099-01-01 00:00:00+00' where address = 'full@example.com'`.execute(
    db,
  );
  await sql`update suppressions set expires_at = '2020-01-01 00:00:00+00' where address = 'expired@example.com'`.execute(
    db,
  );
}

beforeAll(async () => {
  t = await createTestDb();
  await seed(t.db);
  // The aborted exports' readers never close their side: shutdown closes them after this grace.
  api = await startTestApi(t.db, { apiShutdownGraceMs: 500 });
  acme = await client(t.db, api, "acme");
});

afterAll(async () => {
  await api?.close();
  await t?.drop();
});

/** The paged export (PGlite's path, and the one before COPY) of the same query, as one string. */
async function pagedExport(db: Db, format: ExportFormat, hashed: boolean, q: FilterQuery): Promise<string> {
  let text = "";
  for await (const chunk of exportText(db, filterOf("acme", q), new Date(), { format, hashed, pageSize: 5 }))
    text += chunk;
  return text;
}

const QUERIES: FilterQuery[] = [
  {},
  { stream: "notes" },
  { stream: "marketing", reason: "userunknown" },
  { class: "soft" },
  { source: "complaint" },
  { since: "2026-02-01T00:00:00Z" },
  { until: "2026-02-01T00:00:00Z", stream: "marketing" },
  { state: "expired" },
  { state: "all" },
  { stream: "nothing-here" },
];

const path = (format: ExportFormat, hashed: boolean, q: FilterQuery) =>
  `/v1/exports/suppressions?${new URLSearchParams({ format, hashed: String(hashed), ...(q as Record<string, string>) })}`;

describe("exports on PostgreSQL", () => {
  it("writes CSV with a header, quoting and escaping as the paged form does, byte for byte", async () => {
    const res = await acme.get(path("csv", false, {}));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    const body = await res.text();
    const lines = body.split("\n");
    expect(lines[0]).toBe("address,stream,reason,class,source,firstSeen,lastSeen,expiresAt,count,rule,note");
    expect(lines[1]).toBe(
      "hard@example.com,marketing,userunknown,hard,bounce,2026-01-01T00:00:00.000Z,2026-01-02T03:04:05.123Z,,7,hard.default,",
    );
    expect(lines[3]).toBe(
      "tx@example.com,transactional,userunknown,hard,bounce,2026-03-01T12:00:00.500Z,2026-03-01T12:00:00.500Z,,1,,",
    );
    expect(lines[4]).toBe(
      "empty.rule@example.com,a.b:c-d,userunknown,hard,bounce,2026-01-01T00:00:00.000Z,2026-01-01T00:00:00.000Z,,1,,",
    );
    expect(lines[5]).toBe(
      'ruled@example.com,marketing,userunknown,hard,bounce,2026-01-01T00:00:00.000Z,2026-01-01T00:00:00.000Z,,1,"x,y",',
    );
    expect(lines[6]).toBe(
      '"""quoted, \\back\\slash""@example.com",notes,userunknown,hard,manual,2026-01-01T00:00:00.000Z,2026-01-01T00:00:00.000Z,,1,hard.default,"said ""no"", twice"',
    );
    expect(body).toContain(',"line one\nline two"\n');
    expect(body).toContain(',"crlf\r\nand\ttab"\n');
    expect(body).toContain(',"back\\slash \\n not a newline, \\\\ two"\n');
    expect(body).toContain("blank@example.com,notes,userunknown,hard,manual,");
    expect(body).toContain(",hard.default,\nmarker@example.com,");
    expect(body).toContain(",\\.\n");
    expect(body).toContain(",ctl \u0001 \u0002 \u001f end\n");
    expect(body).toContain(`\n${AWKWARD[2]!.address},notes,`);
    expect(body).toContain(",ünïcödé 😀 中文\n");
    expect(body).toContain(",2099-01-01T00:00:00.000Z,1,hard.default,\n");
    expect(body).not.toContain("theirs@example.com");
    expect(body).not.toContain("expired@example.com");
    expect(body).toBe(await pagedExport(t.db, "csv", false, {}));
  });

  it("puts a ' before every CSV cell a spreadsheet would run as a formula, as the paged form does", async () => {
    const body = await (await acme.get(path("csv", false, { stream: "notes" }))).text();
    expect(body).toContain("\n'=1+2@example.com,notes,");
    expect(body).toContain(",hard.default,'@SUM(1+1)\n");
    expect(body).toContain("\n'+plus@example.com,notes,");
    expect(body).toContain(",hard.default,'-2+3\n");
    expect(body).toContain("\n'-minus@example.com,notes,");
    expect(body).toContain(",hard.default,'\t=tab\n");
    expect(body).toContain(`\n"'@at@example.com",notes,`.replace(/"/g, ""));
    expect(body).toContain(`,hard.default,"'\r=cr"\n`);
    // No cell of any line starts with a formula character.
    for (const line of body.split("\n").slice(1))
      for (const cell of line.split(",")) expect(cell).not.toMatch(/^[=+@]/);
    expect(body).toBe(await pagedExport(t.db, "csv", false, { stream: "notes" }));
    // NDJSON carries the values as they are.
    const nd = await (await acme.get(path("ndjson", false, { stream: "notes" }))).text();
    expect(nd).toContain('"address":"=1+2@example.com"');
  });

  it("writes NDJSON whose lines parse back to the stored values, byte for byte as the paged form", async () => {
    const res = await acme.get(path("ndjson", false, { stream: "notes" }));
    expect(res.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
    const body = await res.text();
    expect(body.endsWith("}\n")).toBe(true);
    const objs = body
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(objs.map((o) => [o.address, o.note])).toEqual(AWKWARD.map((a) => [a.address, a.note]));
    expect(objs[0]).toEqual({
      address: '"quoted, \\back\\slash"@example.com',
      stream: "notes",
      reason: "userunknown",
      class: "hard",
      source: "manual",
      firstSeen: "2026-01-01T00:00:00.000Z",
      lastSeen: "2026-01-01T00:00:00.000Z",
      expiresAt: null,
      count: 1,
      rule: "hard.default",
      note: 'said "no", twice',
    });
    expect(body.split("\n")[3]).toContain(String.raw`"note":"back\\slash \\n not a newline, \\\\ two"}`);
    expect(body.split("\n")[6]).toContain(String.raw`"note":"ctl \u0001 \u0002 \u001f end"}`);
    expect(body).toBe(await pagedExport(t.db, "ndjson", false, { stream: "notes" }));
  });

  it("fails the stream when the COPY fails mid-way, and its connection is not reused", async () => {
    const pool = pgPoolOf(t.db)!;
    let lines = 0;
    const stream = await copyOutLines(
      pool,
      "copy (select g, 1 / (g - 50000) from generate_series(1, 100000) g) to stdout",
      { line: () => void lines++, flush: (push) => push(Buffer.from("x")) },
    );
    await expect(stream.toArray()).rejects.toThrow(/division by zero/);
    expect(lines).toBeGreaterThan(0);
    expect(lines).toBeLessThan(50_000);
    // The pool goes on: every connection answers.
    await Promise.all(Array.from({ length: 12 }, () => pool.query("select 1")));
  });

  it("gives the SHA-256 of each normalised address in the hashed form, as hashAddress computes it", async () => {
    const plain = (await (await acme.get(path("csv", false, { state: "all" }))).text()).split("\n");
    const hashed = (await (await acme.get(path("csv", true, { state: "all" }))).text()).split("\n");
    expect(hashed[0]).toBe(
      "addressHash,stream,reason,class,source,firstSeen,lastSeen,expiresAt,count,rule,note",
    );
    const json = (await (await acme.get(path("ndjson", true, { state: "all" }))).text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const addresses = json.map((o) => o.addressHash as string);
    expect(addresses).toHaveLength(20);
    const stored = await t.db
      .selectFrom("suppressions")
      .select("address")
      .where("tenant", "=", "acme")
      .orderBy("id")
      .execute();
    expect(addresses).toEqual(stored.map((r) => hashAddress(r.address!)));
    expect(json.every((o) => o.address === undefined)).toBe(true);
    // The rest of each CSV line is the plain form's, whatever its address needed in quoting.
    expect(hashed[1]).toBe(
      `${hashAddress("hard@example.com")},${plain[1]!.slice("hard@example.com,".length)}`,
    );
  });

  it("applies every filter of the list, tenant first, as the paged form does", async () => {
    for (const q of QUERIES)
      for (const format of ["csv", "ndjson"] as const)
        for (const hashed of [false, true]) {
          const res = await acme.get(path(format, hashed, q));
          expect(res.status).toBe(200);
          expect(await res.text(), JSON.stringify({ q, format, hashed })).toBe(
            await pagedExport(t.db, format, hashed, q),
          );
        }
    const expired = await (await acme.get(path("csv", false, { state: "expired" }))).text();
    expect(expired.trim().split("\n").slice(1)).toEqual([
      expect.stringMatching(
        /^expired@example\.com,marketing,mailboxfull,soft,bounce,.*,2020-01-01T00:00:00.000Z,1,/,
      ),
    ]);
    expect(await (await acme.get(path("csv", false, { stream: "nothing-here" }))).text()).toBe(
      "address,stream,reason,class,source,firstSeen,lastSeen,expiresAt,count,rule,note\n",
    );
    expect(await (await acme.get(path("ndjson", false, { stream: "nothing-here" }))).text()).toBe("");
  });

  it("writes the same bytes from the CLI", async () => {
    process.env.DATABASE_URL = TEST_DATABASE_URL;
    process.env.REBOUND_DATABASE_SCHEMA = t.schema;
    process.env.REBOUND_LOG_LEVEL = "silent";
    const csv = await cli("suppressions", "export", "--tenant", "acme", "--state", "all");
    expect(csv.code).toBe(0);
    expect(csv.stdout).toBe(await (await acme.get(path("csv", false, { state: "all" }))).text());
    const json = await cli("suppressions", "export", "--tenant", "acme", "--format", "ndjson", "--hashed");
    expect(json.stdout).toBe(await (await acme.get(path("ndjson", true, {}))).text());
  });

  it("gives its connection back when the reader goes away mid-export, so exports never run out of them", async () => {
    await sql`
      insert into suppressions (tenant, stream, address, address_hash, reason, class, source, first_seen, last_seen)
      select 'big', 'marketing', a, ${testHashSql("a")}, 'userunknown', 'hard', 'bounce',
             now(), now()
        from (select 'user' || g || '@example.com' as a from generate_series(1, 100000) g) s`.execute(t.db);
    const big = await client(t.db, api, "big");
    // More aborted exports than the pool has connections (10): a connection kept by any would stall the rest.
    for (let i = 0; i < 12; i++) {
      const ctl = new AbortController();
      const res = await fetch(api.url + path("csv", false, {}), {
        headers: { authorization: `Bearer ${big.token}` },
        signal: ctl.signal,
      });
      const reader = res.body!.getReader();
      const first = await reader.read();
      expect(first.value!.length).toBeGreaterThan(0);
      ctl.abort();
    }
    // The whole of it, formatted from messages that the socket's chunks cut anywhere, is the paged form's.
    for (const format of ["csv", "ndjson"] as const) {
      const all = await (await big.get(path(format, false, {}))).text();
      expect(all.split("\n")).toHaveLength(format === "csv" ? 100_002 : 100_001);
      let paged = "";
      for await (const chunk of exportText(t.db, { tenant: "big" }, new Date(), { format, hashed: false }))
        paged += chunk;
      expect(all === paged, format).toBe(true);
    }
    // No COPY of the aborted exports is left running on the server.
    for (let i = 0; ; i++) {
      const { rows } = await sql<{ n: string }>`
        select count(*)::text as n from pg_stat_activity
         where query like 'copy (select %' and query like '%"tenant" = ''big''%' and state = 'active'`.execute(
        t.db,
      );
      if (rows[0]!.n === "0") break;
      if (i > 50) throw new Error(`${rows[0]!.n} COPY statements still running`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
});

/** A heap growth bound of 0 (V8's own heuristic, left alone) that counts the exports relaxing it. */
class RelaxCounter extends HeapGrowth {
  relaxed = 0;
  relaxes = 0;
  constructor() {
    super(0);
  }
  override relax(): () => void {
    this.relaxed++;
    this.relaxes++;
    const restore = super.relax();
    let done = false;
    return () => {
      if (!done) this.relaxed--;
      done = true;
      restore();
    };
  }
}

describe("exports at once", () => {
  it("runs at most REBOUND_API_MAX_EXPORTS exports at once per process, answering 429 with Retry-After beyond", async () => {
    // The 'big' tenant of the test above: 100,000 rows, more than the sockets hold for a reader that stops.
    const growth = new RelaxCounter();
    const one = await startTestApi(t.db, { apiMaxExports: 1 }, { heapGrowth: growth });
    try {
      const big = await client(t.db, one, "big");
      const auth = { authorization: `Bearer ${big.token}` };
      const ctl = new AbortController();
      const first = await fetch(one.url + path("csv", false, {}), { headers: auth, signal: ctl.signal });
      expect(first.status).toBe(200);
      const reader = first.body!.getReader();
      expect((await reader.read()).value!.length).toBeGreaterThan(0);
      expect(growth.relaxed).toBe(1);

      // The first one is still running (its reader has stopped reading): the second is refused.
      const second = await big.get(path("ndjson", false, {}));
      expect(second.status).toBe(429);
      expect(second.headers.get("retry-after")).toBe("5");
      expect((await second.json()).error).toMatchObject({
        code: "too_many_exports",
        details: { maxExports: 1 },
      });

      // Once its reader goes away, the slot is free again; and an export read to its end frees it too.
      ctl.abort();
      for (let i = 0; ; i++) {
        const res = await big.get(path("csv", false, {}));
        if (res.status === 200) {
          expect((await res.text()).split("\n")).toHaveLength(100_002);
          break;
        }
        await res.body?.cancel();
        if (i > 50) throw new Error(`still ${res.status} after the first export was abandoned`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const last = await big.get(path("csv", false, {}));
      expect(last.status).toBe(200);
      await last.text();
      // Each export lifted the heap growth bound while it ran, and put it back at its end.
      for (let i = 0; growth.relaxed !== 0; i++) {
        if (i > 50) throw new Error(`${growth.relaxed} exports still hold the heap growth bound lifted`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(growth.relaxes).toBe(3);
    } finally {
      await one.close();
    }
  });
});

describe("exports on PGlite", () => {
  it("give the same bytes as on PostgreSQL", { timeout: 180_000 }, async () => {
    const lite = await createEmbeddedTestDb();
    try {
      await seed(lite.db);
      const liteApi = await startTestApi(lite.db);
      try {
        const liteAcme = await client(lite.db, liteApi, "acme");
        for (const [format, hashed, q] of [
          ["csv", false, { state: "all" }],
          ["ndjson", true, { stream: "notes" }],
        ] as const) {
          const here = await (await liteAcme.get(path(format, hashed, q))).text();
          expect(here.length).toBeGreaterThan(100);
          expect(here).toBe(await (await acme.get(path(format, hashed, q))).text());
        }
      } finally {
        await liteApi.close();
      }
    } finally {
      await lite.drop();
    }
  });
});
