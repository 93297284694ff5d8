// Named prepared statements for the INSERTs every mail goes through. PostgreSQL parses, analyses and plans a
// statement sent without a name each time it runs: measured on bench/intake at 2,000 mails/s, a quarter of its CPU.
// A statement whose text starts with PREPARED is prepared once per connection under a name and then only bound and
// executed: PostgreSQL plans its first five runs for their parameters, then keeps a generic plan when that costs
// no more.
//
// Only for statements that have one plan whatever their parameters and the tables' sizes: an INSERT of rows
// given as parameters. Not for a statement that reads a table the worker fills (a lookup by key, an UPDATE from a
// list): a generic plan made while the table is young and its statistics small scans it whole, and keeps doing so
// as it grows (measured: the lock, the duplicate lookup and the status update prepared raised PostgreSQL's CPU per
// mail from 0.31 to as much as 0.63 ms). Nor for a text that varies with its input (an IN list): every text is a statement each connection
// keeps.
//
// On PGlite (the embedded database) the mark is a comment and nothing else.
import { sql } from "kysely";
import pg from "pg";

const MARK = "/* prepared */ ";

/** The first thing in a statement's text that is to be prepared: sql`${PREPARED}insert into ...`. */
export const PREPARED = sql.raw(MARK);

/** A statement's text, marked to be prepared (for a text made without kysely's sql tag). */
export const preparedText = (text: string) => MARK + text;

/** Statement names by text: the same text, the same name, on every connection. */
const names = new Map<string, string>();

function nameOf(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `rebound_${names.size + 1}`;
    names.set(text, name);
  }
  return name;
}

/** Whether a statement's text starts with the mark, after the white space a template literal begins with. */
function marked(text: string): boolean {
  let i = 0;
  while (i < text.length && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 10)) i++;
  return text.startsWith(MARK, i);
}

/** pg's client, which sends a marked statement as a named one (pg prepares it on the connection's first use). */
export class PreparingClient extends pg.Client {
  // @ts-expect-error pg's query() is a set of overloads; this one passes every call on, a marked text named.
  override query(config: unknown, ...rest: unknown[]) {
    const query = super.query as (...args: unknown[]) => unknown;
    if (typeof config !== "string" || !marked(config)) return query.call(this, config, ...rest);
    // (text, values?, callback?) or (text, callback)
    const values = Array.isArray(rest[0]) ? (rest.shift() as unknown[]) : undefined;
    return query.call(this, { name: nameOf(config), text: config, values }, ...rest);
  }
}
