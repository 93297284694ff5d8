// ESP webhooks: SendGrid Event Webhook batches (signed, ECDSA) posted to a real API on PostgreSQL, recorded
// through the policy (90% delivered, 7% bounce, 3% spam report), then the same batches again (all duplicates).
//
//   node --import tsx bench/esp.mjs [--batches 10] [--size 1000]
//   env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test)
import { generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const BATCHES = Number(arg("batches", "10"));
const SIZE = Number(arg("size", "1000"));
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

const { openDb, migrateToLatest } = await import("../src/store/db.ts");
const { startApi } = await import("../src/api/server.ts");
const { loadConfig } = await import("../src/config.ts");
const { createLogger } = await import("../src/log.ts");
const { sql } = await import("kysely");
const { addressHasher } = await import("../src/core/address.ts");

const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const dir = mkdtempSync(join(tmpdir(), "rebound-bench-esp-"));
const settings = join(dir, "esp.json");
const der = publicKey.export({ format: "der", type: "spki" }).toString("base64");
writeFileSync(settings, JSON.stringify({ sendgrid: [{ tenant: "bench", stream: "news", publicKey: der }] }));

const schema = `bench_esp_${Date.now().toString(36)}`;
const h = await openDb({ databaseUrl: DATABASE_URL, schema, poolSize: 8 });
await migrateToLatest(h.db);
const config = loadConfig(
  { httpHost: "127.0.0.1", httpPort: 0, espConfigPath: settings, apiBodyLimitBytes: 8 * 1024 * 1024 },
  {},
);
const api = await startApi({
  db: h.db,
  config,
  hashAddress: addressHasher(randomBytes(32)),
  logger: createLogger("warn"),
});
const url = `http://127.0.0.1:${api.port}/v1/ingest/sendgrid`;

const batches = Array.from({ length: BATCHES }, (_, b) => {
  const events = Array.from({ length: SIZE }, (_, i) => {
    const n = b * SIZE + i;
    const r = n % 100;
    const base = {
      email: `user${n}@example${n % 50}.org`,
      timestamp: Math.floor(Date.now() / 1000),
      "smtp-id": `<${n}.news@shop.example>`,
      sg_event_id: `ev-${n}`,
      sg_message_id: `msg-${n}`,
    };
    if (r < 90) return { ...base, event: "delivered", response: "250 OK" };
    if (r < 97)
      return { ...base, event: "bounce", type: "bounce", status: "5.1.1", reason: "550 5.1.1 User unknown" };
    return { ...base, event: "spamreport" };
  });
  return JSON.stringify(events);
});

async function post(body) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = sign("sha256", Buffer.from(timestamp + body), privateKey).toString("base64");
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-twilio-email-event-webhook-signature": signature,
      "x-twilio-email-event-webhook-timestamp": timestamp,
    },
    body,
  });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  return res.json();
}

for (const round of ["first", "again (duplicates)"]) {
  const t0 = performance.now();
  let recorded = 0;
  let duplicates = 0;
  for (const b of batches) {
    const a = await post(b);
    recorded += a.recorded;
    duplicates += a.duplicates;
  }
  const secs = (performance.now() - t0) / 1000;
  const n = BATCHES * SIZE;
  console.log(
    `${round}: ${BATCHES} batches of ${SIZE} events (${recorded} recorded, ${duplicates} duplicates) in ${secs.toFixed(2)} s: ` +
      `${Math.round(n / secs).toLocaleString("en")} events/s, ${((secs / BATCHES) * 1000).toFixed(0)} ms per batch`,
  );
}

await api.close();
await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(h.db);
await h.close();
rmSync(dir, { recursive: true, force: true });
