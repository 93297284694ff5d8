import { sql, type Kysely } from "kysely";

// Incidents updated while they last, scoped by sending domain, and kept for a while (docs/monitoring.md):
// - events.sending_domain: the domain the returned mail was sent from (the original's From, else the signed
//   return path's domain); null when unknown and on every event from before 0023. A nullable column without a
//   default: no rewrite of the table.
// - incidents.noted_value / noted_updates: the figure at the last entry of its history, and how many `updated`
//   entries it has (bounded), so that an update is recorded when the figure moves materially, not every round.
// - incidents.critical_since: since when the incident has been critical or pause (null while a warning): an
//   escalation route's delay counts from then, not from its opening as a warning.
// - incident_history.value: the figure at that moment (opened, updated, escalated, de-escalated).
// - incidents_resolved_idx: the retention pass finds resolved incidents past REBOUND_INCIDENT_RETENTION_DAYS.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table events add column sending_domain text`.execute(db);
  await sql`alter table incidents add column noted_value double precision`.execute(db);
  await sql`alter table incidents add column noted_updates integer not null default 0`.execute(db);
  await sql`alter table incidents add column critical_since timestamptz`.execute(db);
  await sql`update incidents set noted_value = value,
              critical_since = case when severity in ('critical', 'pause') then opened_at end`.execute(db);
  await sql`alter table incident_history add column value double precision`.execute(db);
  await sql`create index incidents_resolved_idx on incidents (resolved_at) where status = 'resolved'`.execute(
    db,
  );
}

export async function down(): Promise<void> {
  throw new Error("migrations are forward-only");
}
