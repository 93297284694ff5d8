// Re-processing a mail: its old events' ids taken out of the suppressions they were part of.
import { sql, type Kysely } from "kysely";
import type { EventRow } from "./events.js";
import type { Database } from "./schema.js";

/** A suppression the retracted events were part of, after their ids were taken out. */
export interface DetachedSuppression {
  tenant: string;
  stream: string;
  address: string | null;
  eventIds: string[];
  source: string;
}

/** Takes the events' ids (and their count) out of the suppressions that hold them; returns those suppressions. */
export async function detachEvents(db: Kysely<Database>, events: EventRow[]): Promise<DetachedSuppression[]> {
  if (!events.length) return [];
  const ids = events.map((e) => e.id);
  const rows = await db
    .updateTable("suppressions")
    .set({
      event_ids: sql<string[]>`array(select unnest(event_ids) except select unnest(${ids}::bigint[]))`,
      count: sql<number>`greatest(count - cardinality(array(select unnest(event_ids) intersect select unnest(${ids}::bigint[]))), 0)`,
    })
    .where("tenant", "in", [...new Set(events.map((e) => e.tenant))])
    .where("address_hash", "in", [...new Set(events.map((e) => e.address_hash))])
    .where(sql<boolean>`event_ids && ${ids}::bigint[]`)
    .returning(["tenant", "stream", "address", "event_ids", "source"])
    .execute();
  return rows.map((s) => ({
    tenant: s.tenant,
    stream: s.stream,
    address: s.address,
    eventIds: s.event_ids,
    source: s.source,
  }));
}
