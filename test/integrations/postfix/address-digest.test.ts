// The lookups' allocation-free path (issue 15 §1): AddressDigest gives, for every address it takes, the key the
// general path gives (normalizeAddress, the keyed hash, its first 96 bits), and refuses what it does not normalise;
// then the socketmap and policy servers answer the same from a request's bytes as from its text, on real
// PostgreSQL, through their sockets.
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addressHasher, normalizeAddress } from "../../../src/core/address.js";
import { encodeVerp, type VerpKey } from "../../../src/core/verp.js";
import { AddressDigest } from "../../../src/integrations/postfix/address-digest.js";
import { pauseCheck, suppressionCheck } from "../../../src/integrations/postfix/check.js";
import { NetstringReader } from "../../../src/integrations/postfix/netstring.js";
import { startPolicyServer } from "../../../src/integrations/postfix/policy.js";
import { startSocketmapServer, type ListeningServer } from "../../../src/integrations/postfix/socketmap.js";
import { keyWords } from "../../../src/integrations/postfix/suppressed-map.js";
import { SuppressionMirror } from "../../../src/integrations/postfix/suppression-mirror.js";
import { PauseCache } from "../../../src/alerts/pause-cache.js";
import { createLogger } from "../../../src/log.js";
import { upsertSuppression } from "../../../src/store/suppressions.js";
import { createTestDb, TEST_ADDRESS_KEY, testHash, type TestDb } from "../../helpers/db.js";
import { PolicyClient, SocketmapClient } from "./lookup-client.js";

const VERP_KEY: VerpKey = { id: "k1", secret: "a-test-secret-of-some-length-0123456789" };

/** The general path's key of an address, or undefined when it does not normalise. */
function generalKey(key: Uint8Array, address: string, caseSensitiveLocalPart: boolean) {
  const n = normalizeAddress(address, { caseSensitiveLocalPart });
  if (!n.ok) return undefined;
  const w = new Uint32Array(3);
  keyWords(addressHasher(key)(n.address), w);
  return [...w];
}

// Addresses at the edges of what the fast path takes: each is either taken with the general path's key, or left
// to the general path.
const EDGES = [
  "Jane.Doe@Example.ORG",
  "jane+tag@mail.example.co.uk",
  "a@b.c",
  "a@b",
  "@example.org",
  "a@",
  "a@@example.org",
  "a@b@example.org",
  '"a b"@example.org',
  "<jane@example.org>",
  "mailto:jane@example.org",
  " jane@example.org ",
  "jane@example.org.",
  "jane@EXAMPLE..org",
  "jane@-example.org",
  "jane@example-.org",
  "jane@ab--cd.example.org",
  "jane@xn--80ak6aa92e.com",
  "jane@XN--80AK6AA92E.COM",
  "jane@xn--abc.com",
  "jane@bücher.example",
  "jäne@example.org",
  "jane@1.2.3.4",
  "jane@0x7f.1",
  "jane@example.123",
  "jane@example.c0m",
  "jane@[192.0.2.1]",
  "jane@exa_mple.org",
  "ja(ne@example.org",
  "ja;ne@example.org",
  "ja\\ne@example.org",
  `${"l".repeat(64)}@example.org`,
  `${"l".repeat(65)}@example.org`,
  `${"l".repeat(50)}@${"d".repeat(63)}.example.org`,
  `${"l".repeat(50)}@${"d".repeat(64)}.example.org`,
  `a@${"d.".repeat(158)}org`,
  `a@${"d.".repeat(159)}org`,
];

describe("AddressDigest", () => {
  for (const caseSensitiveLocalPart of [false, true])
    for (const keyBytes of [32, 64, 100])
      it(`gives the general path's key for every address it takes, from text and from bytes (key of ${keyBytes} bytes, local part case ${caseSensitiveLocalPart ? "kept" : "folded"})`, () => {
        const key = randomBytes(keyBytes);
        const digest = new AddressDigest(key, caseSensitiveLocalPart);
        const alphabet = [...'abcXYZ09.-@_+"<>[]() :;,\\é'];
        const generated = Array.from({ length: 3000 }, (_, i) =>
          i % 2
            ? Array.from(
                { length: 1 + (i % 40) },
                () => alphabet[Math.floor(Math.random() * alphabet.length)],
              ).join("")
            : `${randomBytes(1 + (i % 45)).toString("base64url")}@Mail-${i % 7}.Example.ORG`,
        );
        let taken = 0;
        for (const address of [...EDGES, ...generated]) {
          const fromText = digest.ofString(address);
          const words = [...digest.words];
          const bytes = Buffer.from(`xx${address}yy`);
          const fromBytes = digest.ofBytes(bytes, 2, bytes.length - 2);
          expect(fromBytes, address).toBe(fromText);
          if (!fromText) continue;
          taken++;
          expect(words, address).toEqual(generalKey(key, address, caseSensitiveLocalPart));
          expect([...digest.words], address).toEqual(words);
        }
        // The fast path takes the ordinary addresses: half of the generated ones at least.
        expect(taken).toBeGreaterThan(1400);
      });

  it("takes ordinary addresses and leaves the unusual ones to the general path", () => {
    const digest = new AddressDigest(TEST_ADDRESS_KEY, false);
    for (const a of ["Jane.Doe@Example.ORG", "n1234@example.org", "x@ab--cd.example.org"])
      expect(digest.ofString(a), a).toBe(true);
    for (const a of [
      '"a b"@example.org',
      "<jane@example.org>",
      "jane@example.org.",
      "jane@xn--80ak6aa92e.com",
      "jane@bücher.example",
      "jane@1.2.3.4",
      "jane@[192.0.2.1]",
      `${"l".repeat(65)}@example.org`,
    ])
      expect(digest.ofString(a), a).toBe(false);
  });
});

describe("NetstringReader.read", () => {
  it("hands each string's bytes where they lie, and joins a string split across chunks", () => {
    const reader = new NetstringReader(100);
    const got: string[] = [];
    const each = (b: Buffer, s: number, e: number) => got.push(b.toString("utf8", s, e));
    const all = Buffer.from("5:hello,0:,12:suppressed a,3:xyz,");
    reader.read(all.subarray(0, 12), each);
    reader.read(all.subarray(12, 20), each);
    reader.read(all.subarray(20), each);
    expect(got).toEqual(["hello", "", "suppressed a", "xyz"]);
  });
});

// The servers over the same mirror, twice: with the digest (requests read in their bytes) and without (the text).
describe("the lookup servers' bytes path", () => {
  let t: TestDb;
  let mirror: SuppressionMirror;
  const servers: ListeningServer[] = [];
  const ports = {
    bytes: { socketmap: 0, policy: 0, signed: 0 },
    text: { socketmap: 0, policy: 0, signed: 0 },
  };

  beforeAll(async () => {
    t = await createTestDb();
    const at = new Date("2026-11-30T10:00:00Z");
    const row = { tenant: "default", reason: "userunknown", class: "hard", source: "manual", at } as const;
    for (const [address, stream] of [
      ["jane@example.org", "default"],
      ["Mixed.Case@example.org", "marketing"],
      ["any@example.org", "*"],
      ["jäne@bücher.example", "default"],
    ] as const) {
      const n = normalizeAddress(address);
      if (!n.ok) throw new Error(address);
      await upsertSuppression(t.db, { ...row, stream, address: n.address, addressHash: testHash(n.address) });
    }
    mirror = new SuppressionMirror(t.db, { logger: { info() {}, warn() {} }, pollMs: 20 });
    mirror.start();
    await mirror.ready;
    for (const kind of ["bytes", "text"] as const) {
      const deps = {
        check: suppressionCheck(
          mirror,
          false,
          testHash,
          kind === "bytes" ? new AddressDigest(TEST_ADDRESS_KEY, false) : undefined,
        ),
        paused: pauseCheck(new PauseCache(t.db)),
        tenant: "default",
        defaultStream: "default",
        logger: createLogger("silent"),
      };
      const sm = await startSocketmapServer(deps, "127.0.0.1", 0);
      // No signed return paths, no sender map: the policy server asks with the recipient's bytes (else its text).
      const po = await startPolicyServer(
        {
          ...deps,
          verpKeys: [],
          senderStreams: new Map(),
          defaultTenant: "default",
        },
        "127.0.0.1",
        0,
      );
      // With signed return paths and a sender map: the bytes path for the senders that cannot be signed ones.
      const signed = await startPolicyServer(
        {
          ...deps,
          verpKeys: [VERP_KEY],
          senderStreams: new Map([["news.example", "marketing"]]),
          defaultTenant: "default",
        },
        "127.0.0.1",
        0,
      );
      servers.push(sm, po, signed);
      ports[kind] = { socketmap: sm.port, policy: po.port, signed: signed.port };
    }
  });

  afterAll(async () => {
    for (const s of servers) await s.close();
    await mirror?.stop();
    await t?.drop();
  });

  it("answers every socketmap request as the text path does: maps, streams, cases, non-ASCII, non-addresses", async () => {
    const requests: string[] = [];
    for (const map of [
      "suppressed",
      "transport",
      "suppressed/marketing",
      "transport/*",
      "suppressed/*",
      "other",
      "suppressed/bäd",
    ])
      for (const key of [
        "jane@example.org",
        "JANE@EXAMPLE.ORG",
        "mixed.case@EXAMPLE.org",
        "any@example.org",
        "jäne@bücher.example",
        "jäne@BÜCHER.example",
        "<jane@example.org>",
        "nobody@example.org",
        "example.org",
        "jane@",
        "",
      ])
        requests.push(`${map} ${key}`);
    requests.push("nospace", " jane@example.org", "suppressed  jane@example.org");
    const ask = async (port: number) => {
      const c = await SocketmapClient.open(port);
      try {
        const replies = [];
        for (const r of requests) replies.push(...(await c.ask(r)));
        return replies;
      } finally {
        c.close();
      }
    };
    const fromBytes = await ask(ports.bytes.socketmap);
    expect(fromBytes).toEqual(await ask(ports.text.socketmap));
    expect(fromBytes.filter((r) => r.startsWith("OK REJECT 5.7.1")).length).toBeGreaterThan(10);
    // Several requests in one write (pipelined) are answered in order.
    const c = await SocketmapClient.open(ports.bytes.socketmap);
    expect(await c.ask(...requests.slice(0, 30))).toEqual(fromBytes.slice(0, 30));
    c.close();
  });

  it("answers every policy request as the text path does", async () => {
    const asks = everyPair(
      ["app@shop.example", "list@news.example", ""],
      [
        "jane@example.org",
        "Jane@Example.Org",
        "mixed.case@example.org",
        "any@example.org",
        "jäne@bücher.example",
        "nobody@example.org",
        "",
      ],
    );
    const fromBytes = await askPolicy(ports.bytes.policy, asks);
    expect(fromBytes).toEqual(await askPolicy(ports.text.policy, asks));
    expect(fromBytes.filter((r) => r.startsWith("action=REJECT 5.7.1")).length).toBeGreaterThan(6);
  });
  it("answers a policy request split across reads at any point as a whole one, from the copied values", async () => {
    const attrs =
      "request=smtpd_access_policy\nprotocol_state=RCPT\nsender=app@shop.example\n" +
      "recipient=Jane@Example.org\nqueue_id=\n\n";
    const whole = Buffer.from(attrs);
    const replies: string[] = [];
    for (let at = 1; at < whole.length; at += 3) {
      const socket = connect(ports.bytes.policy, "127.0.0.1");
      await new Promise<void>((resolve) => socket.once("connect", resolve));
      socket.setNoDelay(true);
      let got = "";
      const reply = new Promise<string>((resolve) =>
        socket.on("data", (d: Buffer) => {
          got += d.toString();
          if (got.endsWith("\n\n")) resolve(got);
        }),
      );
      socket.write(whole.subarray(0, at));
      // Two writes, read apart (the server has taken the first before the second is sent).
      await new Promise((r) => setTimeout(r, 5));
      socket.write(whole.subarray(at));
      replies.push(await reply);
      socket.destroy();
    }
    for (const r of replies)
      expect(r).toMatch(/^action=REJECT 5\.7\.1 suppressed by Rebound in stream default: /);
  });
  it("with signed return paths and a sender map, answers every sender as the text path does", async () => {
    const rp = (recipient: string, stream: string) =>
      encodeVerp({ recipient, stream }, [VERP_KEY], "bounces.example.com");
    const senders = [
      rp("Mixed.Case@example.org", "marketing"),
      rp("jane@example.org", "marketing"),
      rp("a-much-longer-local-part-than-fits-inline.in.the.return.path.x@example.org", "marketing"),
      `<${rp("mixed.case@example.org", "marketing")}>`,
      ` ${rp("mixed.case@example.org", "marketing")}`,
      "R=junk@example.org",
      "h=@example.org",
      "hello@news.example",
      "rh@news.example",
      "r@news.example",
      "app@shop.example",
      "",
    ];
    const asks = everyPair(senders, [
      "jane@example.org",
      "Mixed.Case@example.org",
      "any@example.org",
      "nobody@example.org",
    ]);
    const fromBytes = await askPolicy(ports.bytes.signed, asks);
    expect(fromBytes).toEqual(await askPolicy(ports.text.signed, asks));
    // The signed return path for Mixed.Case in marketing, and the sender map's marketing, refuse it.
    expect(fromBytes.filter((r) => r.includes("in stream marketing")).length).toBeGreaterThanOrEqual(4);
  });
});

/** Asks a policy server each request in turn on one connection, and gives its replies in order. */
async function askPolicy(port: number, asks: readonly Record<string, string>[]): Promise<string[]> {
  const c = await PolicyClient.open(port);
  try {
    const replies: string[] = [];
    for (const a of asks) replies.push(await c.ask(a));
    return replies;
  } finally {
    c.close();
  }
}

/** A policy request for every sender with every recipient, senders outermost. */
function everyPair(senders: readonly string[], recipients: readonly string[]): Record<string, string>[] {
  return senders.flatMap((sender) => recipients.map((recipient) => ({ sender, recipient })));
}
