// The typed client against a real API over PostgreSQL: the common tasks, batching of lookups, the generic typed
// request, errors as ReboundError, retries after Retry-After, timeouts and aborts.
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, ReboundClient, ReboundError, type RetryInfo } from "../../src/client/index.js";
import { decodeVerp } from "../../src/core/verp.js";
import type { Config } from "../../src/config.js";
import { createKey } from "../../src/store/keys.js";
import { startTestApi, type TestApi } from "../api/helpers.js";
import { createTestDb, type TestDb } from "../helpers/db.js";

const VERP_KEY = { id: "k1", secret: "client-test-secret-0001" };
const DOMAIN = "bounces.example.com";

let t: TestDb;
let api: TestApi;
let token: string;
beforeAll(async () => {
  t = await createTestDb();
  // startTestApi parses its overrides as loadConfig does (strings, as in the environment).
  api = await startTestApi(t.db, {
    domains: DOMAIN,
    verpKeys: `${VERP_KEY.id}:${VERP_KEY.secret}`,
  } as unknown as Partial<Config>);
  token = (await createKey(t.db, { tenant: "acme", scopes: ["read", "write"] })).token;
});
afterAll(async () => {
  await api?.close();
  await t?.drop();
});

/** A client whose requests are counted (by path), through the real fetch. */
function counted(opts: Partial<ConstructorParameters<typeof ReboundClient>[0]> = {}) {
  const calls: string[] = [];
  const client = createClient({
    baseUrl: api.url,
    token,
    fetch: (input, init) => {
      calls.push(`${init?.method} ${new URL(String(input)).pathname}`);
      return fetch(input, init);
    },
    ...opts,
  });
  return { client, calls };
}

describe("the typed client: lookups", () => {
  it("gathers the lookups of one tick into one batch lookup, and answers each caller its own address", async () => {
    const { client, calls } = counted();
    await client.suppress("gone@example.org", { stream: "*", reason: "userunknown" });
    calls.length = 0;
    const [a, b, c, d] = await Promise.all([
      client.lookup("gone@example.org"),
      client.lookup("fine@example.org"),
      client.lookup("GONE@Example.org"),
      client.lookup("not an address"),
    ]);
    expect(calls).toEqual(["POST /v1/suppressions/check"]);
    expect(a).toMatchObject({
      address: "gone@example.org",
      valid: true,
      suppressed: true,
      reason: "userunknown",
    });
    expect(b).toMatchObject({ address: "fine@example.org", valid: true, suppressed: false });
    expect(c).toMatchObject({ address: "gone@example.org", suppressed: true });
    expect(d).toMatchObject({ valid: false });
  });

  it("sends a batch as soon as it holds maxAddresses, and one batch per stream", async () => {
    const { client, calls } = counted({ batch: { maxAddresses: 2 } });
    await Promise.all(["a", "b", "c"].map((x) => client.lookup(`${x}@example.org`)));
    expect(calls).toEqual(["POST /v1/suppressions/check", "POST /v1/suppressions/check"]);
    calls.length = 0;
    await Promise.all([
      client.lookup("x@example.org", { stream: "marketing" }),
      client.lookup("y@example.org", { stream: "news" }),
    ]);
    expect(calls).toHaveLength(2);
  });

  it("applies the stream: a suppression in one stream holds there and not in another", async () => {
    const { client } = counted();
    await client.suppress("complainer@example.org", { stream: "marketing", reason: "feedback" });
    const [m, tx] = await Promise.all([
      client.lookup("complainer@example.org", { stream: "marketing" }),
      client.lookup("complainer@example.org", { stream: "transactional" }),
    ]);
    expect(m).toMatchObject({ suppressed: true, reason: "feedback", stream: "marketing" });
    expect(tx).toMatchObject({ suppressed: false });
  });

  it("rejects every caller of a batch with the API's error when the batch fails", async () => {
    const client = createClient({ baseUrl: api.url, token: "rbk_" + "A".repeat(43) });
    const results = await Promise.allSettled([
      client.lookup("a@example.org"),
      client.lookup("b@example.org"),
    ]);
    for (const r of results) {
      expect(r.status).toBe("rejected");
      const err = (r as PromiseRejectedResult).reason;
      expect(err).toBeInstanceOf(ReboundError);
      expect(err).toMatchObject({ status: 401, code: "unauthorized" });
    }
  });
});

describe("the typed client: the common tasks", () => {
  it("suppresses, shows, lists page by page, exports, and unsuppresses", async () => {
    const { client } = counted();
    for (const x of ["p1", "p2", "p3"])
      await client.suppress(`${x}@pages.example`, { stream: "pages", note: x });
    const detail = await client.suppression("p1@pages.example", { stream: "pages" });
    expect(detail).toMatchObject({ address: "p1@pages.example", suppressed: true });

    const firstPage = await client.listSuppressions({ stream: "pages", limit: 2 });
    expect(firstPage.data).toHaveLength(2);
    expect(typeof firstPage.nextCursor).toBe("string");
    const all: string[] = [];
    for await (const s of client.suppressions({ stream: "pages", limit: 1 })) all.push(String(s.address));
    expect(all.sort()).toEqual(["p1@pages.example", "p2@pages.example", "p3@pages.example"]);

    const rows = [];
    for await (const row of client.exportSuppressions({ stream: "pages" })) rows.push(row);
    expect(rows.map((r) => r.address).sort()).toEqual(all);
    expect(Object.keys(rows[0]!).sort()).toEqual(
      [
        "address",
        "stream",
        "reason",
        "class",
        "source",
        "firstSeen",
        "lastSeen",
        "expiresAt",
        "count",
        "rule",
        "note",
      ].sort(),
    );

    const removed = await client.unsuppress("p1@pages.example", { stream: "pages", note: "asked" });
    expect(removed.removed).toEqual(["pages"]);
    expect((await client.lookup("p1@pages.example", { stream: "pages" })).suppressed).toBe(false);
    const again = await client.unsuppress("p1@pages.example", { stream: "pages" }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ReboundError);
    expect(again).toMatchObject({ status: 404, code: "not_found" });
  });

  it("reports sends and deliveries, reads events and stats", async () => {
    const { client } = counted();
    const sent = await client.reportSends({
      sends: [
        {
          recipient: "r1@example.org",
          stream: "news",
          messageId: "<m1@example.com>",
          sentAt: new Date().toISOString(),
        },
      ],
    });
    expect(sent).toMatchObject({ accepted: 1 });
    const ndjson = await client.reportSendsNdjson(
      JSON.stringify({
        recipient: "r2@example.org",
        stream: "news",
        messageId: "<m2@x>",
        sentAt: new Date().toISOString(),
      }) + "\n",
    );
    expect(ndjson).toMatchObject({ accepted: 1 });
    const delivered = await client.reportDeliveries({ recipient: "r1@example.org", stream: "news" });
    expect(delivered).toBeTypeOf("object");
    const events = await client.listEvents({ limit: 10 });
    expect(Array.isArray(events.data)).toBe(true);
    const stats = await client.stats({ stream: "news" });
    expect(stats).toBeTypeOf("object");
    // The same figures in columns.
    const columnar = await client.statsColumnar({ stream: "news", from: stats.from, to: stats.to });
    expect(columnar.format).toBe("columnar");
    expect(columnar.groups.map((g) => [g.total, g.series.at])).toEqual(
      stats.groups.map((g) => [g.total, g.points.map((p) => p.at)]),
    );
    expect(columnar.groups.map((g) => g.series.sent)).toEqual(
      stats.groups.map((g) => g.points.map((p) => p.sent)),
    );
  });

  it("mints a signed return path that verifies with the deployment's key", async () => {
    const { client } = counted();
    const minted = await client.verpEncode({ recipient: "jane@example.org", stream: "news" });
    expect(minted).toMatchObject({
      recipient: "jane@example.org",
      stream: "news",
      tenant: "acme",
      domain: DOMAIN,
    });
    expect(decodeVerp(minted.returnPath, [VERP_KEY])).toMatchObject({
      ok: true,
      recipient: "jane@example.org",
      stream: "news",
      tenant: "acme",
    });
  });

  it("reaches any operation through the generic typed request", async () => {
    const { client } = counted();
    await client.suppress("generic@example.org");
    const page = await client.request("get", "/v1/suppressions", { query: { limit: 1 } });
    expect(Array.isArray(page.data)).toBe(true);
    const one = await client.request("get", "/v1/suppressions/{address}", {
      path: { address: "generic@example.org" },
      query: { stream: "news" },
    });
    expect(one.suppressed).toBe(true);
    const csv = await client.request("get", "/v1/exports/suppressions", {
      query: { format: "csv", stream: "pages" },
    });
    expect(csv.split("\n")[0]).toContain("address,stream,reason");
    const imported = await client.request("post", "/v1/suppressions/import", {
      body: "address\nimported@example.org\n",
      contentType: "text/csv",
      query: { stream: "pages" },
    });
    expect(imported).toMatchObject({ imported: 1 });
    if (Math.random() > 2) {
      // Types only (never runs): what the document does not allow does not compile.
      // @ts-expect-error no such path
      await client.request("get", "/v1/nowhere");
      // @ts-expect-error the address is a required path parameter
      await client.request("get", "/v1/suppressions/{address}", {});
      // @ts-expect-error `addresses` is a list
      await client.request("post", "/v1/suppressions/check", { body: { addresses: "a@b.c" } });
    }
  });

  it("turns the API's error shape into a ReboundError with its code and details", async () => {
    const { client } = counted();
    const err = await client
      .request("get", "/v1/suppressions", { query: { state: "sideways" as "all" } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReboundError);
    expect(err).toMatchObject({ status: 400, code: "validation_failed", request: "GET /v1/suppressions" });
    expect((err as ReboundError).details).toEqual([
      expect.objectContaining({ in: "querystring", path: "/state", allowed: ["active", "expired", "all"] }),
    ]);
  });
});

describe("the typed client: retries, timeouts, aborts", () => {
  it("waits out a 429's Retry-After and retries", async () => {
    const limited = (await createKey(t.db, { tenant: "acme", scopes: ["read"], rateLimitPerMinute: 30 }))
      .token;
    // Spend the key's bucket (30 requests, one token back every 2 s) at once, then ask: the first attempt is
    // refused unless the burst itself took 2 s.
    const headers = { authorization: `Bearer ${limited}` };
    const burst = await Promise.all(
      Array.from({ length: 35 }, () =>
        fetch(`${api.url}/v1/suppressions?limit=1`, { headers }).then((r) => (r.body?.cancel(), r.status)),
      ),
    );
    expect(burst).toContain(429);
    const retries: RetryInfo[] = [];
    const patient = createClient({ baseUrl: api.url, token: limited, onRetry: (r) => retries.push(r) });
    const page = await patient.listSuppressions({ limit: 1 });
    expect(Array.isArray(page.data)).toBe(true);
    expect(retries[0]).toMatchObject({ attempt: 1, status: 429, request: "GET /v1/suppressions" });
    expect(retries[0]!.delayMs).toBeGreaterThanOrEqual(1000);
  });

  it("throws rate_limited with retryAfter when retries are off or the Retry-After exceeds maxRetryDelayMs", async () => {
    // One request a minute: the second is refused for about a minute.
    const limited = (await createKey(t.db, { tenant: "acme", scopes: ["read"], rateLimitPerMinute: 1 }))
      .token;
    const retries: RetryInfo[] = [];
    const client = createClient({
      baseUrl: api.url,
      token: limited,
      maxRetryDelayMs: 1000,
      onRetry: (r) => retries.push(r),
    });
    await client.listSuppressions({ limit: 1 });
    const err = await client.listSuppressions({ limit: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReboundError);
    expect(err).toMatchObject({ status: 429, code: "rate_limited" });
    expect((err as ReboundError).retryAfter).toBeGreaterThan(1);
    expect(retries).toEqual([]);

    const noRetry = createClient({ baseUrl: api.url, token: limited, maxRetries: 0 });
    const again = await noRetry.listSuppressions({ limit: 1 }).catch((e: unknown) => e);
    expect(again).toMatchObject({ status: 429, code: "rate_limited" });
  });

  describe("against a server that never answers", () => {
    let silent: Server;
    let url: string;
    beforeAll(async () => {
      silent = createServer(() => undefined); // takes connections, reads nothing, says nothing
      await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
      url = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    });
    afterAll(async () => {
      silent.close();
    });

    it("gives up after timeoutMs with a ReboundError timeout", async () => {
      const client = createClient({ baseUrl: url, token, timeoutMs: 200 });
      const err = await client.lookup("a@example.org").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ReboundError);
      expect(err).toMatchObject({ status: 0, code: "timeout" });
    });

    it("stops when the caller's AbortSignal aborts, rejecting with its reason", async () => {
      const client = createClient({ baseUrl: url, token, timeoutMs: 0 });
      const ctl = new AbortController();
      const pending = client.stats({}, { signal: ctl.signal }).catch((e: unknown) => e);
      const reason = new Error("the user went away");
      ctl.abort(reason);
      expect(await pending).toBe(reason);
    });
  });

  it("says network_error when nothing listens", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const err = await createClient({ baseUrl: `http://127.0.0.1:${port}`, token })
      .stats()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 0, code: "network_error" });
  });
});
