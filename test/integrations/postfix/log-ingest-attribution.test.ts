// `rebound ingest postfix-log` on real PostgreSQL: a mail sent with a signed return path (VERP) as its envelope
// sender is attributed to the tenant and stream the path names, for the recipient the path was signed for only;
// another recipient of the same mail, a forged path or none fall back to the sender map, then the defaults. A
// bounce's attribution is its event's; a delivery's (counted, no event) is the rollups' key it is counted under.
import { Readable } from "node:stream";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { ingestPostfixLog } from "../../../src/integrations/postfix/log-ingest.js";
import type { LogAttribution } from "../../../src/integrations/postfix/log-events.js";
import { forgedVerp, VERP_KEY, verp } from "../../e2e/fixtures.js";
import { createTestDb, type TestDb } from "../../helpers/db.js";
import { ingestDeps, postfixMail, rollupsByStream } from "./log-fixtures.js";

const attribution: LogAttribution = {
  verpKeys: [VERP_KEY],
  // The bounce domain's paths that do not verify land in its mapped stream; other senders in the default one.
  senderStreams: new Map([["bounces.example.com", "unsigned"]]),
  tenant: "acme",
  defaultTenant: "house",
  defaultStream: "general",
  caseSensitiveLocalPart: false,
};

let db: TestDb;
beforeEach(async () => {
  await db?.drop();
  db = await createTestDb();
});
afterAll(async () => {
  await db?.drop();
});

const mail = postfixMail;

async function ingest(lines: string[]) {
  return ingestPostfixLog(
    ingestDeps(db.db),
    { stream: Readable.from([lines.join("\n") + "\n"]) },
    { attribution },
  );
}

const recorded = async () =>
  Object.fromEntries(
    (
      await db.db
        .selectFrom("events")
        .select(["address", "tenant", "stream", "kind", "verp_key_id"])
        .execute()
    ).map((e) => [e.address, `${e.kind} ${e.tenant}/${e.stream} key=${e.verp_key_id ?? "-"}`]),
  );
/** The hourly rollups' counters by tenant/stream. */
const rolled = () => rollupsByStream(db.db);

describe("ingest postfix-log: attribution by signed return path", () => {
  it("gives the path's tenant and stream to the recipient it was signed for, and not to another recipient of the same path", async () => {
    const path = verp("dana@example.org", "newsletter", "globex");
    expect(path).toMatch(/^r=dana=example\.org=newsletter\.globex=k1[a-z2-7]{8}@bounces\.example\.com$/);
    const c = await ingest(
      mail("AB10001", path, [
        ["dana@example.org", "bounced"],
        ["erik@example.org", "sent"],
      ]),
    );
    expect(c).toMatchObject({ sent: 1, bounced: 1, events: 1 });
    expect(await recorded()).toEqual({ "dana@example.org": "bounce globex/newsletter key=k1" });
    // The path names dana, not erik: erik's delivery counted in the sender map's stream for the bounce domain,
    // the log's tenant.
    expect(await rolled()).toEqual({
      "globex/newsletter": { sent: 1, delivered: 0, hard: 1 },
      "acme/unsigned": { sent: 1, delivered: 1, hard: 0 },
    });
    // The hard bounce suppressed dana in the path's stream.
    const s = await db.db.selectFrom("suppressions").select(["address", "stream", "tenant"]).execute();
    expect(s).toEqual([{ address: "dana@example.org", stream: "newsletter", tenant: "globex" }]);
  });

  it("gives a path that names no tenant the default tenant, and verifies the hashed form against the recipient", async () => {
    const long = `${"a-very-long-local-part-".repeat(2)}frank@example.org`;
    const hashed = verp(long, "receipts", null);
    expect(hashed).toMatch(/^h=receipts=k1/);
    // gina@'s delivery counted under the path's stream; the long address bounced (an event, with its key).
    await ingest([
      ...mail("AB10002", verp("gina@example.org", "alerts", null), [["gina@example.org", "sent"]]),
      ...mail("AB10003", hashed, [[long, "bounced"]]),
    ]);
    expect(await recorded()).toEqual({ [long]: "bounce house/receipts key=k1" });
    expect(await rolled()).toEqual({
      "house/alerts": { sent: 1, delivered: 1, hard: 0 },
      "house/receipts": { sent: 1, delivered: 0, hard: 1 },
    });
  });

  it("falls back to the sender map for a forged path, and to the default stream for a plain sender", async () => {
    await ingest([
      ...mail("AB10004", forgedVerp("hana@example.org", "newsletter", "globex"), [
        ["hana@example.org", "sent"],
      ]),
      ...mail("AB10005", "news@shop.example", [["ivan@example.org", "sent"]]),
    ]);
    expect(await recorded()).toEqual({});
    expect(await rolled()).toEqual({
      "acme/unsigned": { sent: 1, delivered: 1, hard: 0 },
      "acme/general": { sent: 1, delivered: 1, hard: 0 },
    });
  });
});
