// The embedded database lent by its owner over the data folder's socket: a borrower in another process reads
// and writes through it, its transactions are isolated from the owner's, and a borrower killed in the middle
// of one leaves nothing behind and blocks nothing.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { migrateToLatest, openDb, type DbHandle } from "../../src/store/db.js";

const dir = mkdtempSync(join(tmpdir(), "rebound-share-"));
let owner: DbHandle;
beforeAll(async () => {
  owner = await openDb({ dataDir: dir, share: true });
  await migrateToLatest(owner.db);
  await sql`create table lent (v text)`.execute(owner.db);
}, 60_000);
afterAll(async () => {
  await owner?.close();
  rmSync(dir, { recursive: true, force: true });
});

const share = fileURLToPath(new URL("../../src/store/embedded-share.ts", import.meta.url));

/** A borrower process: inserts `value` in a transaction, says so, then waits (or commits when `commit`). */
function borrower(value: string, commit: boolean) {
  const script = `
    const { borrowEmbeddedDb, shareSocketPath } = await import(${JSON.stringify(share)});
    const pool = await borrowEmbeddedDb(shareSocketPath(${JSON.stringify(dir)}));
    if (!pool) { console.log("no owner"); process.exit(2); }
    const c = await pool.connect();
    await c.query("begin");
    await c.query("insert into lent (v) values ($1)", [${JSON.stringify(value)}]);
    const { rows } = await c.query("select count(*)::int as n from lent where v = $1", [${JSON.stringify(value)}]);
    console.log("inside " + rows[0].n);
    if (${commit}) { await c.query("commit"); c.release(); console.log("committed"); setTimeout(() => process.exit(0), 50); }
    else setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  const seen = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => out.includes(text) && resolve();
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        check();
      });
      child.once("exit", () => (out.includes(text) ? resolve() : reject(new Error(`borrower: ${out}`))));
      check();
    });
  return { child, seen };
}

it("lends the database to another process, whose committed writes the owner sees", async () => {
  const b = borrower("committed", true);
  await b.seen("committed");
  const { rows } = await sql<{ v: string }>`select v from lent`.execute(owner.db);
  expect(rows.map((r) => r.v)).toEqual(["committed"]);
}, 60_000);

it("rolls back what a borrower killed in a transaction left open, and the owner goes on", async () => {
  const b = borrower("killed", false);
  await b.seen("inside 1");
  const exited = new Promise((r) => b.child.once("exit", r));
  b.child.kill("SIGKILL");
  await exited;
  // The owner's next statement is not blocked by the dead borrower's transaction, and sees none of it.
  const { rows } = await sql<{ v: string }>`select v from lent order by v`.execute(owner.db);
  expect(rows.map((r) => r.v)).toEqual(["committed"]);
  await sql`insert into lent (v) values ('after')`.execute(owner.db);
  const after = await sql<{ n: number }>`select count(*)::int as n from lent`.execute(owner.db);
  expect(after.rows[0]?.n).toBe(2);
}, 60_000);
