// `rebound doctor`: what a deployment needs, checked one thing at a time, each with what to do about it. The
// checks talk to the world (DNS, the MX on port 25, PostgreSQL, Redis, files); the verdicts on what they found
// (certificate dates and names, the DNS answers) are plain functions of it.
import { X509Certificate, createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { Resolver } from "node:dns/promises";
import { connect } from "node:net";
import { loadAlerts } from "../alerts/file.js";
import type { Config } from "../config.js";
import { loadPolicy } from "../policy-file.js";
import { resolveVerpKeys } from "../verp-keys.js";

export const CHECK_STATUSES = ["ok", "warn", "fail"] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

export interface Check {
  id: string;
  status: CheckStatus;
  summary: string;
  /** What to do, when not ok. */
  fix?: string;
}

export interface DoctorOptions {
  /** DNS servers to ask (`host` or `host:port`); default the system's. */
  dnsServers?: string[];
  /** The port the bounce domain's MX hosts are tried on (default 25). */
  smtpPort: number;
  timeoutMs: number;
  now: Date;
}

const ok = (id: string, summary: string): Check => ({ id, status: "ok", summary });
const warn = (id: string, summary: string, fix: string): Check => ({ id, status: "warn", summary, fix });
const fail = (id: string, summary: string, fix: string): Check => ({ id, status: "fail", summary, fix });
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The VERP keys: configured, and where from. */
export function checkVerpKeys(config: Config): Check {
  let resolved;
  try {
    resolved = resolveVerpKeys(config);
  } catch (err) {
    return fail(
      "verp-keys",
      `the VERP keys cannot be read: ${message(err)}`,
      "fix REBOUND_VERP_KEYS or its file",
    );
  }
  if (!resolved.keys.length)
    return fail(
      "verp-keys",
      "no VERP key is configured: bounces cannot be verified, so no bounce suppresses anyone",
      "REBOUND_VERP_KEYS=$(npx rebound verp keygen) (and sign every send's return path: docs/verp.md)",
    );
  const weak = resolved.keys.filter((k) => k.secret.length < 32);
  const from = resolved.source === "env" ? "REBOUND_VERP_KEYS" : `the file ${resolved.file}`;
  if (weak.length)
    return warn(
      "verp-keys",
      `${resolved.keys.length} VERP key(s) from ${from}; ${weak.map((k) => k.id).join(", ")} shorter than 32 characters`,
      "make new keys with `npx rebound verp keygen` and rotate (docs/verp.md)",
    );
  return ok("verp-keys", `${resolved.keys.length} VERP key(s) from ${from}; ${resolved.keys[0]!.id} signs`);
}

/** The policy file parses and says nothing dangerous. */
export function checkPolicy(config: Config): Check {
  try {
    const policy = loadPolicy(config);
    const where = config.policyPath ?? "the defaults";
    if (policy.verification.mode === "plain")
      return warn(
        "policy",
        `${where}: verification mode "plain": an unsigned bounce suppresses (anyone can suppress anyone)`,
        'use "verp" (the default) and sign return paths',
      );
    return ok("policy", `${where}: valid (verification ${policy.verification.mode})`);
  } catch (err) {
    return fail("policy", message(err), "fix the policy file (docs/policy.md)");
  }
}

/** The alerts file (REBOUND_ALERTS) parses: a broken one would stop the worker's alerting at start. */
export function checkAlerts(config: Config): Check {
  if (!config.alertsPath)
    return ok("alerts", "no REBOUND_ALERTS: the shipped alert rules (docs/monitoring.md)");
  try {
    const alerts = loadAlerts(config);
    return ok("alerts", `${config.alertsPath}: valid (${alerts.rules.length} rule(s))`);
  } catch (err) {
    return fail("alerts", message(err), "fix the alerts file (docs/monitoring.md)");
  }
}

/** The STARTTLS certificate: present, matching its key, in date, naming the MX host. */
export function checkTls(config: Config, now: Date, mxHosts: string[]): Check {
  if (!config.tlsCertPath || !config.tlsKeyPath)
    return warn(
      "tls",
      "STARTTLS uses a self-signed certificate made at start",
      "set REBOUND_TLS_CERT and REBOUND_TLS_KEY to a certificate for the MX host (sending servers mostly accept any, but reports and audits do not)",
    );
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readFileSync(config.tlsCertPath));
    if (!cert.checkPrivateKey(createPrivateKey(readFileSync(config.tlsKeyPath))))
      return fail(
        "tls",
        "REBOUND_TLS_KEY is not the key of REBOUND_TLS_CERT",
        "give the key the certificate was made for",
      );
  } catch (err) {
    return fail(
      "tls",
      `the certificate or its key cannot be read: ${message(err)}`,
      "check REBOUND_TLS_CERT and REBOUND_TLS_KEY",
    );
  }
  return tlsVerdict(cert, now, [
    ...new Set([config.smtpHostname, ...mxHosts].filter((h): h is string => !!h)),
  ]);
}

/** Dates and names of a certificate, for the names the MX is known by. Pure. */
export function tlsVerdict(cert: X509Certificate, now: Date, names: string[]): Check {
  const notAfter = new Date(cert.validTo);
  const notBefore = new Date(cert.validFrom);
  if (now < notBefore)
    return fail(
      "tls",
      `the certificate is valid only from ${notBefore.toISOString()}`,
      "check the clock, or the certificate",
    );
  if (now > notAfter)
    return fail(
      "tls",
      `the certificate expired on ${notAfter.toISOString()}`,
      "renew it (and restart, or reload)",
    );
  const days = Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000);
  const unnamed = names.filter((n) => cert.checkHost(n) === undefined);
  if (unnamed.length)
    return warn(
      "tls",
      `the certificate does not name ${unnamed.join(", ")}`,
      "make it for the MX host names",
    );
  if (days < 14) return warn("tls", `the certificate expires in ${days} days`, "renew it");
  return ok("tls", `valid for ${days} more days${names.length ? `, names ${names.join(", ")}` : ""}`);
}

/** Each bounce domain's MX hosts, their addresses, and whether an MX answers SMTP with a 220. */
export async function checkDomains(
  config: Config,
  opts: DoctorOptions,
): Promise<{ checks: Check[]; mxHosts: string[] }> {
  const resolver = new Resolver({ timeout: opts.timeoutMs, tries: 1 });
  if (opts.dnsServers?.length) resolver.setServers(opts.dnsServers);
  const checks: Check[] = [];
  const mxHosts: string[] = [];
  for (const domain of config.domains) {
    if (domain === "localhost") {
      checks.push(
        warn(
          `mx:${domain}`,
          "REBOUND_DOMAINS is localhost: no mail from outside can reach this MX",
          "set REBOUND_DOMAINS to your bounce and feedback-loop domains",
        ),
      );
      continue;
    }
    let mx: { exchange: string; priority: number }[];
    try {
      mx = (await resolver.resolveMx(domain)).sort((a, b) => a.priority - b.priority);
    } catch (err) {
      checks.push(
        fail(
          `mx:${domain}`,
          `no MX record for ${domain} (${message(err)})`,
          `publish "${domain}. MX 10 <this host's name>."`,
        ),
      );
      continue;
    }
    if (!mx.length || (mx.length === 1 && mx[0]!.exchange === "")) {
      checks.push(
        fail(
          `mx:${domain}`,
          `${domain} has a null MX: it accepts no mail`,
          `publish an MX record that names this host`,
        ),
      );
      continue;
    }
    const reached: string[] = [];
    const problems: string[] = [];
    for (const { exchange } of mx) {
      mxHosts.push(exchange);
      const addrs = await resolver.resolve4(exchange).catch(() => [] as string[]);
      const addrs6 = await resolver.resolve6(exchange).catch(() => [] as string[]);
      const all = [...addrs, ...addrs6];
      if (!all.length) {
        problems.push(`${exchange} has no address`);
        continue;
      }
      const greeting = await smtpGreeting(all[0]!, opts.smtpPort, opts.timeoutMs);
      if (greeting.startsWith("220")) reached.push(`${exchange} (${all[0]}) answers`);
      else problems.push(`${exchange} (${all[0]}:${opts.smtpPort}): ${greeting}`);
    }
    checks.push(
      problems.length === 0
        ? ok(`mx:${domain}`, `MX ${mx.map((m) => m.exchange).join(", ")}: ${reached.join("; ")}`)
        : reached.length
          ? warn(
              `mx:${domain}`,
              `${reached.join("; ")}; but ${problems.join("; ")}`,
              "every MX host should reach a Rebound intake",
            )
          : fail(
              `mx:${domain}`,
              problems.join("; "),
              `open port ${opts.smtpPort} to the intake, and point the MX records at it`,
            ),
    );
  }
  return { checks, mxHosts };
}

/** The first line an SMTP server says, or why there is none. Where port 25 is filtered, this says so. */
function smtpGreeting(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    let got = "";
    const done = (text: string) => {
      clearTimeout(timer);
      s.destroy();
      resolve(text);
    };
    const timer = setTimeout(() => done(`no answer within ${timeoutMs} ms (port filtered?)`), timeoutMs);
    s.setEncoding("latin1");
    s.on("data", (d: string) => {
      got += d;
      const nl = got.indexOf("\n");
      if (nl >= 0) {
        s.write("QUIT\r\n");
        done(got.slice(0, nl).trim());
      }
    });
    s.on("error", (err) => done(message(err)));
  });
}

/** The database answers, and its schema is up to date. */
export async function checkDatabase(config: Config): Promise<Check> {
  const { withDb } = await import("../cli/with-db.js");
  const { pendingMigrations } = await import("../store/db.js");
  const where = config.databaseUrl ? "PostgreSQL" : `the embedded database in ${config.dataDir}`;
  try {
    const pending = await withDb(config, (db) => pendingMigrations(db), { migrate: false });
    return pending.length
      ? warn(
          "database",
          `${where} answers; ${pending.length} migration(s) not run: ${pending.join(", ")}`,
          "npx rebound migrate (start does it too)",
        )
      : ok("database", `${where} answers; the schema is up to date`);
  } catch (err) {
    return fail(
      "database",
      `${where}: ${message(err)}`,
      config.databaseUrl ? "check DATABASE_URL and that PostgreSQL runs" : "check REBOUND_DATA_DIR",
    );
  }
}

/** Redis answers (with REDIS_URL), or what the in-process queue means. */
export async function checkRedis(config: Config, timeoutMs: number): Promise<Check> {
  if (!config.redisUrl)
    return ok(
      "redis",
      "no REDIS_URL: the in-process queue (the intake and the worker must run in one process)",
    );
  const { Redis } = await import("ioredis");
  const redis = new Redis(config.redisUrl, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    const pong = await redis.ping();
    return pong === "PONG"
      ? ok("redis", "Redis answers")
      : fail("redis", `Redis said ${pong}`, "check REDIS_URL");
  } catch (err) {
    return fail("redis", `Redis does not answer: ${message(err)}`, "check REDIS_URL and that Redis runs");
  } finally {
    redis.disconnect();
  }
}

/** Every check, in the order a person would fix them. */
export async function runDoctor(config: Config, opts: DoctorOptions): Promise<Check[]> {
  const { checks: dns, mxHosts } = await checkDomains(config, opts);
  return [
    await checkDatabase(config),
    await checkRedis(config, opts.timeoutMs),
    checkVerpKeys(config),
    checkPolicy(config),
    checkAlerts(config),
    ...dns,
    checkTls(config, opts.now, mxHosts),
  ];
}
