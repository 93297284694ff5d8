// Streams paused by a rule's pause level or by hand (migration 0017), for one provider ('' = all).
import { sql, type Selectable } from "kysely";
import type { ActivePause } from "../core/alerts/pause.js";
import type { Db } from "./db.js";
import type { StreamPausesTable } from "./schema.js";

export type PauseRow = Selectable<StreamPausesTable>;

export type { ActivePause };

const toActive = (r: PauseRow): ActivePause => ({
  stream: r.stream,
  provider: r.provider === "" ? null : r.provider,
  since: new Date(r.since),
  reason: r.reason,
  incidentId: r.incident_id === null ? null : String(r.incident_id),
  by: r.by === "rule" ? "rule" : "hand",
  note: r.note,
});

/** The tenant's pauses in force, by stream then provider (every provider first). */
export async function activePauses(db: Db, tenantId: string): Promise<ActivePause[]> {
  const rows = await db
    .selectFrom("stream_pauses")
    .selectAll()
    .where("tenant", "=", tenantId)
    .where("resumed_at", "is", null)
    .orderBy("stream")
    .orderBy("provider")
    .execute();
  return rows.map(toActive);
}

/** Every tenant's pauses in force (the lookup servers' cache), by tenant. */
export async function allActivePauses(db: Db): Promise<Map<string, ActivePause[]>> {
  const rows = await db
    .selectFrom("stream_pauses")
    .selectAll()
    .where("resumed_at", "is", null)
    .orderBy("tenant")
    .orderBy("stream")
    .orderBy("provider")
    .execute();
  const out = new Map<string, ActivePause[]>();
  for (const r of rows) {
    const list = out.get(r.tenant) ?? [];
    list.push(toActive(r));
    out.set(r.tenant, list);
  }
  return out;
}

/** Pause a stream (for `provider`, or all when null); undefined when a pause of that scope is already in force. */
export async function pauseStream(
  db: Db,
  p: {
    tenant: string;
    stream: string;
    provider: string | null;
    reason: string;
    incidentId: string | null;
    by: "rule" | "hand";
    note: string | null;
    now: Date;
  },
): Promise<ActivePause | undefined> {
  const row = await db
    .insertInto("stream_pauses")
    .values({
      tenant: p.tenant,
      stream: p.stream,
      provider: p.provider ?? "",
      since: p.now,
      reason: p.reason,
      incident_id: p.incidentId,
      by: p.by,
      note: p.note,
    })
    .onConflict((oc) =>
      oc.columns(["tenant", "stream", "provider"]).where("resumed_at", "is", null).doNothing(),
    )
    .returningAll()
    .executeTakeFirst();
  return row && toActive(row);
}

/**
 * Resume pauses in force: of one stream (`provider` undefined: each of its pauses; null: the every-provider
 * one; a name: that provider's), or those an incident made. Returns the pauses resumed.
 */
export async function resumePauses(
  db: Db,
  r: {
    tenant: string;
    stream?: string;
    provider?: string | null;
    incidentId?: string;
    by: string;
    now: Date;
  },
): Promise<ActivePause[]> {
  let q = db
    .updateTable("stream_pauses")
    .set({ resumed_at: r.now, resumed_by: r.by })
    .where("tenant", "=", r.tenant)
    .where("resumed_at", "is", null);
  if (r.stream !== undefined) q = q.where("stream", "=", r.stream);
  if (r.provider !== undefined) q = q.where("provider", "=", r.provider ?? "");
  if (r.incidentId !== undefined) q = q.where("incident_id", "=", r.incidentId);
  const rows = await q.returningAll().execute();
  return rows.map(toActive);
}

/** Streams the tenant has had pauses on (so that a paused stream is listed even if nothing was sent in it). */
export async function pausedStreamNames(db: Db, tenantId: string): Promise<string[]> {
  const rows = await db
    .selectFrom("stream_pauses")
    .select("stream")
    .distinct()
    .where("tenant", "=", tenantId)
    .where("resumed_at", "is", null)
    .execute();
  return rows.map((r) => r.stream);
}

/**
 * Pauses resumed before `before` (each row is a pause's history: when, why, by whom, until when), in batches of
 * rows locked with SKIP LOCKED (several processes share the work). A pause in force is never deleted, however old.
 * Returns how many went.
 */
export async function purgeResumedPauses(db: Db, before: Date): Promise<number> {
  const BATCH = 1_000;
  let total = 0;
  for (;;) {
    const r = await sql<{ n: string }>`
      with gone as (
        delete from stream_pauses where id in (
          select id from stream_pauses where resumed_at is not null and resumed_at < ${before}
           limit ${BATCH} for update skip locked)
        returning 1)
      select count(*)::text as n from gone`.execute(db);
    const n = Number(r.rows[0]?.n ?? 0);
    total += n;
    if (n < BATCH) return total;
  }
}
