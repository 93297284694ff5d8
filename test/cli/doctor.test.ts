// `rebound doctor` against real parts: a DNS server on loopback (dns2) publishing the bounce domain's MX, a running
// intake answering on it, PostgreSQL, files for the certificate; and what it says when something is wrong.
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import dns2 from "dns2";
import { sql } from "kysely";
import { generate } from "selfsigned";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { tlsVerdict } from "../../src/doctor/checks.js";
import { createLogger } from "../../src/log.js";
import { startApp, type App } from "../../src/main.js";
import { openDb } from "../../src/store/db.js";
import { TEST_DATABASE_URL, uniqueSchema } from "../helpers/db.js";
import { cli } from "./run-cli.js";

const { Packet } = dns2;
const schema = uniqueSchema("doctor");
let dns: ReturnType<typeof dns2.createServer>;
let dnsPort: number;
let app: App;
let dir: string;
let certPath: string;
let keyPath: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "rebound-doctor-"));
  dns = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const q = request.questions[0]!;
      if (q.name === "bounces.example.test" && q.type === Packet.TYPE.MX)
        response.answers.push(<dns2.Packet.Resource>(<unknown>{
          name: q.name,
          type: Packet.TYPE.MX,
          class: Packet.CLASS.IN,
          ttl: 60,
          exchange: "mx.example.test",
          priority: 10,
        }));
      if (q.name === "mx.example.test" && q.type === Packet.TYPE.A)
        response.answers.push(<dns2.Packet.Resource>(<unknown>{
          name: q.name,
          type: Packet.TYPE.A,
          class: Packet.CLASS.IN,
          ttl: 60,
          address: "127.0.0.1",
        }));
      send(response);
    },
  });
  const addrs = await dns.listen({ udp: { port: 0, address: "127.0.0.1" } });
  dnsPort = addrs.udp!.port;
  app = await startApp(
    loadConfig(
      {
        databaseUrl: TEST_DATABASE_URL,
        databaseSchema: schema,
        smtpHost: "127.0.0.1",
        smtpPort: 0,
        logLevel: "silent",
      },
      {},
    ),
    ["intake"],
    { logger: createLogger("silent") },
  );
  const pems = await generate([{ name: "commonName", value: "mx.example.test" }], {
    keyType: "ec",
    curve: "P-256",
  });
  certPath = join(dir, "cert.pem");
  keyPath = join(dir, "key.pem");
  writeFileSync(certPath, pems.cert);
  writeFileSync(keyPath, pems.private);
  process.env.DATABASE_URL = TEST_DATABASE_URL;
  process.env.REBOUND_DATABASE_SCHEMA = schema;
  process.env.REBOUND_LOG_LEVEL = "silent";
});

afterAll(async () => {
  for (const v of [
    "REBOUND_DOMAINS",
    "REBOUND_VERP_KEYS",
    "REBOUND_TLS_CERT",
    "REBOUND_TLS_KEY",
    "REBOUND_POLICY",
    "REBOUND_ALERTS",
    "REDIS_URL",
  ])
    delete process.env[v];
  await app?.close();
  await dns?.close();
  const h = await openDb({ databaseUrl: TEST_DATABASE_URL });
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(h.db);
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Check {
  id: string;
  status: string;
  summary: string;
  fix?: string;
}
const byId = (checks: Check[]) => Object.fromEntries(checks.map((c) => [c.id, c]));
/** `rebound doctor` through the test's DNS server and intake. */
const doctorArgs = () => [
  "doctor",
  "--format",
  "json",
  "--dns-server",
  `127.0.0.1:${dnsPort}`,
  "--smtp-port",
  String(app.smtpPort),
  "--timeout",
  "3000",
];

describe("rebound doctor", () => {
  it("finds the MX in DNS, the intake answering on it, the schema, the keys and a certificate naming the MX host", async () => {
    process.env.REBOUND_DOMAINS = "bounces.example.test";
    process.env.REBOUND_VERP_KEYS = "k1:a-production-secret-of-32-characters!";
    process.env.REBOUND_TLS_CERT = certPath;
    process.env.REBOUND_TLS_KEY = keyPath;
    const r = await cli(...doctorArgs());
    expect(r.stderr).toBe("");
    const checks = byId(JSON.parse(r.stdout).checks as Check[]);
    expect(r.code).toBe(0);
    expect(checks["database"]).toMatchObject({
      status: "ok",
      summary: "PostgreSQL answers; the schema is up to date",
    });
    expect(checks["verp-keys"]).toMatchObject({ status: "ok" });
    expect(checks["policy"]).toMatchObject({ status: "ok" });
    expect(checks["mx:bounces.example.test"]).toMatchObject({
      status: "ok",
      summary: "MX mx.example.test: mx.example.test (127.0.0.1) answers",
    });
    expect(checks["tls"]).toMatchObject({
      status: "ok",
      summary: expect.stringMatching(/names mx\.example\.test$/),
    });
  });

  it("fails, saying what to do, for a domain without MX, no VERP key and a key that is not the certificate's; exit 1", async () => {
    process.env.REBOUND_DOMAINS = "nomx.example.test";
    delete process.env.REBOUND_VERP_KEYS;
    const other = await generate([{ name: "commonName", value: "other" }], { keyType: "ec", curve: "P-256" });
    const wrongKey = join(dir, "wrong.pem");
    writeFileSync(wrongKey, other.private);
    process.env.REBOUND_TLS_KEY = wrongKey;
    const r = await cli(
      "doctor",
      "--dns-server",
      `127.0.0.1:${dnsPort}`,
      "--smtp-port",
      String(app.smtpPort),
      "--timeout",
      "3000",
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^FAIL mx:nomx\.example\.test: no MX record for nomx\.example\.test .*\n     fix: publish "nomx\.example\.test\. MX 10 /m,
    );
    expect(r.stdout).toMatch(
      /^FAIL verp-keys: no VERP key is configured.*\n     fix: REBOUND_VERP_KEYS=\$\(npx rebound verp keygen\)/m,
    );
    expect(r.stdout).toMatch(/^FAIL tls: REBOUND_TLS_KEY is not the key of REBOUND_TLS_CERT/m);
    expect(r.stdout).toMatch(/^ok   database: /m);
  });

  it("checks the policy and alerts files and Redis: a broken file fails naming what is wrong, Redis at REDIS_URL answers, an unreachable one fails", async () => {
    process.env.REBOUND_DOMAINS = "bounces.example.test";
    process.env.REBOUND_VERP_KEYS = "k1:a-production-secret-of-32-characters!";
    const badPolicy = join(dir, "policy.json");
    writeFileSync(badPolicy, '{"verification": {"mode": "sometimes"}}');
    const badAlerts = join(dir, "alerts-bad.json");
    writeFileSync(badAlerts, "{ not json");
    const goodAlerts = join(dir, "alerts.json");
    writeFileSync(goodAlerts, "{}");
    const run = async () => {
      const r = await cli(...doctorArgs());
      return { code: r.code, checks: byId(JSON.parse(r.stdout).checks as Check[]) };
    };
    try {
      process.env.REBOUND_POLICY = badPolicy;
      process.env.REBOUND_ALERTS = badAlerts;
      process.env.REDIS_URL = "redis://127.0.0.1:6379";
      const broken = await run();
      expect(broken.code).toBe(1);
      expect(broken.checks["policy"]).toMatchObject({
        status: "fail",
        fix: "fix the policy file (docs/policy.md)",
      });
      expect(broken.checks["alerts"]).toMatchObject({
        status: "fail",
        summary: expect.stringContaining(badAlerts),
        fix: "fix the alerts file (docs/monitoring.md)",
      });
      expect(broken.checks["redis"]).toMatchObject({ status: "ok", summary: "Redis answers" });

      delete process.env.REBOUND_POLICY;
      process.env.REBOUND_ALERTS = goodAlerts;
      process.env.REDIS_URL = "redis://127.0.0.1:1";
      const fixed = await run();
      expect(fixed.checks["policy"]).toMatchObject({ status: "ok" });
      expect(fixed.checks["alerts"]).toMatchObject({
        status: "ok",
        summary: expect.stringMatching(/: valid \(\d+ rule\(s\)\)$/),
      });
      expect(fixed.checks["redis"]).toMatchObject({
        status: "fail",
        fix: "check REDIS_URL and that Redis runs",
      });
    } finally {
      for (const v of ["REBOUND_POLICY", "REBOUND_ALERTS", "REDIS_URL"]) delete process.env[v];
    }
  });

  it("judges a certificate's dates and names: expired, expiring soon, not naming the MX host", async () => {
    const pems = await generate([{ name: "commonName", value: "mx.example.test" }], {
      keyType: "ec",
      curve: "P-256",
      notBeforeDate: new Date("2026-01-01T00:00:00Z"),
      notAfterDate: new Date("2026-12-31T00:00:00Z"),
    });
    const cert = new X509Certificate(pems.cert);
    expect(tlsVerdict(cert, new Date("2027-01-02T00:00:00Z"), [])).toMatchObject({
      status: "fail",
      summary: expect.stringMatching(/expired on 2026-12-31/),
    });
    expect(tlsVerdict(cert, new Date("2026-12-25T00:00:00Z"), ["mx.example.test"])).toMatchObject({
      status: "warn",
      summary: "the certificate expires in 6 days",
    });
    expect(tlsVerdict(cert, new Date("2026-06-01T00:00:00Z"), ["mx.other.test"])).toMatchObject({
      status: "warn",
      summary: "the certificate does not name mx.other.test",
    });
    expect(tlsVerdict(cert, new Date("2026-06-01T00:00:00Z"), ["mx.example.test"]).status).toBe("ok");
  });
});
