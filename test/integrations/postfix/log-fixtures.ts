// What the tests of `rebound ingest postfix-log` share: an attribution, the command's dependencies on a test
// database, a mail's log lines as Postfix writes them, the hourly rollups' counters, and a follower to stop.
import { DEFAULT_POLICY } from "../../../src/core/policy-config.js";
import type { LogAttribution } from "../../../src/integrations/postfix/log-events.js";
import {
  ingestPostfixLog,
  type IngestCounts,
  type IngestDeps,
  type IngestOptions,
} from "../../../src/integrations/postfix/log-ingest.js";
import { createLogger, type Logger } from "../../../src/log.js";
import type { Db } from "../../../src/store/db.js";
import { testHash } from "../../helpers/db.js";

/** Mail of tenant acme, in the default stream unless a test maps its sender. */
export const ATTRIBUTION: LogAttribution = {
  verpKeys: [],
  senderStreams: new Map(),
  tenant: "acme",
  defaultTenant: "default",
  defaultStream: "default",
  caseSensitiveLocalPart: false,
};

export const ingestDeps = (db: Db, logger: Logger = createLogger("silent")): IngestDeps => ({
  db,
  policy: DEFAULT_POLICY,
  hashAddress: testHash,
  logger,
  now: () => new Date("2026-12-07T12:00:00Z"),
});

/** One mail from `from` to each recipient: qmgr's sender line, one delivery line per recipient, `removed`. */
export function postfixMail(
  id: string,
  from: string,
  outcomes: [to: string, status: "sent" | "bounced"][],
): string[] {
  return [
    `Dec  7 04:38:46 relay postfix/qmgr[11608]: ${id}: from=<${from}>, size=2048, nrcpt=${outcomes.length} (queue active)`,
    ...outcomes.map(([to, status]) =>
      status === "sent"
        ? `Dec  7 04:38:47 relay postfix/smtp[11613]: ${id}: to=<${to}>, relay=mx.example.org[192.0.2.10]:25, delay=0.2, delays=0/0/0.1/0, dsn=2.0.0, status=sent (250 2.0.0 OK)`
        : `Dec  7 04:38:47 relay postfix/smtp[11613]: ${id}: to=<${to}>, relay=mx.example.org[192.0.2.10]:25, delay=0.2, delays=0/0/0.1/0, dsn=5.1.1, status=bounced (host mx.example.org[192.0.2.10] said: 550 5.1.1 <${to}>: Recipient address rejected: User unknown (in reply to RCPT TO command))`,
    ),
    `Dec  7 04:38:47 relay postfix/qmgr[11608]: ${id}: removed`,
  ];
}

/** One mail to `to`, delivered: 3 lines, counted in the rollups (no event). */
export const sentMail = (id: string, to: string) => postfixMail(id, "orders@shop.example", [[to, "sent"]]);
/** One mail to `to`, bounced: 3 lines, an event. */
export const bouncedMail = (id: string, to: string) =>
  postfixMail(id, "orders@shop.example", [[to, "bounced"]]);
/** Mails' lines as a log file's text. */
export const logText = (...mails: string[][]) => mails.flat().join("\n") + "\n";

type Counter = "sent" | "delivered" | "hard" | "soft";

/** The rollups' counters named by `keys`, summed over every key. */
export async function rollupTotals<K extends Counter>(
  db: Db,
  keys: readonly K[],
): Promise<Record<K, number>> {
  const rows = await db.selectFrom("rollups").select(["sent", "delivered", "hard", "soft"]).execute();
  return Object.fromEntries(keys.map((k) => [k, rows.reduce((n, r) => n + Number(r[k]), 0)])) as Record<
    K,
    number
  >;
}

/** The rollups' sent, delivered and hard counters by tenant/stream. */
export async function rollupsByStream(db: Db) {
  const by: Record<string, { sent: number; delivered: number; hard: number }> = {};
  for (const r of await db
    .selectFrom("rollups")
    .select(["tenant", "stream", "sent", "delivered", "hard"])
    .execute()) {
    const k = (by[`${r.tenant}/${r.stream}`] ??= { sent: 0, delivered: 0, hard: 0 });
    k.sent += Number(r.sent);
    k.delivered += Number(r.delivered);
    k.hard += Number(r.hard);
  }
  return by;
}

/** `--follow` on `path`: stop() aborts it and resolves with its counts; lines() is what it has committed. */
export function followLog(deps: IngestDeps, path: string, opts: Partial<IngestOptions> = {}) {
  const stop = new AbortController();
  const seen: { c?: IngestCounts } = {};
  const run = ingestPostfixLog(
    deps,
    { path },
    {
      attribution: ATTRIBUTION,
      follow: true,
      pollMs: 20,
      signal: stop.signal,
      onBatch: (c) => (seen.c = { ...c }),
      ...opts,
    },
  );
  return { stop: () => (stop.abort(), run), lines: () => seen.c?.lines ?? 0 };
}
