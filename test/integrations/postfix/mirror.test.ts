// The lookup role's mirror of the suppressions in force, on real PostgreSQL: loaded at start (COPY, with
// escaped names, tenants apart, expired rows left out), then kept exact by the suppression log: suppress,
// remove, erase, expire and re-derive change the answer once a poll started after the change has completed
// (caughtUp), a transaction that commits after a later one is seen too, expiries pass in memory, and while the
// mirror lags the answer comes from the database. Then the same through the lookup servers' sockets.
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config.js";
import { createLogger } from "../../../src/log.js";
import { startApp, type App } from "../../../src/main.js";
import { ASK, SuppressionMirror } from "../../../src/integrations/postfix/suppression-mirror.js";
import { eraseAddress } from "../../../src/store/erasure.js";
import {
  expireSuppressions,
  removeSuppressions,
  upsertSuppression,
  type SuppressionInput,
} from "../../../src/store/suppressions.js";
import { insertSuppressionRows } from "../../../src/store/suppressions.js";
import { suppressionsOfAddresses, suppressionsOfAddressesCopy } from "../../../src/store/lookups.js";
import { createTestDb, TEST_DATABASE_URL, testHash, uniqueSchema, type TestDb } from "../../helpers/db.js";
import { until } from "../../helpers/until.js";
import { SocketmapClient } from "./lookup-client.js";

const silent = { info: () => undefined, warn: () => undefined };
let t: TestDb;
// The clock of expiries: the real time at the start (the load asks PostgreSQL what is in force now), then moved.
let clock = Date.now();
const now = () => new Date(clock);
let mirror: SuppressionMirror;

const input = (address: string, over: Partial<SuppressionInput> = {}): SuppressionInput => ({
  tenant: "default",
  stream: "default",
  address,
  addressHash: testHash(address),
  reason: "userunknown",
  class: "hard",
  source: "manual",
  at: new Date(clock),
  ...over,
});
/** The mirror's answer from memory (the tests' mirror is current: never ASK). */
const answer = (address: string, stream = "default", tenant = "default") => {
  const a = mirror.answer(tenant, testHash(address), stream);
  if (a === ASK) throw new Error("the mirror lags");
  return a;
};

beforeAll(async () => {
  t = await createTestDb();
  // Rows there before the mirror starts: loaded by its COPY.
  await upsertSuppression(t.db, input("loaded@example.org"));
  await upsertSuppression(t.db, input("odd@example.org", { stream: "tab\there\\back", reason: "a\nb" }));
  await upsertSuppression(t.db, input("acme@example.org", { tenant: "acme\\co" }));
  await upsertSuppression(t.db, input("gone@example.org", { expiresAt: new Date(Date.now() - 60_000) }));
  // Times to the millisecond, as the COPY's float8 hands them over.
  await upsertSuppression(
    t.db,
    input("soft-loaded@example.org", {
      class: "soft",
      at: new Date(1796601600123),
      expiresAt: new Date(clock + 86_400_123),
    }),
  );
  // Rows written without log lines (the bulk path writes them later in its transaction): the table is the truth.
  await insertSuppressionRows(t.db, [input("bulk@example.org", { stream: "*", reason: "complaint" })]);
  mirror = new SuppressionMirror(t.db, { logger: silent, now, pollMs: 20 });
  mirror.start();
  await mirror.ready;
});

afterAll(async () => {
  await mirror?.stop();
  await t?.drop();
});

describe("the mirror's load", () => {
  it("holds the rows in force at start, with tab, newline and backslash in names, tenants apart", () => {
    expect(answer("loaded@example.org")).toMatchObject({
      stream: "default",
      reason: "userunknown",
      until: null,
    });
    expect(answer("odd@example.org", "tab\there\\back")).toMatchObject({
      stream: "tab\there\\back",
      reason: "a\nb",
    });
    expect(answer("acme@example.org", "default", "acme\\co")).toMatchObject({ reason: "userunknown" });
    expect(answer("acme@example.org")).toBeUndefined();
    expect(answer("bulk@example.org", "any-stream")).toMatchObject({ stream: "*", reason: "complaint" });
    expect(answer("gone@example.org")).toBeUndefined();
    const soft = answer("soft-loaded@example.org")!;
    expect([soft.since.getTime(), soft.until?.getTime()]).toEqual([1796601600123, clock + 86_400_123]);
    expect(mirror.stats).toMatchObject({ loaded: true, rows: 5, stale: false });
  });
});

describe("the mirror follows the suppression log", () => {
  it("shows a suppression, its removal and a new one once a poll after each change has completed", async () => {
    const a = "follow@example.org";
    await upsertSuppression(t.db, input(a, { stream: "marketing" }));
    await mirror.caughtUp();
    expect(answer(a, "marketing")).toMatchObject({ stream: "marketing", reason: "userunknown" });
    expect(answer(a, "transactional")).toBeUndefined();
    await removeSuppressions(t.db, { tenant: "default", address: a, addressHash: testHash(a), at: now() });
    await mirror.caughtUp();
    expect(answer(a, "marketing")).toBeUndefined();
    await upsertSuppression(t.db, input(a, { stream: "*", reason: "complaint", class: "complaint" }));
    await mirror.caughtUp();
    expect(answer(a, "transactional")).toMatchObject({ stream: "*", reason: "complaint" });
  });

  it("keeps an erased address suppressed (by its hash)", async () => {
    const a = "erase-me@example.org";
    await upsertSuppression(t.db, input(a));
    await mirror.caughtUp();
    const r = await eraseAddress(t.db, {
      tenant: null,
      address: a,
      addressHash: testHash(a),
      actor: "test",
      now: now(),
    });
    expect(r.suppressionsKept).toBe(1);
    await mirror.caughtUp();
    expect(answer(a)).toMatchObject({ reason: "userunknown" });
  });

  it("lets a temporary suppression's expiry pass in memory, and follows its deletion and a stronger update", async () => {
    const a = "soft@example.org";
    await upsertSuppression(
      t.db,
      input(a, { reason: "mailboxfull", class: "soft", expiresAt: new Date(clock + 3_600_000) }),
    );
    await mirror.caughtUp();
    expect(answer(a)?.until?.getTime()).toBe(clock + 3_600_000);
    const before = clock;
    clock += 3_600_000; // the expiry reached: no query needed to stop refusing
    expect(answer(a)).toBeUndefined();
    clock = before;
    expect(answer(a)).toMatchObject({ reason: "mailboxfull" });
    // A permanent one for the same stream outlasts it: the row is updated in place (logged `updated`).
    await upsertSuppression(t.db, input(a, { reason: "userunknown", class: "hard" }));
    await mirror.caughtUp();
    clock += 7_200_000;
    expect(answer(a)).toMatchObject({ reason: "userunknown", until: null });
    clock = before;
    const b = "soft2@example.org";
    await upsertSuppression(t.db, input(b, { class: "soft", expiresAt: new Date(clock + 1000) }));
    await mirror.caughtUp();
    expect(answer(b)).toBeDefined();
    // Deletes the row (and the one already expired before the start), logging `expired`.
    expect(await expireSuppressions(t.db, new Date(clock + 2000))).toBe(2);
    await mirror.caughtUp();
    expect(answer(b)).toBeUndefined();
    expect(mirror.stats.rows).toBeGreaterThan(0);
  });

  it("sees a transaction that took its log id first and committed after a later one", async () => {
    const early = "early@example.org";
    const late = "late@example.org";
    let commit!: () => void;
    const held = new Promise<void>((r) => (commit = r));
    let written!: () => void;
    const wrote = new Promise<void>((r) => (written = r));
    const tx = t.db.transaction().execute(async (trx) => {
      await upsertSuppression(trx, input(early));
      written();
      await held;
    });
    await wrote;
    await upsertSuppression(t.db, input(late));
    await mirror.caughtUp();
    expect(answer(late)).toBeDefined();
    expect(answer(early)).toBeUndefined();
    expect(mirror.stats.gaps).toBe(1);
    // Waited for as long as its transaction runs, however many polls pass.
    await mirror.caughtUp();
    await mirror.caughtUp();
    expect(mirror.stats.gaps).toBe(1);
    commit();
    await tx;
    await mirror.caughtUp();
    expect(answer(early)).toMatchObject({ reason: "userunknown" });
    expect(mirror.stats.gaps).toBe(0);
  });

  it("forgets the id of a transaction that rolled back once it has ended", async () => {
    const rolled = "rolled-back@example.org";
    let rollback!: () => void;
    const held = new Promise<void>((r) => (rollback = r));
    let written!: () => void;
    const wrote = new Promise<void>((r) => (written = r));
    const tx = t.db
      .transaction()
      .execute(async (trx) => {
        await upsertSuppression(trx, input(rolled));
        written();
        await held;
        throw new Error("roll back");
      })
      .catch(() => undefined);
    await wrote;
    await upsertSuppression(t.db, input("after-rollback@example.org"));
    await mirror.caughtUp();
    expect(mirror.stats.gaps).toBe(1);
    rollback();
    await tx;
    // Forgotten once every transaction older than the read after it went missing has ended: on this shared
    // server, other sessions' transactions count too, so wait for it rather than count polls.
    await until(() => mirror.stats.gaps === 0, { ms: 60_000, what: "the rolled-back id forgotten" });
    expect(answer(rolled)).toBeUndefined();
    expect(answer("after-rollback@example.org")).toBeDefined();
  });
});

describe("the feed reads a poll's changed rows by COPY", () => {
  const tenants = ["default", "acme\\co", "tab\tco", "ünïcode"];
  const streams = ["default", "marketing", "tab\there\\back"];
  const addr = (i: number) => `many${i}@example.org`;

  it("reads the same rows as the query of row objects, with names that need escaping or quoting", async () => {
    // A tenant holding the dollar quote's first tag, a quote and a backslash: the statement must not break.
    const ts = ["acme\\co", 'tab\t$k$"co', "ünïcode", "default"];
    const as = ["c1@example.org", "c2@example.org", "c3@example.org", "nobody-here@example.org"];
    for (let i = 0; i < 3; i++)
      await upsertSuppression(
        t.db,
        input(as[i]!, { tenant: ts[i]!, stream: streams[i]!, expiresAt: new Date(clock + 3_600_000 + i) }),
      );
    const hs = as.map((a) => testHash(a));
    const lines: string[] = [];
    const sink = {
      line: (b: Buffer, start: number, end: number) => void lines.push(b.toString("utf8", start, end)),
      flush: () => undefined,
    };
    expect(await suppressionsOfAddressesCopy(t.db, ts, hs, now(), sink)).toBe(true);
    const rows = await suppressionsOfAddresses(t.db, ts, hs, now());
    // COPY's text format: names escaped, times as float8 milliseconds (to the microsecond), `\\N` for none.
    const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n");
    const asLine = (r: (typeof rows)[number]) => [
      ...[r.tenant, r.stream, r.address_hash, r.reason, r.class].map(esc),
      r.first_seen.getTime(),
      r.expires_at ? r.expires_at.getTime() : "\\N",
    ];
    const read = lines.map((l) => {
      const f: (string | number)[] = l.replace(/\n$/, "").split("\t");
      for (const i of [5, 6]) if (f[i] !== "\\N") f[i] = Math.round(Number(f[i]));
      return f;
    });
    const order = (a: unknown[], b: unknown[]) => (String(a) < String(b) ? -1 : 1);
    expect(read.sort(order)).toEqual(rows.map(asLine).sort(order));
    // A hash that is not lower-case hex (none is): not read by COPY, nothing handed to the sink.
    expect(await suppressionsOfAddressesCopy(t.db, ["default"], ["NOT-HEX"], now(), sink)).toBe(false);
    expect(lines).toHaveLength(3);
  });

  it("answers after one poll of many changes (suppress, unsuppress, erase, four tenants) as the database does", async () => {
    const N = 240;
    // Before: every third address suppressed in every tenant (to be removed or kept below).
    for (let i = 0; i < N; i += 3)
      for (const tenant of tenants)
        await upsertSuppression(t.db, input(addr(i), { tenant, stream: "marketing" }));
    await mirror.caughtUp();
    // One transaction, so one poll reads it all: new suppressions in several streams (at most one permanent row
    // per address, expiries all different, so that no two rows tie for "governing"), removals, updates.
    await t.db.transaction().execute(async (trx) => {
      for (let i = 0; i < N; i++) {
        const tenant = tenants[i % tenants.length]!;
        if (i % 3 === 0 && i % 2 === 0)
          await removeSuppressions(trx, {
            tenant,
            address: addr(i),
            addressHash: testHash(addr(i)),
            at: now(),
          });
        else if (i % 3 !== 0)
          for (let k = 0; k <= i % 3; k++)
            await upsertSuppression(
              trx,
              input(addr(i), {
                tenant,
                stream: streams[(i + k) % streams.length]!,
                reason: k === 0 ? "userunknown" : "mailboxfull",
                class: k === 0 ? "hard" : "soft",
                expiresAt: k === 0 && i % 4 === 1 ? null : new Date(clock + 60_000 * (1 + k) + i),
              }),
            );
      }
    });
    await eraseAddress(t.db, {
      tenant: null,
      address: addr(3),
      addressHash: testHash(addr(3)),
      actor: "test",
      now: now(),
    });
    await mirror.caughtUp();
    // Removed in its tenant, kept in the others; erased, still suppressed; a new one refused.
    expect(answer(addr(0), "marketing", tenants[0])).toBeUndefined();
    expect(answer(addr(0), "marketing", tenants[1])).toMatchObject({ stream: "marketing" });
    expect(answer(addr(3), "marketing", tenants[0])).toMatchObject({ reason: "userunknown" });
    expect(answer(addr(1), streams[1], tenants[1])).toMatchObject({ stream: streams[1] });
    let compared = 0;
    let suppressed = 0;
    const asked: Promise<void>[] = [];
    for (let i = 0; i < N; i++)
      for (const tenant of tenants)
        for (const stream of [...streams, "*", "other"]) {
          const memory = answer(addr(i), stream, tenant);
          compared++;
          if (memory) suppressed++;
          asked.push(
            mirror.ask(tenant, testHash(addr(i)), stream).then((database) => {
              expect({ i, tenant, stream, memory }).toEqual({ i, tenant, stream, memory: database });
            }),
          );
        }
    await Promise.all(asked);
    expect(compared).toBe(N * tenants.length * 5);
    expect(suppressed).toBeGreaterThan(N);
  });
});

describe("a mirror that lags", () => {
  it("answers ASK past its staleness bound, and the database's answer includes what it missed", async () => {
    let mono = 0;
    const m = new SuppressionMirror(t.db, {
      logger: silent,
      now,
      monotonic: () => mono,
      maxStalenessMs: 1000,
    });
    m.start();
    await m.ready;
    expect(m.answer("default", testHash("loaded@example.org"), "default")).toMatchObject({
      reason: "userunknown",
    });
    await m.stop(); // the feed stops, as when the database does not answer
    const a = "missed@example.org";
    await upsertSuppression(t.db, input(a));
    expect(m.answer("default", testHash(a), "default")).toBeUndefined(); // memory, within its bound
    mono = 1000;
    expect(m.stats.stale).toBe(true);
    expect(m.answer("default", testHash(a), "default")).toBe(ASK);
    const [asked, other] = await Promise.all([
      m.ask("default", testHash(a), "default"),
      m.ask("default", testHash("nobody@example.org"), "default"),
    ]);
    expect(asked).toMatchObject({ stream: "default", reason: "userunknown", until: null });
    expect(other).toBeUndefined();
  });
});

describe("the lookup servers answer from the mirror", () => {
  const schema = uniqueSchema("mirror");
  let app: App;
  let sm: SocketmapClient;

  beforeAll(async () => {
    app = await startApp(
      loadConfig(
        {
          databaseUrl: TEST_DATABASE_URL,
          databaseSchema: schema,
          lookupSocketmapPort: 0,
          lookupPolicyPort: 0,
          logLevel: "silent",
        },
        {},
      ),
      ["lookup"],
      { logger: createLogger("silent") },
    );
    sm = await SocketmapClient.open(app.socketmapPort!);
  });

  afterAll(async () => {
    sm?.close();
    await app?.close();
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(t.db);
  });

  it("refuses once suppressed, lets through once removed, and refuses still once erased", async () => {
    const a = "socket@example.org";
    const ask = async () => (await sm.ask(`suppressed ${a}`))[0]!;
    const s = { ...input(a), addressHash: app.hashAddress(a) };
    expect(await ask()).toBe("NOTFOUND ");
    await upsertSuppression(app.db, s);
    await until(async () => (await ask()).startsWith("OK REJECT 5.7.1"), { what: "the refusal" });
    await removeSuppressions(app.db, { ...s, at: now() });
    await until(async () => (await ask()) === "NOTFOUND ", { what: "the removal" });
    await upsertSuppression(app.db, s);
    await until(async () => (await ask()).startsWith("OK REJECT 5.7.1"), { what: "the refusal again" });
    await eraseAddress(app.db, {
      tenant: null,
      address: a,
      addressHash: s.addressHash,
      actor: "t",
      now: now(),
    });
    // Erased: the address is gone from the row, its refusal stays (a later poll has read the erasure's log line).
    await until(
      async () =>
        (
          await app.db
            .selectFrom("suppressions")
            .select("address")
            .where("address_hash", "=", s.addressHash)
            .executeTakeFirst()
        )?.address === null,
    );
    expect(await ask()).toMatch(/^OK REJECT 5\.7\.1 suppressed by Rebound in stream default: userunknown/);
  });
});
