// The lookup role's mirror of the suppressions in force (src/integrations/postfix/suppression-mirror.ts): its
// memory per suppression and its start-up load time.
//
//   node --import tsx --expose-gc bench/lookup-mirror.mjs --memory [--rows 1000000]
//       a SuppressedMap filled with N made-up suppressions (one tenant, 4 streams, 3% with an expiry) in this
//       process: the bytes of its typed arrays and the growth of the heap and of the resident set; the time per
//       add and per lookup (hits and misses)
//   node --import tsx --expose-gc bench/lookup-mirror.mjs --load [--rows 1000000]
//       N suppressions made in PostgreSQL by one statement (hashes: SHA-256 of made-up addresses), then a
//       SuppressionMirror started on them: the time until it is ready (the log's head, the COPY, the first poll),
//       and the heap and resident set it added
//   node --import tsx bench/lookup-mirror.mjs --apply [--rows 100000] [--changes 10000]
//       a SuppressionMirror following N suppressions, then C new ones committed at once (rows and log lines, as a
//       bounce storm or an import writes them): how long until the mirror has them, and the longest the event
//       loop was held meanwhile (a 0 ms timer's lateness, the lookups' wait), this process's CPU and its collections
//       meanwhile: what its feed costs the lookups
//   node --import tsx bench/lookup-mirror.mjs --explain [--rows 3000000] [--changes 5000] [--schema NAME [--keep]]
//       N suppressions made as --load makes them (or those of an existing schema made by an earlier --keep run),
//       ANALYZEd, then EXPLAIN (ANALYZE) of the feed's read of C changed addresses (half of them in the table), in
//       the form the feed sends it (suppressionsOfAddressesCopy: the keys written into the statement) and in the
//       object query's (suppressionsOfAddresses: bound arrays): whether the planner reads them through the index
//       on (tenant, address_hash) or by a hash join over the whole table
//   env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test)
import { createHash } from "node:crypto";

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const ROWS = Number(arg("rows", "1000000"));
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const MB = (b) => (b / 1048576).toFixed(1);

function settle() {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
  return process.memoryUsage();
}

/** A new schema's tables, and ROWS suppressions in it (a quarter per stream, one in 33 expiring tomorrow). */
async function makeSuppressions(db, schema) {
  const { migrateToLatest } = await import("../src/store/db.ts");
  const { sql } = await import("kysely");
  await migrateToLatest(db);
  process.stdout.write(`making ${ROWS} suppressions in ${schema}... `);
  const tm = performance.now();
  await sql`
    insert into suppressions (tenant, stream, address, address_hash, reason, class, source, first_seen, last_seen, expires_at)
    select 'default', (array['default','marketing','transactional','*'])[1 + g % 4], null,
           encode(sha256(('s' || g || '@example.org')::bytea), 'hex'), 'userunknown', 'hard', 'import', now(), now(),
           case when g % 33 = 0 then now() + interval '1 day' end
      from generate_series(1, ${ROWS}) g`.execute(db);
  await sql`analyze suppressions`.execute(db);
  console.log(`${((performance.now() - tm) / 1000).toFixed(1)} s`);
}

if (args.includes("--memory")) {
  const { SuppressedMap } = await import("../src/integrations/postfix/suppressed-map.ts");
  const streams = ["default", "marketing", "transactional", "*"];
  const hashes = [];
  for (let i = 0; i < Math.min(ROWS, 200_000); i++)
    hashes.push(createHash("sha256").update(`probe${i}@example.org`).digest("hex"));
  // Made-up hashes without a string each (the map keeps 96 bits of them, nothing of the string).
  const hex = (i) => {
    const w = (x) => (x >>> 0).toString(16).padStart(8, "0");
    return w(Math.imul(i + 1, 0x9e3779b1)) + w(Math.imul(i + 7, 0x85ebca6b)) + w(i) + "0".repeat(40);
  };
  const before = settle();
  const m = new SuppressedMap();
  const t0 = performance.now();
  const row = { stream: "", reason: "userunknown", class: "hard", since: Date.now(), until: Infinity };
  for (let i = 0; i < ROWS; i++) {
    row.stream = streams[i & 3];
    row.until = i % 33 === 0 ? Date.now() + 86_400_000 : Infinity;
    m.add("default", i < hashes.length ? hashes[i] : hex(i), row);
  }
  const addMs = performance.now() - t0;
  const after = settle();
  const now = Date.now();
  let found = 0;
  const n = Math.min(hashes.length, 200_000);
  const t1 = performance.now();
  for (let i = 0; i < n; i++) if (m.governing("default", hashes[i], "default", now)) found++;
  const hitNs = ((performance.now() - t1) * 1e6) / n;
  const misses = hashes.map((h) => "f" + h.slice(1, 8) + "0" + h.slice(9));
  const t2 = performance.now();
  for (let i = 0; i < n; i++) if (m.governing("default", misses[i], "default", now)) found++;
  const missNs = ((performance.now() - t2) * 1e6) / n;
  console.log(
    `${ROWS} suppressions: typed arrays ${MB(m.bytes)} MB (${(m.bytes / ROWS).toFixed(1)} bytes each); ` +
      `heap +${MB(after.heapUsed - before.heapUsed)} MB, external+arrayBuffers +${MB(after.arrayBuffers - before.arrayBuffers)} MB, ` +
      `RSS +${MB(after.rss - before.rss)} MB; add ${((addMs * 1e6) / ROWS).toFixed(0)} ns each; ` +
      `lookup ${hitNs.toFixed(0)} ns (hit, ${found} found), ${missNs.toFixed(0)} ns (miss)`,
  );
} else if (args.includes("--load")) {
  const { openDb } = await import("../src/store/db.ts");
  const { SuppressionMirror } = await import("../src/integrations/postfix/suppression-mirror.ts");
  const { sql } = await import("kysely");
  const schema = `bench_mirror_${Date.now().toString(36)}`;
  const h = await openDb({ databaseUrl: DATABASE_URL, schema, poolSize: 4 });
  try {
    await makeSuppressions(h.db, schema);
    const before = settle();
    const mirror = new SuppressionMirror(h.db, { logger: { info() {}, warn() {} } });
    const t0 = performance.now();
    mirror.start();
    await mirror.ready;
    const ms = performance.now() - t0;
    const after = settle();
    console.log(
      `${ROWS} suppressions: ready in ${(ms / 1000).toFixed(2)} s (${((ROWS / ms) * 1000).toFixed(0)} rows/s); ` +
        `typed arrays ${MB(mirror.stats.bytes)} MB; heap +${MB(after.heapUsed - before.heapUsed)} MB, ` +
        `RSS +${MB(after.rss - before.rss)} MB; ${mirror.stats.rows} rows, ${mirror.stats.addresses} addresses`,
    );
    await mirror.stop();
  } finally {
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(h.db);
    await h.close();
  }
} else if (args.includes("--apply")) {
  const CHANGES = Number(arg("changes", "10000"));
  const { openDb } = await import("../src/store/db.ts");
  const { SuppressionMirror } = await import("../src/integrations/postfix/suppression-mirror.ts");
  const { sql } = await import("kysely");
  const schema = `bench_mirror_${Date.now().toString(36)}`;
  const h = await openDb({ databaseUrl: DATABASE_URL, schema, poolSize: 4 });
  const insert = (from, to) =>
    sql`
      with s as (
        insert into suppressions (tenant, stream, address, address_hash, reason, class, source, first_seen, last_seen)
        select 'default', 'default', null, encode(sha256(('s' || g || '@example.org')::bytea), 'hex'),
               'userunknown', 'hard', 'import', now(), now()
          from generate_series(${from}::int, ${to}::int) g
        returning tenant, stream, address_hash)
      insert into suppression_log (tenant, stream, address_hash, action, reason, source)
      select tenant, stream, address_hash, 'added', 'userunknown', 'import' from s`.execute(h.db);
  try {
    await migrateToLatest(h.db);
    await insert(1, ROWS);
    await sql`analyze suppressions`.execute(h.db);
    // Collections while the mirror catches up (count, longest, total): what a change set's garbage costs.
    const { PerformanceObserver } = await import("node:perf_hooks");
    let gc = { n: 0, max: 0, total: 0 };
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        gc.n++;
        gc.total += e.duration;
        gc.max = Math.max(gc.max, e.duration);
      }
    }).observe({ entryTypes: ["gc"] });
    const mirror = new SuppressionMirror(h.db, { logger: { info() {}, warn() {} }, pollMs: 50 });
    mirror.start();
    await mirror.ready;
    for (let round = 0; round < 3; round++) {
      const from = ROWS + 1 + round * CHANGES;
      await insert(from, from + CHANGES - 1);
      // The event loop's longest hold while the mirror catches up: the lateness of back-to-back 0 ms timers.
      let worst = 0;
      let last = performance.now();
      let on = true;
      const tick = () => {
        const t = performance.now();
        worst = Math.max(worst, t - last);
        last = t;
        if (on) setTimeout(tick, 0);
      };
      setTimeout(tick, 0);
      gc = { n: 0, max: 0, total: 0 };
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await mirror.caughtUp();
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      on = false;
      console.log(
        `${CHANGES} changes over ${ROWS + round * CHANGES} suppressions: in memory after ${ms.toFixed(0)} ms; ` +
          `event loop held at most ${worst.toFixed(1)} ms; this process's CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms, ` +
          `collections ${gc.n} (longest ${gc.max.toFixed(1)} ms, ${gc.total.toFixed(1)} ms in all) (${mirror.stats.rows} rows)`,
      );
    }
    await mirror.stop();
  } finally {
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(h.db);
    await h.close();
  }
} else if (args.includes("--explain")) {
  const CHANGES = Number(arg("changes", "5000"));
  const { openDb } = await import("../src/store/db.ts");
  const { sql } = await import("kysely");
  const given = arg("schema", undefined);
  const schema = given ?? `bench_mirror_${Date.now().toString(36)}`;
  const h = await openDb({ databaseUrl: DATABASE_URL, schema, poolSize: 2 });
  try {
    if (!given) await makeSuppressions(h.db, schema);
    const { rows: count } = await sql`select count(*)::int as n from suppressions`.execute(h.db);
    const n = count[0].n;
    const hashes = [];
    for (let i = 0; i < CHANGES; i++)
      hashes.push(
        createHash("sha256")
          .update(i % 2 ? `s${1 + ((i * 7919) % n)}@example.org` : `absent${i}@example.org`)
          .digest("hex"),
      );
    const tenants = hashes.map(() => "default");
    const now = new Date();
    // The feed's statement as src/store/lookups.ts writes it (the COPY's inner select: keys as literals), then as
    // it was written before session 11 (a plain join of the keys with the table), then the object query (keys as
    // bound arrays).
    const keys = `unnest($k\${${tenants.map((t) => `"${t}"`).join(",")}}$k$::text[], string_to_array('${hashes.join(",")}', ',')) as k(tenant, address_hash)`;
    const inForce = `(s.expires_at is null or s.expires_at > to_timestamp(${now.getTime()} / 1000.0))`;
    const forms = [
      [
        "lateral, keys as literals (the feed's COPY now)",
        `select s.tenant, s.stream, s.address_hash, s.reason, s.class from ${keys}
          cross join lateral (select * from suppressions s
                               where s.tenant = k.tenant and s.address_hash = k.address_hash and ${inForce}
                              offset 0) s`,
      ],
      [
        "join, keys as literals (the feed's COPY before)",
        `select s.tenant, s.stream, s.address_hash, s.reason, s.class from ${keys}
           join suppressions s on s.tenant = k.tenant and s.address_hash = k.address_hash where ${inForce}`,
      ],
    ];
    const show = (label, plan) => {
      const lines = plan.map((r) => r["QUERY PLAN"]);
      const total = lines.find((l) => l.startsWith("Execution Time"));
      console.log(`${label} (${n} suppressions, ${CHANGES} addresses): ${total}`);
      for (const l of lines.filter((l) => /Join|Nested Loop|Scan/.test(l)).slice(0, 6))
        console.log(`    ${l.trim()}`);
    };
    for (let round = 0; round < 2; round++) {
      for (const [label, q] of forms)
        show(label, (await sql.raw(`explain (analyze) ${q}`).execute(h.db)).rows);
      show(
        "lateral, keys as bound arrays (suppressionsOfAddresses now)",
        (
          await sql`explain (analyze)
            select s.id, s.tenant, s.stream, s.address_hash, s.reason, s.class, s.first_seen, s.expires_at
              from unnest(${tenants}::text[], ${hashes}::text[]) as k(tenant, address_hash)
             cross join lateral (select * from suppressions s
                                  where s.tenant = k.tenant and s.address_hash = k.address_hash
                                    and (s.expires_at is null or s.expires_at > ${now})
                                 offset 0) s`.execute(h.db)
        ).rows,
      );
    }
  } finally {
    if (!args.includes("--keep")) await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(h.db);
    else console.log(`kept ${schema}`);
    await h.close();
  }
} else {
  console.error("usage: bench/lookup-mirror.mjs --memory|--load|--apply|--explain [--rows N]");
  process.exitCode = 2;
}
