// Two API processes on one schema: whatever either caches, a suppression written elsewhere (by the worker, or
// through the other API) is seen by both once their indexes refresh (each second). The tests poll for it with a
// deadline rather than sleeping a second and hoping.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb, type DbHandle } from "../../src/store/db.js";
import { upsertSuppression } from "../../src/store/suppressions.js";
import { createTestDb, TEST_DATABASE_URL, type TestDb, withHash } from "../helpers/db.js";
import { until } from "../helpers/until.js";
import { client, enc, startTestApi, type Client, type TestApi } from "./helpers.js";

let t: TestDb;
let second: DbHandle;
let worker: DbHandle;
let a: TestApi;
let b: TestApi;
let ca: Client;
let cb: Client;

/** Both answers, polled until they are both `want` (or the deadline passes). */
const both = (f: () => Promise<boolean>, g: () => Promise<boolean>, want = true) =>
  until(async () => ((await f()) === want && (await g()) === want ? [want, want] : undefined), {
    ms: 10_000,
    what: "both API processes to agree",
  });
const suppressed = async (c: Client, address: string, stream = "marketing") =>
  (await (await c.get(`/v1/suppressions/${enc(address)}?stream=${stream}`)).json()).suppressed as boolean;
const inCheck = async (c: Client, address: string) =>
  (
    await (
      await c.send("POST", "/v1/suppressions/check", { addresses: [address], stream: "marketing" })
    ).json()
  ).results[0].suppressed as boolean;

beforeAll(async () => {
  t = await createTestDb();
  second = await openDb({ databaseUrl: TEST_DATABASE_URL, schema: t.schema });
  worker = await openDb({ databaseUrl: TEST_DATABASE_URL, schema: t.schema });
  a = await startTestApi(t.db);
  b = await startTestApi(second.db);
  ca = await client(t.db, a, "acme");
  cb = await client(t.db, b, "acme");
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await worker?.close();
  await second?.close();
  await t?.drop();
});

describe("visibility across API processes", () => {
  it("shows a suppression the worker writes to both API processes once they refresh", async () => {
    expect(await suppressed(ca, "late@example.com")).toBe(false);
    expect(await suppressed(cb, "late@example.com")).toBe(false);
    await worker.db.transaction().execute((tx) =>
      upsertSuppression(
        tx,
        withHash({
          tenant: "acme",
          stream: "marketing",
          address: "late@example.com",
          reason: "userunknown",
          class: "hard",
          source: "bounce",
          at: new Date(),
        }),
      ),
    );
    expect(
      await both(
        () => suppressed(ca, "late@example.com"),
        () => suppressed(cb, "late@example.com"),
      ),
    ).toEqual([true, true]);
    expect([await inCheck(ca, "late@example.com"), await inCheck(cb, "late@example.com")]).toEqual([
      true,
      true,
    ]);
  });

  it("shows a suppression added through one API process to the other once it refreshes", async () => {
    expect(await inCheck(cb, "put@example.com")).toBe(false);
    expect(
      (await ca.send("PUT", `/v1/suppressions/${enc("put@example.com")}`, { stream: "marketing" })).status,
    ).toBe(201);
    expect(await inCheck(ca, "put@example.com")).toBe(true);
    expect(await until(() => inCheck(cb, "put@example.com"), { ms: 10_000 })).toBe(true);
  });

  it("shows a row whose transaction took its id early and committed after a later row was seen", async () => {
    let commit!: () => void;
    const held = new Promise<void>((r) => (commit = r));
    let inserted!: () => void;
    const didInsert = new Promise<void>((r) => (inserted = r));
    const slow = worker.db.transaction().execute(async (tx) => {
      await upsertSuppression(
        tx,
        withHash({
          tenant: "acme",
          stream: "marketing",
          address: "slow@example.com",
          reason: "userunknown",
          class: "hard",
          source: "bounce",
          at: new Date(),
        }),
      );
      inserted();
      await held;
    });
    await didInsert;
    await upsertSuppression(
      t.db,
      withHash({
        tenant: "acme",
        stream: "marketing",
        address: "fast@example.com",
        reason: "userunknown",
        class: "hard",
        source: "bounce",
        at: new Date(),
      }),
    );
    expect(await until(() => inCheck(cb, "fast@example.com"), { ms: 10_000 })).toBe(true);
    expect(await inCheck(cb, "slow@example.com")).toBe(false);
    commit();
    await slow;
    expect(
      await both(
        () => inCheck(ca, "slow@example.com"),
        () => inCheck(cb, "slow@example.com"),
      ),
    ).toEqual([true, true]);
  });

  it("stops showing a suppression removed through the other API process at once", async () => {
    await ca.send("PUT", `/v1/suppressions/${enc("undo@example.com")}`, { stream: "marketing" });
    expect(await until(() => inCheck(cb, "undo@example.com"), { ms: 10_000 })).toBe(true);
    expect(
      (await ca.send("DELETE", `/v1/suppressions/${enc("undo@example.com")}?stream=marketing`)).status,
    ).toBe(200);
    expect([await inCheck(ca, "undo@example.com"), await inCheck(cb, "undo@example.com")]).toEqual([
      false,
      false,
    ]);
  });
});
