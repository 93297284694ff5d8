// Every migration, in order. Listed here (not read from the folder) so that the same list serves the
// compiled build and the tests. Names sort; never edit a migration that has shipped: add one.
import type { Migration } from "kysely";
import * as m0001 from "./0001_initial.js";

export const migrations: Record<string, Migration> = {
  "0001_initial": m0001,
};
