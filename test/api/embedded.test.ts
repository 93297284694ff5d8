// The API on the embedded database (PGlite), as `rebound start` runs it on a bare machine.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pendingOutbox } from "../../src/store/outbox.js";
import { upsertSuppression } from "../../src/store/suppressions.js";
import { createEmbeddedTestDb, type TestDb, withHash } from "../helpers/db.js";
import { subscribeToAll } from "../helpers/webhooks.js";
import { client, enc, startTestApi, type Client, type TestApi } from "./helpers.js";

let t: TestDb;
let api: TestApi;
let acme: Client;

beforeAll(async () => {
  t = await createEmbeddedTestDb();
  await upsertSuppression(
    t.db,
    withHash({
      tenant: "acme",
      stream: "*",
      address: "hard@example.com",
      reason: "userunknown",
      class: "hard",
      source: "bounce",
      at: new Date(),
    }),
  );
  api = await startTestApi(t.db);
  acme = await client(t.db, api, "acme");
});

afterAll(async () => {
  await api?.close();
  await t?.drop();
});

describe("the API on PGlite", () => {
  it("looks up, checks, adds, lists, exports, imports and cleans", async () => {
    expect(
      (await (await acme.get(`/v1/suppressions/${enc("hard@example.com")}?stream=x`)).json()).suppressed,
    ).toBe(true);
    expect(
      (await acme.send("PUT", `/v1/suppressions/${enc("new@example.com")}`, { stream: "m" })).status,
    ).toBe(201);
    const check = await (
      await acme.send("POST", "/v1/suppressions/check", {
        stream: "m",
        addresses: ["new@example.com", "ok@example.com", "hard@example.com"],
      })
    ).json();
    expect(check.results.map((r: { suppressed: boolean }) => r.suppressed)).toEqual([true, false, true]);
    expect((await (await acme.get("/v1/suppressions")).json()).data).toHaveLength(2);
    const imported = await (
      await acme.send("POST", "/v1/suppressions/import", "email\nimp@example.com\n", {
        "content-type": "text/csv",
      })
    ).json();
    expect(imported).toMatchObject({ imported: 1 });
    const csv = await (await acme.get("/v1/exports/suppressions")).text();
    expect(csv.trim().split("\n")).toHaveLength(4);
    const cleaned = await (
      await acme.send("POST", "/v1/clean?stream=m", "email\nimp@example.com\nfine@example.com\n", {
        "content-type": "text/csv",
      })
    ).text();
    expect(cleaned).toBe("email\nfine@example.com\n");
  });

  it("announces ids as strings to webhooks, as the API shows them (PGlite reads bigint as a number)", async () => {
    await subscribeToAll(t.db, "acme");
    const put = await acme.send("PUT", `/v1/suppressions/${enc("ids@example.com")}`, { stream: "m" });
    expect(put.status).toBe(201);
    const { id } = await put.json();
    expect(typeof id).toBe("string");
    expect((await acme.send("DELETE", `/v1/suppressions/${enc("ids@example.com")}`)).status).toBe(200);
    const announced = (await pendingOutbox(t.db)).filter((o) => o.payload.address === "ids@example.com");
    expect(announced.map((o) => [o.type, o.payload.id, o.payload.eventIds])).toEqual([
      ["suppression.added", id, []],
      ["suppression.removed", id, undefined],
    ]);
  });
});
