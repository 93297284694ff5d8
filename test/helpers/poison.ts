// A real failure inside a transaction, for tests of what survives one: a trigger that makes the database
// refuse any event for one address, for the time of `fn`.
import { sql, type Kysely } from "kysely";
import type { Database } from "../../src/store/schema.js";

export async function withPoisonedAddress<T>(
  db: Kysely<Database>,
  address: string,
  fn: () => Promise<T>,
): Promise<T> {
  await sql`create function poison() returns trigger language plpgsql as $$
    begin if new.address = ${sql.lit(address)} then raise exception 'poisoned event'; end if; return new; end $$`.execute(
    db,
  );
  await sql`create trigger poison before insert on events for each row execute function poison()`.execute(db);
  try {
    return await fn();
  } finally {
    await sql`drop trigger poison on events`.execute(db);
    await sql`drop function poison()`.execute(db);
  }
}
