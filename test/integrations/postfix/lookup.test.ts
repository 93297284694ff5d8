// The lookup role over TCP on real PostgreSQL: socketmap and policy delegation answers for suppressed and
// other addresses, per stream and tenant, pipelined, and the Exim readsocket request of docs/integrations.md.
import { connect } from "node:net";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config.js";
import { createLogger } from "../../../src/log.js";
import { startApp, type App } from "../../../src/main.js";
import { encodeVerp } from "../../../src/core/verp.js";
import { upsertSuppression } from "../../../src/store/suppressions.js";
import { pauseStream, resumePauses } from "../../../src/store/stream-pauses.js";
import { TEST_DATABASE_URL, uniqueSchema } from "../../helpers/db.js";
import { until } from "../../helpers/until.js";
import { VERP_KEY, VERP_KEYS_ENV } from "../../e2e/fixtures.js";
import { PolicyClient, SocketmapClient } from "./lookup-client.js";

const schema = uniqueSchema("lookup");
let app: App;
/** A store input with its address hashed as the app under test files it (its own key, made at its start). */
const keyed = <T extends { address: string }>(i: T) => ({ ...i, addressHash: app.hashAddress(i.address) });
let sm: SocketmapClient;
let policy: PolicyClient;
const at = new Date("2026-11-30T10:00:00Z");

async function suppress(address: string, stream: string, tenant = "default", reason = "userunknown") {
  await upsertSuppression(
    app.db,
    keyed({ tenant, address, stream, reason, class: "hard", source: "manual", at }),
  );
}

beforeAll(async () => {
  const config = loadConfig(
    {
      databaseUrl: TEST_DATABASE_URL,
      databaseSchema: schema,
      lookupSocketmapPort: 0,
      lookupPolicyPort: 0,
      verpKeys: VERP_KEYS_ENV,
      lookupSenderStreams: "news@shop.example=marketing,shop.example=transactional",
      logLevel: "silent",
    },
    {},
  );
  app = await startApp(config, ["lookup"], { logger: createLogger("silent") });
  await suppress("everywhere@example.org", "*", "default", "complaint");
  await suppress("acme-only@example.org", "marketing", "acme");
  await suppress("jane@example.org", "marketing");
  sm = await SocketmapClient.open(app.socketmapPort!);
  policy = await PolicyClient.open(app.policyPort!);
  // The index learns of rows written by other processes on its next poll, in id order: jane's is the last.
  await until(async () => (await sm.ask("suppressed/* jane@example.org"))[0]!.startsWith("OK"));
});

afterAll(async () => {
  sm?.close();
  policy?.close();
  await app?.close();
  const { openDb } = await import("../../../src/store/db.js");
  const h = await openDb({ databaseUrl: TEST_DATABASE_URL });
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(h.db);
  await h.close();
});

describe("socketmap", () => {
  it("rejects an address suppressed in the map's stream, with the reason, and finds nothing in another stream", async () => {
    const [inStream, defaultStream, other] = await sm.ask(
      "suppressed/marketing jane@example.org",
      "suppressed jane@example.org",
      "suppressed/marketing john@example.org",
    );
    expect(inStream).toBe(
      "OK REJECT 5.7.1 suppressed by Rebound in stream marketing: userunknown (hard) since 2026-11-30",
    );
    expect(defaultStream).toBe("NOTFOUND ");
    expect(other).toBe("NOTFOUND ");
  });

  it("applies a suppression of every stream (*) to any map stream, and answers transport_maps with error:", async () => {
    const [a, b] = await sm.ask(
      "suppressed EveryWhere@Example.ORG",
      "transport/orders everywhere@example.org",
    );
    expect(a).toMatch(/^OK REJECT 5\.7\.1 suppressed by Rebound in every stream: complaint/);
    expect(b).toMatch(/^OK error:5\.7\.1 suppressed by Rebound in every stream: complaint/);
  });

  it("answers NOTFOUND for the domain and user@ keys, and only the lookup tenant's suppressions", async () => {
    expect(
      await sm.ask("suppressed example.org", "suppressed jane@", "suppressed/* acme-only@example.org"),
    ).toEqual(["NOTFOUND ", "NOTFOUND ", "NOTFOUND "]);
  });

  it("answers 200 pipelined requests on one connection in order", async () => {
    const reqs = Array.from({ length: 200 }, (_, i) =>
      i % 2 ? `suppressed/marketing jane@example.org` : `suppressed/marketing n${i}@example.org`,
    );
    const replies = await sm.ask(...reqs);
    replies.forEach((r, i) => expect(r.startsWith(i % 2 ? "OK REJECT" : "NOTFOUND")).toBe(true));
  });

  it("says PERM for an unknown map and closes a connection that does not speak netstrings", async () => {
    expect(await sm.ask("virtual jane@example.org")).toEqual([
      'PERM no map named "virtual" (maps: suppressed, transport)',
    ]);
    const s = connect(app.socketmapPort!, "127.0.0.1");
    s.write("GET / HTTP/1.1\r\n\r\n");
    await new Promise<void>((resolve) => s.on("close", () => resolve()).on("error", () => undefined));
    expect(s.destroyed).toBe(true);
  });

  it("answers the request Exim's readsocket recipe of docs/integrations.md sends", async () => {
    // ${readsocket{inet:127.0.0.1:2526}{${strlen:suppressed $local_part@$domain}:suppressed $local_part@$domain,}{3s}{}{TEMP }}
    const body = "suppressed/marketing jane@example.org";
    const reply = await new Promise<string>((resolve, reject) => {
      const s = connect(app.socketmapPort!, "127.0.0.1", () => s.write(`${body.length}:${body},`));
      let got = "";
      s.setEncoding("utf8");
      s.on("data", (c: string) => {
        got += c;
        if (got.endsWith(",")) {
          s.destroy();
          resolve(got);
        }
      });
      s.on("error", reject);
    });
    // The recipe's condition: the reply matches ^\d+:OK
    expect(reply).toMatch(/^\d+:OK REJECT 5\.7\.1 suppressed by Rebound in stream marketing/);
  });

  it("learns of a suppression added while it runs within the index's poll", async () => {
    await suppress("late@example.org", "marketing");
    await until(async () =>
      (await sm.ask("suppressed/marketing late@example.org"))[0]!.startsWith("OK REJECT"),
    );
  });
});

describe("policy delegation", () => {
  it("takes tenant and stream from a signed return path that verifies for the recipient", async () => {
    const rp = encodeVerp(
      { recipient: "acme-only@example.org", tenant: "acme", stream: "marketing" },
      [VERP_KEY],
      "bounces.example.com",
    );
    expect(await policy.ask({ sender: rp, recipient: "acme-only@example.org" })).toMatch(
      /^action=REJECT 5\.7\.1 suppressed by Rebound in stream marketing: userunknown/,
    );
    // The same return path used for another recipient proves nothing: the lookup tenant and default stream apply.
    expect(await policy.ask({ sender: rp, recipient: "jane@example.org" })).toBe("action=DUNNO");
  });

  it("takes the stream from the sender map (address, then domain), else the default stream", async () => {
    expect(await policy.ask({ sender: "news@shop.example", recipient: "jane@example.org" })).toMatch(
      /^action=REJECT 5\.7\.1 .*stream marketing/,
    );
    expect(await policy.ask({ sender: "orders@shop.example", recipient: "jane@example.org" })).toBe(
      "action=DUNNO",
    );
    expect(await policy.ask({ sender: "someone@else.example", recipient: "everywhere@example.org" })).toMatch(
      /^action=REJECT 5\.7\.1 .*every stream: complaint/,
    );
  });

  it("reads attribute lines ended by CR LF as those ended by LF", async () => {
    expect(await policy.ask({ sender: "news@shop.example\r", recipient: "jane@example.org\r" })).toMatch(
      /^action=REJECT 5\.7\.1 .*stream marketing/,
    );
    expect(await policy.ask({ sender: "orders@shop.example\r", recipient: "jane@example.org\r" })).toBe(
      "action=DUNNO",
    );
  });

  it("reads Postfix's whole attribute set split in two writes at 80 points, by the exact names request, sender, recipient", async () => {
    // Some of what Postfix 3 sends at RCPT (SMTPD_POLICY_README), names that start like the three read, and one
    // of the same length as `recipient`; the request in two writes, split at each of its bytes in turn.
    const attrs = [
      "request=smtpd_access_policy",
      "protocol_state=RCPT",
      "protocol_name=ESMTP",
      "client_address=192.0.2.10",
      "client_name=mail.shop.example",
      "reverse_client_name=mail.shop.example",
      "helo_name=mail.shop.example",
      "sender=news@shop.example",
      "recipient=jane@example.org",
      "recipient_count=0",
      "queue_id=",
      "instance=123.456.7",
      "size=12345",
      "sasl_method=",
      "sasl_sender=",
      "sender_x=orders@shop.example",
      "recipients=someone@else.example",
      "recipiens=everywhere@example.org",
      "encryption_protocol=TLSv1.3",
      "policy_context=",
      "server_port=25",
      "compatibility_level=3.6",
    ];
    const request = Buffer.from(attrs.map((a) => `${a}\r\n`).join("") + "\n");
    const s = connect(app.policyPort!, "127.0.0.1");
    s.setNoDelay(true);
    await new Promise<void>((resolve, reject) => s.once("connect", resolve).once("error", reject));
    let got = "";
    s.on("data", (d: Buffer) => (got += d.toString("latin1")));
    const replies: string[] = [];
    for (let at = 1; at < request.length; at += 7) {
      got = "";
      s.write(request.subarray(0, at));
      await new Promise((r) => setImmediate(r));
      s.write(request.subarray(at));
      await until(() => got.endsWith("\n\n"));
      replies.push(got);
    }
    s.destroy();
    expect(replies.length).toBeGreaterThan(50);
    expect(new Set(replies).size).toBe(1);
    expect(replies[0]).toMatch(
      /^action=REJECT 5\.7\.1 suppressed by Rebound in stream marketing: userunknown/,
    );
  });

  it("answers DUNNO where there is no recipient (other protocol states) and counts lookups in metrics", async () => {
    expect(await policy.ask({ protocol_state: "END-OF-MESSAGE", sender: "a@b.example", recipient: "" })).toBe(
      "action=DUNNO",
    );
    const text = await app.metrics.render();
    expect(text).toMatch(/rebound_lookups_total\{server="policy",outcome="suppressed"\} [1-9]/);
    expect(text).toMatch(/rebound_lookups_total\{server="socketmap",outcome="not_suppressed"\} [1-9]/);
  });
});

describe("a paused stream (issue 12 §5)", () => {
  it("defers mail of a stream paused for a provider with a 4xx, refuses suppressed addresses still, and lets the mail go once resumed", async () => {
    await pauseStream(app.db, {
      tenant: "default",
      stream: "marketing",
      provider: "google",
      reason: "Hard-bounce rate 12.00% (120 of 1000 sent) in stream marketing",
      incidentId: null,
      by: "hand",
      note: null,
      now: at,
    });
    // The lookup servers read the pauses again within a second.
    await until(async () => (await sm.ask("suppressed/marketing ann@gmail.com"))[0]!.startsWith("OK 450"));
    const [access, transport, otherProvider, otherStream, suppressed] = await sm.ask(
      "suppressed/marketing ann@gmail.com",
      "transport/marketing ann@gmail.com",
      "suppressed/marketing ann@yahoo.com",
      "suppressed/orders ann@gmail.com",
      "suppressed/marketing jane@example.org",
    );
    expect(access).toBe(
      "OK 450 4.7.1 stream marketing paused by Rebound for google since 2026-11-30T10:00Z: " +
        "Hard-bounce rate 12.00% (120 of 1000 sent) in stream marketing",
    );
    expect(transport).toMatch(/^OK retry:4\.7\.1 stream marketing paused by Rebound for google/);
    expect(otherProvider).toBe("NOTFOUND ");
    expect(otherStream).toBe("NOTFOUND ");
    expect(suppressed).toMatch(/^OK REJECT 5\.7\.1 suppressed by Rebound in stream marketing/);
    expect(await policy.ask({ sender: "news@shop.example", recipient: "ann@gmail.com" })).toMatch(
      /^action=450 4\.7\.1 stream marketing paused by Rebound for google since /,
    );
    expect(await policy.ask({ sender: "orders@shop.example", recipient: "ann@gmail.com" })).toBe(
      "action=DUNNO",
    );

    await resumePauses(app.db, { tenant: "default", stream: "marketing", by: "hand", now: at });
    await until(async () => (await sm.ask("suppressed/marketing ann@gmail.com"))[0] === "NOTFOUND ");
    expect(await policy.ask({ sender: "news@shop.example", recipient: "ann@gmail.com" })).toBe(
      "action=DUNNO",
    );
  });
});

describe("a client that shuts its side after its request (Exim's readsocket)", () => {
  // A second lookup role on the same schema whose mirror is never current (staleness bound 0): every answer waits on
  // the database, the case where a reply used to be lost once the client had half-closed.
  let slow: App;
  beforeAll(async () => {
    const config = loadConfig(
      {
        databaseUrl: TEST_DATABASE_URL,
        databaseSchema: schema,
        lookupSocketmapPort: 0,
        lookupPolicyPort: 0,
        lookupMaxStalenessMs: 0,
        verpKeys: VERP_KEYS_ENV,
        lookupSenderStreams: "news@shop.example=marketing",
        logLevel: "silent",
      },
      {},
    );
    slow = await startApp(config, ["lookup"], { logger: createLogger("silent") });
  });
  afterAll(async () => {
    await slow?.close();
  });

  /** Writes `request`, shuts the writing side, and reads until the server closes: what readsocket does. */
  const halfClosed = (port: number, request: string) =>
    new Promise<string>((resolve, reject) => {
      const s = connect(port, "127.0.0.1", () => s.end(request));
      let got = "";
      s.setEncoding("utf8");
      s.on("data", (c: string) => (got += c));
      s.on("end", () => resolve(got));
      s.on("error", reject);
    });

  it("still answers a socketmap request that waits on the database, then closes", async () => {
    const body = "suppressed/marketing jane@example.org";
    for (let i = 0; i < 5; i++)
      expect(await halfClosed(slow.socketmapPort!, `${body.length}:${body},`)).toMatch(
        /^\d+:OK REJECT 5\.7\.1 suppressed by Rebound in stream marketing: userunknown \(hard\) since 2026-11-30,$/,
      );
    const other = "suppressed/marketing john@example.org";
    expect(await halfClosed(slow.socketmapPort!, `${other.length}:${other},`)).toBe("9:NOTFOUND ,");
  });

  it("still answers a policy request that waits on the database, then closes", async () => {
    const request =
      "request=smtpd_access_policy\nprotocol_state=RCPT\nsender=news@shop.example\nrecipient=jane@example.org\n\n";
    for (let i = 0; i < 5; i++)
      expect(await halfClosed(slow.policyPort!, request)).toMatch(
        /^action=REJECT 5\.7\.1 suppressed by Rebound in stream marketing: userunknown/,
      );
  });
});
