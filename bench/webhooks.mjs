// Webhook benchmark: N outbox events fanned out to E endpoints of one tenant and delivered, signed, to a local
// receiver on loopback that answers 200, by one webhook worker without a queue (the database poll drives it)
// or with BullMQ (REDIS_URL set). Real PostgreSQL.
//
//   node --import tsx bench/webhooks.mjs [--events 2000] [--endpoints 2] [--concurrency 16]
//   env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), REDIS_URL (optional)
//
// Prints deliveries/s from the first outbox row to the last delivery recorded, and this process's CPU per
// delivery (worker and receiver; the database's CPU is not counted): steadier than wall time on a shared machine.
import { createServer } from "node:http";
import { performance } from "node:perf_hooks";

const { createLogger } = await import("../src/log.ts");
const { migrateToLatest, openDb } = await import("../src/store/db.ts");
const { createBullQueue } = await import("../src/queue/bullmq.ts");
const { startWebhookWorker } = await import("../src/webhooks/worker.ts");
const { sql } = await import("kysely");

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const EVENTS = Number(arg("events", "2000"));
const ENDPOINTS = Number(arg("endpoints", "2"));
const CONCURRENCY = Number(arg("concurrency", "16"));
const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const redisUrl = process.env.REDIS_URL;
const schema = `bench_wh_${Date.now().toString(36)}`;

let received = 0;
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    received++;
    res.writeHead(200).end();
  });
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const hookUrl = `http://127.0.0.1:${server.address().port}/hook`;

const handle = await openDb({ databaseUrl: url, schema, poolSize: CONCURRENCY + 4 });
await migrateToLatest(handle.db);
const db = handle.db;
for (let e = 0; e < ENDPOINTS; e++)
  await db
    .insertInto("webhooks")
    .values({
      id: `wh_${e}`,
      tenant: "acme",
      url: hookUrl,
      secret: `whsec_bench_${e}`,
      events: ["bounce.hard"],
    })
    .execute();

const queue = redisUrl ? createBullQueue({ redisUrl, prefix: `bench-wh-${Date.now()}` }) : undefined;
const total = EVENTS * ENDPOINTS;
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const rows = Array.from({ length: EVENTS }, (_, i) => ({
  tenant: "acme",
  type: "bounce.hard",
  payload: JSON.stringify({ address: `user${i}@example.com`, stream: "marketing", reason: "userunknown" }),
}));
for (let i = 0; i < rows.length; i += 1000)
  await db
    .insertInto("outbox")
    .values(rows.slice(i, i + 1000))
    .execute();
const worker = startWebhookWorker(
  { db, queue, logger: createLogger("warn") },
  // The receiver is on loopback: an internal network, allowed as an operator would.
  { pollIntervalMs: 100, concurrency: CONCURRENCY, allowedNetworks: ["127.0.0.0/8"] },
);
for (;;) {
  const { rows: r } =
    await sql`select count(*)::int as n from webhook_deliveries where status = 'delivered'`.execute(db);
  if (r[0].n >= total) break;
  await new Promise((r) => setTimeout(r, 50));
}
const secs = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
await worker.stop();
await queue?.close();
console.log(
  `webhooks: ${EVENTS} events x ${ENDPOINTS} endpoints = ${total} deliveries in ${secs.toFixed(2)} s: ` +
    `${Math.round(total / secs)} deliveries/s (${queue ? "BullMQ" : "database poll"}, concurrency ${CONCURRENCY}; receiver got ${received}); ` +
    `process CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms, ${((cpu.user + cpu.system) / total).toFixed(0)} µs per delivery`,
);
await sql`drop schema ${sql.id(schema)} cascade`.execute(db);
await handle.close();
server.close();
