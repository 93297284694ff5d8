// Where the time of a send-time lookup of a suppressed address goes, one lookup at a time (no load): through the
// suppression index (its batching hop, then the query), through the store's query alone (kysely), the same SQL
// through node-postgres, and `select 1` (the round trip alone). Prints the median of each, per round, rounds
// alternated so that they share the machine's minutes.
//
//   node --import tsx bench/lookup-hit.mjs [--rows 20000] [--rounds 6] [--lookups 300]
//   env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test)
import { sql } from "kysely";
import { SuppressionIndex } from "../src/api/suppression-index.ts";
import { addressHasher } from "../src/core/address.ts";
import { migrateToLatest, openDb, pgPoolOf } from "../src/store/db.ts";
import { activeSuppressionsByHash } from "../src/store/lookups.ts";
import { insertSuppressionRows } from "../src/store/suppressions.ts";

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return Number(i >= 0 ? args[i + 1] : dflt);
};
const ROWS = arg("rows", 20000);
const ROUNDS = arg("rounds", 6);
const LOOKUPS = arg("lookups", 300);
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

// Rows filed under a key of the bench's own (the index reads hashes, not the key).
const hashAddress = addressHasher(Buffer.alloc(32, 1));
const schema = `bench_hit_${Date.now().toString(36)}`;
const h = await openDb({ databaseUrl: DATABASE_URL, schema, poolSize: 4 });
const index = new SuppressionIndex(h.db, { logger: { warn() {}, info() {} } });
try {
  await migrateToLatest(h.db);
  const at = new Date();
  for (let i = 0; i < ROWS; i += 5000) {
    const batch = [];
    for (let j = i; j < Math.min(ROWS, i + 5000); j++)
      batch.push({
        tenant: "default",
        address: `s${j}@example.org`,
        addressHash: hashAddress(`s${j}@example.org`),
        stream: "default",
        reason: "userunknown",
        class: "hard",
        source: "import",
        at,
      });
    await insertSuppressionRows(h.db, batch);
  }
  await sql`analyze suppressions`.execute(h.db);
  index.start();
  await index.ready;
  const pool = pgPoolOf(h.db);
  const hashes = Array.from({ length: ROWS }, (_, j) => hashAddress(`s${j}@example.org`));
  const text =
    "select * from suppressions where tenant = $1 and address_hash = any($2::text[]) and (expires_at is null or expires_at > $3)";
  const variants = {
    "index.lookup": (x) => index.lookup("default", [x]),
    "store query (kysely)": (x) => activeSuppressionsByHash(h.db, "default", [x], new Date()),
    "same SQL (pg)": (x) => pool.query(text, ["default", [x], new Date()]),
    "select 1 (pg)": () => pool.query("select 1"),
  };
  const medians = {};
  for (let round = 0; round < ROUNDS; round++)
    for (const [name, fn] of Object.entries(variants)) {
      const lat = [];
      for (let k = 0; k < LOOKUPS; k++) {
        const x = hashes[(round * LOOKUPS + k * 7) % ROWS];
        const t = performance.now();
        await fn(x);
        lat.push(performance.now() - t);
      }
      lat.sort((a, b) => a - b);
      (medians[name] ??= []).push(lat[lat.length >> 1]);
    }
  console.log(
    `${ROWS} suppressions; median ms of ${LOOKUPS} lookups one at a time, per round (the first warms up):`,
  );
  for (const [name, m] of Object.entries(medians))
    console.log(`${name.padEnd(22)} ${m.map((x) => x.toFixed(3)).join("  ")}`);
} finally {
  await index.stop();
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(h.db);
  await h.close();
}
