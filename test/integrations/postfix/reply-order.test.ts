// The lookup servers over real sockets answer pipelined requests in their order when some answers are at once
// (from memory) and others wait (the database asked while the mirror lags): here a check that answers addresses
// starting with `slow` only when the test lets it, fails those starting with `down` (the database away), and
// answers the others at once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/log.js";
import type { Governing } from "../../../src/integrations/postfix/answer.js";
import type { SuppressionCheck } from "../../../src/integrations/postfix/check.js";
import { startPolicyServer } from "../../../src/integrations/postfix/policy.js";
import { startSocketmapServer, type ListeningServer } from "../../../src/integrations/postfix/socketmap.js";
import { PolicyClient, SocketmapClient } from "./lookup-client.js";

const found: Governing = {
  stream: "default",
  reason: "userunknown",
  class: "hard",
  since: new Date("2026-12-01T00:00:00Z"),
  until: null,
};
let release!: () => void;
let released = new Promise<void>((r) => (release = r));
const check: SuppressionCheck = (_tenant, address) =>
  address.startsWith("down")
    ? Promise.reject(new Error("connection refused"))
    : address.startsWith("slow")
      ? released.then(() => found)
      : address.startsWith("bad")
        ? found
        : undefined;

const deps = { check, tenant: "default", defaultStream: "default", logger: createLogger("silent") };
let sm: ListeningServer;
let policy: ListeningServer;
beforeAll(async () => {
  sm = await startSocketmapServer(deps, "127.0.0.1", 0);
  policy = await startPolicyServer(
    { ...deps, verpKeys: [], senderStreams: new Map(), defaultTenant: "default" },
    "127.0.0.1",
    0,
  );
});
afterAll(async () => {
  await sm?.close();
  await policy?.close();
});

describe("replies in request order", () => {
  it("socketmap: answers at once before, between and after waiting ones come out in order", async () => {
    released = new Promise<void>((r) => (release = r));
    const c = await SocketmapClient.open(sm.port);
    const replies = c.ask(
      "suppressed a@example.org",
      "suppressed bad@example.org",
      "suppressed slow1@example.org",
      "suppressed b@example.org",
      "suppressed slow2@example.org",
      "suppressed bad2@example.org",
    );
    release();
    const r = await replies;
    c.close();
    expect(r.map((x) => x.slice(0, 9))).toEqual([
      "NOTFOUND ",
      "OK REJECT",
      "OK REJECT",
      "NOTFOUND ",
      "OK REJECT",
      "OK REJECT",
    ]);
  });

  it("policy: the same", async () => {
    released = new Promise<void>((r) => (release = r));
    const c = await PolicyClient.open(policy.port);
    const ask = (rcpt: string) => c.ask({ request: "smtpd_access_policy", recipient: rcpt, sender: "" });
    const replies = Promise.all(["a@x.org", "slow@x.org", "bad@x.org", "b@x.org"].map(ask));
    release();
    const r = await replies;
    c.close();
    expect(r.map((x) => x.slice(0, 13))).toEqual([
      "action=DUNNO",
      "action=REJECT",
      "action=REJECT",
      "action=DUNNO",
    ]);
  });

  it("a lookup whose database does not answer gets TEMP (socketmap) or DEFER_IF_PERMIT (policy), and the connection goes on", async () => {
    const c = await SocketmapClient.open(sm.port);
    expect(await c.ask("suppressed down@example.org", "suppressed bad@example.org")).toEqual([
      "TEMP the suppression database does not answer",
      expect.stringMatching(/^OK REJECT 5\.7\.1/),
    ]);
    c.close();
    const p = await PolicyClient.open(policy.port);
    expect(await p.ask({ recipient: "down@example.org", sender: "" })).toBe(
      "action=DEFER_IF_PERMIT 4.3.0 the suppression database does not answer",
    );
    expect(await p.ask({ recipient: "a@example.org", sender: "" })).toBe("action=DUNNO");
    p.close();
  });
});
