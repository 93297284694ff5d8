// `ingest pop3` against real Dovecot (its POP3 service) on loopback and real PostgreSQL: messages taken into the
// spool byte for byte (dot-stuffed lines restored), deleted on the server only after, or kept and taken once by
// UIDL; a bounce ending as a suppression through the worker; a message over the limit left; a kill -9 in the
// middle of a backlog that loses and doubles nothing.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/log.js";
import { parsePop3Accounts, type Pop3Account } from "../../../src/integrations/pop3/accounts.js";
import { Pop3Client, Pop3Error } from "../../../src/integrations/pop3/client.js";
import { ingestPop3Account } from "../../../src/integrations/pop3/ingest.js";
import { expectBounceSuppressed, killMidBacklog } from "../../helpers/mailbox-ingest.js";
import { createTestDb, type TestDb } from "../../helpers/db.js";
import {
  DOVECOT_PASSWORD,
  dovecotAvailable,
  startDovecot,
  type DovecotInstance,
} from "../../helpers/dovecot.js";
import { startPop3Proxy } from "../../helpers/pop3-proxy.js";
import { until } from "../../helpers/until.js";

const logger = createLogger("silent");
let dovecot: DovecotInstance;
let dir: string;

const settings = (user: string, over: Record<string, unknown> = {}) => ({
  name: user,
  host: "127.0.0.1",
  port: dovecot.pop3Port,
  secure: false,
  user,
  password: DOVECOT_PASSWORD,
  ...over,
});
const account = (user: string, over: Record<string, unknown> = {}): Pop3Account =>
  parsePop3Accounts(JSON.stringify([settings(user, over)]), () => "")[0]!;

const mail = (i: number, body = `Message ${i}.\r\n`) =>
  Buffer.from(
    `Delivered-To: bounces+${i}@bounces.example.net\r\nFrom: MAILER-DAEMON@mx.example.org\r\n` +
      `To: bounces+${i}@bounces.example.net\r\nSubject: Undelivered Mail Returned to Sender ${i}\r\n` +
      `Message-ID: <pop3-${i}-${Date.now()}@mx.example.org>\r\n\r\n${body}`,
  );

async function append(user: string, mails: Buffer[]): Promise<void> {
  const c = await dovecot.client(user);
  for (const m of mails) await c.append("INBOX", m);
  await c.logout();
}

async function onServer(user: string): Promise<number> {
  const c = await dovecot.client(user);
  const s = await c.status("INBOX", { messages: true });
  await c.logout();
  return s ? (s.messages ?? 0) : -1;
}

const deps = (t: TestDb, maxMessageBytes = 10 * 1024 * 1024) => ({
  db: t.db,
  logger,
  now: () => new Date(),
  maxMessageBytes,
});
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const spooled = async (t: TestDb) =>
  t.db.selectFrom("inbound_mails").select(["sha256", "raw", "rcpt_to", "helo"]).orderBy("id").execute();

describe.skipIf(!dovecotAvailable && !process.env.CI)("ingest pop3 against real Dovecot", () => {
  beforeAll(async () => {
    dovecot = await startDovecot();
    dir = mkdtempSync(join(tmpdir(), "rebound-pop3-"));
  }, 60_000);
  afterAll(async () => {
    await dovecot?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("spools every message byte for byte (dot-stuffed lines restored) with its envelope, deletes it after, and takes nothing on the next run", async () => {
    const t = await createTestDb();
    try {
      const mails = [
        mail(1),
        mail(2, "A line.\r\n.\r\n..two dots\r\n.leading dot\r\nlast\r\n"),
        mail(3, "no final line break"),
      ];
      await append("deleter", mails);
      const counts = await ingestPop3Account(deps(t), account("deleter"));
      expect(counts).toEqual({ taken: 3, tooLarge: 0, takenBefore: 0 });
      const rows = await spooled(t);
      // Dovecot hands a mail without a final line break back with one
      // (mail ids made in one millisecond do not sort in arrival order: compared as sets)
      expect(new Set(rows.map((r) => r.raw?.toString()))).toEqual(
        new Set([mails[0]!.toString(), mails[1]!.toString(), `${mails[2]!.toString()}\r\n`]),
      );
      expect(rows.map((r) => r.sha256)).toEqual(rows.map((r) => sha(r.raw!)));
      expect(rows.find((r) => r.raw?.includes("Sender 1"))).toMatchObject({
        rcpt_to: ["bounces+1@bounces.example.net"],
        helo: "pop3:deleter",
      });
      expect(await onServer("deleter")).toBe(0);
      expect(await ingestPop3Account(deps(t), account("deleter"))).toEqual({
        taken: 0,
        tooLarge: 0,
        takenBefore: 0,
      });
      expect(await spooled(t)).toHaveLength(3);
    } finally {
      await t.drop();
    }
  });

  it("a bounce in the mailbox ends as a suppression, through the running intake's sweeper and worker", async () => {
    await expectBounceSuppressed(
      logger,
      (mail) => append("e2e", [mail]),
      (deps) => ingestPop3Account(deps, account("e2e")),
    );
  });

  it("with after: keep, leaves messages on the server and takes each once by UIDL, then only the new one", async () => {
    const t = await createTestDb();
    try {
      await append("keeper", [mail(1), mail(2)]);
      expect((await ingestPop3Account(deps(t), account("keeper", { after: "keep" }))).taken).toBe(2);
      expect(await onServer("keeper")).toBe(2);
      await append("keeper", [mail(3)]);
      expect(await ingestPop3Account(deps(t), account("keeper", { after: "keep" }))).toEqual({
        taken: 1,
        tooLarge: 0,
        takenBefore: 2,
      });
      expect(await spooled(t)).toHaveLength(3);
    } finally {
      await t.drop();
    }
  });

  it("leaves a message over the size limit on the server and takes the others", async () => {
    const t = await createTestDb();
    try {
      await append("sizes", [mail(1), mail(2, "x".repeat(5000) + "\r\n"), mail(3)]);
      expect(await ingestPop3Account(deps(t, 2000), account("sizes"))).toEqual({
        taken: 2,
        tooLarge: 1,
        takenBefore: 0,
      });
      expect(await onServer("sizes")).toBe(1);
    } finally {
      await t.drop();
    }
  });

  it("drops a line longer than its bound as it streams, the session staying in step", async () => {
    await append("longline", [mail(1, `${"y".repeat(4000)}\r\n`), mail(2)]);
    const c = await Pop3Client.connect({ ...account("longline"), maxLineBytes: 1000 });
    try {
      expect(await c.retr(1, 1 << 20)).toBeUndefined();
      expect((await c.retr(2, 1 << 20))?.toString()).toContain("Message 2.");
    } finally {
      await c.quit();
    }
  });

  it("names the failed step of a refused login without the password", async () => {
    const err = await Pop3Client.connect({ ...account("refused"), password: "not-the-password" }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(Pop3Error);
    expect(err.message).toContain("PASS ***");
    expect(err.message).not.toContain("not-the-password");
  });

  it("takes new mail while following (POP3 has no IDLE: a poll), and stops on abort", async () => {
    const t = await createTestDb();
    const stop = new AbortController();
    try {
      const run = ingestPop3Account(deps(t), account("follower"), {
        follow: true,
        pollMs: 100,
        signal: stop.signal,
      });
      await append("follower", [mail(1)]);
      await until(async () => (await spooled(t)).length === 1, { what: "the first mail" });
      await append("follower", [mail(2)]);
      await until(async () => (await spooled(t)).length === 2, { what: "the second mail" });
      stop.abort();
      expect((await run).taken).toBe(2);
      expect(await onServer("follower")).toBe(0);
    } finally {
      stop.abort();
      await t.drop();
    }
  });

  it("a kill -9 in the middle of a backlog loses and doubles nothing: every message spooled exactly once, all deleted", async () => {
    const t = await createTestDb();
    try {
      const mails = Array.from({ length: 300 }, (_, i) => mail(i));
      await append("killed", mails);
      const atKill = await killMidBacklog({ protocol: "pop3", account: settings("killed"), t, dir });
      expect(atKill).toBeLessThan(300);
      // killed before QUIT: the server deleted nothing yet
      expect(await onServer("killed")).toBe(300);
      const rerun = await ingestPop3Account(deps(t), account("killed"));
      expect(rerun.takenBefore).toBe(atKill);
      const digests = (await spooled(t)).map((r) => r.sha256);
      expect(digests).toHaveLength(300);
      expect(new Set(digests).size).toBe(300);
      expect(new Set(digests)).toEqual(new Set(mails.map(sha)));
      expect(await onServer("killed")).toBe(0);
    } finally {
      await t.drop();
    }
  });
});

describe.skipIf(!dovecotAvailable && !process.env.CI)("the POP3 client against servers that differ", () => {
  let plain: DovecotInstance;
  let tlsOnly: DovecotInstance;
  beforeAll(async () => {
    plain = await startDovecot();
    tlsOnly = await startDovecot({ tls: "required" });
  }, 60_000);
  afterAll(async () => {
    await plain?.stop();
    await tlsOnly?.stop();
  });

  const on = (d: DovecotInstance, user: string, over: Record<string, unknown> = {}): Pop3Account =>
    parsePop3Accounts(
      JSON.stringify([
        {
          name: user,
          host: "127.0.0.1",
          port: d.pop3Port,
          secure: false,
          user,
          password: DOVECOT_PASSWORD,
          ...over,
        },
      ]),
      () => "",
    )[0]!;
  const fill = async (d: DovecotInstance, user: string, n: number) => {
    const c = await d.client(user);
    for (let i = 0; i < n; i++) await c.append("INBOX", mail(i));
    await c.logout();
  };
  const left = async (d: DovecotInstance, user: string) => {
    const c = await d.client(user);
    const s = await c.status("INBOX", { messages: true });
    await c.logout();
    return s ? s.messages : -1;
  };

  it("sends one command at a time to a server that does not announce PIPELINING, taking a backlog of several batches", async () => {
    const t = await createTestDb();
    const hiding = await startPop3Proxy(plain.pop3Port, ["PIPELINING"]);
    const relaying = await startPop3Proxy(plain.pop3Port, []);
    try {
      await fill(plain, "nopipe", 120);
      const counts = await ingestPop3Account(deps(t), on(plain, "nopipe", { port: hiding.port }));
      expect(counts).toEqual({ taken: 120, tooLarge: 0, takenBefore: 0 });
      expect(await left(plain, "nopipe")).toBe(0);
      expect(hiding.commands.filter((c) => c.startsWith("RETR "))).toHaveLength(120);
      expect(hiding.commands.filter((c) => c.startsWith("DELE "))).toHaveLength(120);
      expect(hiding.pipelined).toEqual([]);
      // the same proxy sees the pipelining of a server that announces it (what the check above would catch)
      await fill(plain, "pipe", 60);
      expect((await ingestPop3Account(deps(t), on(plain, "pipe", { port: relaying.port }))).taken).toBe(60);
      expect(relaying.pipelined.filter((c) => c.startsWith("RETR ")).length).toBeGreaterThan(0);
    } finally {
      await hiding.close();
      await relaying.close();
      await t.drop();
    }
  });

  it("upgrades with STLS a server that refuses logins before TLS (self-signed certificate, verifyTls: false), and takes the mail", async () => {
    const t = await createTestDb();
    try {
      await fill(tlsOnly, "stls", 3);
      const counts = await ingestPop3Account(deps(t), on(tlsOnly, "stls", { verifyTls: false }));
      expect(counts).toEqual({ taken: 3, tooLarge: 0, takenBefore: 0 });
      expect(await left(tlsOnly, "stls")).toBe(0);
      // the same with stls: required
      await fill(tlsOnly, "stls", 1);
      expect(
        (await ingestPop3Account(deps(t), on(tlsOnly, "stls", { verifyTls: false, stls: "required" }))).taken,
      ).toBe(1);
    } finally {
      await t.drop();
    }
  });

  it("refuses a certificate that does not verify when verifyTls is on, before any password is sent", async () => {
    const err = await Pop3Client.connect(on(tlsOnly, "stls-verify")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/self[- ]signed|certificate/i);
  });

  it("with stls: required, gives up on a server without STLS before sending the password", async () => {
    const proxy = await startPop3Proxy(plain.pop3Port, []);
    try {
      const err = await Pop3Client.connect(on(plain, "nostls", { port: proxy.port, stls: "required" })).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Pop3Error);
      expect((err as Error).message).toContain("STLS is required for this account");
      expect(proxy.commands.some((c) => c.startsWith("PASS") || c.startsWith("USER"))).toBe(false);
    } finally {
      await proxy.close();
    }
  });
});
