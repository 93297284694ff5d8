// Many rows in one statement as one JSON parameter, unpacked by json_to_recordset, rather than as a VALUES list
// of a parameter per column: the worker spends a third less CPU on such a statement (building, serialising),
// and PostgreSQL about the same. `ord` keeps the list's order (inserted in it, ids ascending, as VALUES would).
import { sql, type RawBuilder } from "kysely";

/** The columns of a table that rows are given for, with their PostgreSQL types, in the order of the rows. */
export class JsonRows {
  /** The column names, comma-separated, for the INSERT's column list and its SELECT. */
  readonly names: RawBuilder<unknown>;
  private readonly types: RawBuilder<unknown>;

  constructor(columns: readonly (readonly [name: string, type: string])[]) {
    this.names = sql.raw(columns.map(([c]) => c).join(", "));
    this.types = sql.raw(columns.map(([c, t]) => `${c} ${t}`).join(", "));
  }

  /** `rows` (objects keyed by column) as a FROM item `alias`, its columns and `ord` (the place in the list). */
  from(alias: string, rows: unknown[]): RawBuilder<unknown> {
    return sql`rows from (json_to_recordset(${JSON.stringify(rows)}::json) as (${this.types}))
           with ordinality as ${sql.raw(alias)}(${this.names}, ord)`;
  }
}
