// The outbox holds rows only for tenants with a live endpoint subscribed to the row's type.
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testHash as hashAddress } from "../helpers/db.js";
import { insertEventWithOutbox, mailEvents } from "../../src/store/events.js";
import { insertMail } from "../../src/store/mails.js";
import { emitOutbox, pendingOutbox, type OutboxType } from "../../src/store/outbox.js";
import { deferred, writeDeferred } from "../../src/store/suppressions.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { subscribeToAll } from "../helpers/webhooks.js";

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
  await subscribeToAll(t.db, "subscribed");
  await subscribeToAll(t.db, "complaints-only", ["complaint"]);
  const off = await subscribeToAll(t.db, "disabled");
  await sql`update webhooks set disabled_at = now() where id = ${off.id}`.execute(t.db);
});
afterAll(async () => t?.drop());

const announced = async () => (await pendingOutbox(t.db, 10_000)).map((o) => [o.tenant, o.type, o.payload.n]);
const ann = (tenant: string, type: OutboxType, n: number) => ({ tenant, type, payload: { n } });

describe("the outbox", () => {
  it("takes an announcement only for a tenant with a live endpoint subscribed to its type, in every write", async () => {
    // One at a time.
    for (const [i, tenant] of ["subscribed", "complaints-only", "disabled", "nobody"].entries())
      await emitOutbox(t.db, ann(tenant, "bounce.hard", i));
    await emitOutbox(t.db, ann("complaints-only", "complaint", 4));
    expect(await announced()).toEqual([
      ["subscribed", "bounce.hard", 0],
      ["complaints-only", "complaint", 4],
    ]);

    // With its event, in one statement: the event is written either way.
    await insertMail(t.db, {
      id: "m-outbox-1",
      mailFrom: "",
      rcptTo: ["b@x"],
      raw: Buffer.from("x"),
      sha256: "o1",
    });
    for (const [i, tenant] of ["subscribed", "nobody"].entries()) {
      const id = await insertEventWithOutbox(
        t.db,
        {
          mailId: "m-outbox-1",
          tenant,
          stream: "marketing",
          address: `${tenant}@example.com`,
          addressHash: hashAddress(`${tenant}@example.com`),
          addressOriginal: `${tenant}@example.com`,
          recipientDomain: "example.com",
          kind: "bounce",
          reason: "userunknown",
          class: "hard",
          verified: true,
          occurredAt: new Date(),
        },
        ann(tenant, "bounce.hard", 10 + i),
      );
      expect(id).not.toBeNull();
    }
    expect(await mailEvents(t.db, "m-outbox-1")).toHaveLength(2);

    // Many in one statement, in order.
    const out = deferred();
    out.announce.push(
      ann("nobody", "bounce.hard", 20),
      ann("subscribed", "bounce.soft", 21),
      ann("complaints-only", "bounce.soft", 22),
      ann("complaints-only", "complaint", 23),
      ann("subscribed", "suppression.added", 24),
    );
    await writeDeferred(t.db, out);

    expect((await announced()).slice(2)).toEqual([
      ["subscribed", "bounce.hard", 10],
      ["subscribed", "bounce.soft", 21],
      ["complaints-only", "complaint", 23],
      ["subscribed", "suppression.added", 24],
    ]);
  });
});
